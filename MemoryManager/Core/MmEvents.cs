using MemoryManager.Common;

namespace MemoryManager.Core
{
    /// <summary>
    /// What the memory manager tells its host as it happens: kswapd woken and stopped, an OOM
    /// kill, an allocation that stalled in direct reclaim. The memory manager counts each
    /// itself (Kswapd.Wakes and Stops, vmstat's oom_kill and allocstall) and keeps the last of
    /// each; a host that wants more (the kernel wakes its kswapd thread, the simulator keeps a
    /// timeline) installs an implementation as <c>PageAllocator.Events</c>. Called inside the
    /// memory manager's paths: an implementation must not allocate from it or block.
    /// </summary>
    public interface IMmEvents
    {
        /// <summary>wakeup_kswapd() moved a node's kswapd from sleeping or napping to running.</summary>
        void KswapdWoken(KswapdWake e);
        /// <summary>A kswapd step that began running ended napping (the node balanced) or sleeping (the node unreclaimable).</summary>
        void KswapdStopped(KswapdStop e);
        /// <summary>oom_kill_process() killed a process (after its "Killed process" line).</summary>
        void OomKilled(OomKill e);
        /// <summary>An allocation entered direct reclaim (vmstat's allocstall).</summary>
        void AllocStalled(AllocStall e);
    }

    /// <summary>A kswapd wake: the zone the allocator woke it for and that zone's numbers at that moment.</summary>
    public struct KswapdWake
    {
        public int Nid;
        /// <summary>The zone of the wakeup_kswapd call, and the order and classzone of the request.</summary>
        public ZoneType Zone;
        public int Order;
        public ZoneType ClasszoneIdx;
        /// <summary>That zone's free pages and its low and high watermarks.</summary>
        public long Free, Low, High;
        /// <summary>No eligible zone (up to the classzone) passed its low watermark for the request.</summary>
        public bool BelowLow;
    }

    /// <summary>A kswapd stop: the node's zone furthest above its high watermark, with its numbers at that moment.</summary>
    public struct KswapdStop
    {
        public int Nid;
        /// <summary>The zone with the largest margin of free pages over its high watermark.</summary>
        public ZoneType Zone;
        public long Free, Low, High;
        /// <summary>kswapd stopped to nap with the node balanced (pgdat_balanced), not given up after MAX_RECLAIM_RETRIES failures.</summary>
        public bool Balanced;
    }

    /// <summary>An OOM kill: the victim and what it held when it was killed (pages).</summary>
    public struct OomKill
    {
        public int Pid;
        public string Comm;
        public ulong RssAnon, RssFile, SwapEnts;
    }

    /// <summary>An allocation stall: who entered direct reclaim, for what.</summary>
    public struct AllocStall
    {
        public int Pid;
        public string Comm;
        public int Order;
        public Gfp Gfp;
    }
}
