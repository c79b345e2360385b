using System;
using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Tests
{
    /// <summary>Records wakeup_kswapd calls.</summary>
    public sealed class KswapdDouble : IKswapdWaker
    {
        public readonly List<(int nid, ZoneType zone, int order, ZoneType classzone)> Calls = new();
        public void WakeupKswapd(int nid, ZoneType zone, int order, ZoneType classzoneIdx) => Calls.Add((nid, zone, order, classzoneIdx));
    }

    /// <summary>try_to_free_pages double: records the caller's flags; Action decides what happens on call n (1-based) and returns the progress.</summary>
    public sealed class ReclaimDouble : IDirectReclaim
    {
        public int Calls;
        public readonly List<TaskFlags> FlagsSeen = new();
        public readonly List<Gfp> GfpSeen = new();
        public Func<int, ulong> Action = _ => 0;
        public ulong TryToFreePages(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx)
        {
            Calls++;
            FlagsSeen.Add(current.Flags);
            GfpSeen.Add(gfp);
            if (Calls > 1000) throw new InvalidOperationException("direct reclaim called in an endless loop");
            return Action(Calls);
        }
    }

    /// <summary>out_of_memory double: Action decides on call n whether a task was killed (and may free pages).</summary>
    public sealed class OomDouble : IOomKiller
    {
        public int Calls;
        public readonly List<(Gfp gfp, int order, ZoneType high)> Args = new();
        public Func<int, bool> Action = _ => false;
        public bool OutOfMemory(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx)
        {
            Calls++;
            Args.Add((gfp, order, highZoneIdx));
            if (Calls > 1000) throw new InvalidOperationException("OOM killer called in an endless loop");
            return Action(Calls);
        }
    }

    /// <summary>congestion_wait double: records the ticks; Action runs on call n (e.g. frees pages as writeback would).</summary>
    public sealed class CongestionDouble : ICongestionWait
    {
        public int Calls;
        public readonly List<uint> Ticks = new();
        public Action<int> Action = _ => { };
        public void CongestionWait(ref TaskContext current, uint ticks)
        {
            Calls++;
            Ticks.Add(ticks);
            if (Calls > 1000) throw new InvalidOperationException("congestion_wait called in an endless loop");
            Action(Calls);
        }
    }

    /// <summary>Records the memory manager's events (IMmEvents) in the order they come.</summary>
    public sealed class EventsDouble : IMmEvents
    {
        public readonly List<KswapdWake> Wakes = new();
        public readonly List<KswapdStop> Stops = new();
        public readonly List<OomKill> Kills = new();
        public readonly List<AllocStall> Stalls = new();
        public void KswapdWoken(KswapdWake e) => Wakes.Add(e);
        public void KswapdStopped(KswapdStop e) => Stops.Add(e);
        public void OomKilled(OomKill e) => Kills.Add(e);
        public void AllocStalled(AllocStall e) => Stalls.Add(e);
    }
}
