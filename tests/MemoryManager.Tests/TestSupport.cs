using System;
using System.Runtime.InteropServices;
using System.Text;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>Host-only ITextSink over a StringBuilder.</summary>
    public sealed class StringSink : ITextSink
    {
        private readonly StringBuilder _sb = new StringBuilder();
        public void Write(string s) => _sb.Append(s);
        public void Write(char c) => _sb.Append(c);
        public override string ToString() => _sb.ToString();
        public void Clear() => _sb.Clear();
        public bool Contains(string s) => _sb.ToString().Contains(s, StringComparison.Ordinal);
    }

    /// <summary>A machine for tests: a memory map, native memory for the memmap (and optionally the pages), and the allocator over them.</summary>
    public sealed unsafe class Machine : IDisposable
    {
        public const ulong KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

        public readonly PageAllocator Pa;
        public readonly StringSink Log = new StringSink();
        private Page* _memmap;
        private byte* _phys;
        public TaskContext Task = new TaskContext(100, "test", TaskFlags.None);

        public Machine(MemoryMap map, AllocatorOptions o, bool realMemory = false)
        {
            ulong bytes = PageAllocator.MemmapBytes(map);
            Assert.True(bytes > 0, "empty memory map");
            _memmap = (Page*)NativeMemory.AllocZeroed((nuint)bytes);
            byte* physBase = null;
            if (realMemory)
            {
                ulong pages = bytes / (ulong)sizeof(Page);
                _phys = (byte*)NativeMemory.AllocZeroed((nuint)(pages * MmConstants.PageSize));
                ulong minPfn = ulong.MaxValue;
                for (int i = 0; i < map.Count; i++) { ulong s = PageAllocator.PfnUp(map[i].Start); if (PageAllocator.PfnDown(map[i].End) > s && s < minPfn) minPfn = s; }
                physBase = _phys - (long)(minPfn * MmConstants.PageSize);
            }
            MmResult r = PageAllocator.Create(map, _memmap, physBase, o, out Pa);
            Assert.Equal(MmResult.Ok, r);
            Pa.Log = Log;
        }

        /// <summary>One node, one usable range [start, start+size).</summary>
        public static Machine Flat(ulong size, ulong start = 0, bool pcp = true, bool realMemory = false, int minFreeKbytes = 0)
        {
            var map = new MemoryMap();
            Assert.Equal(MmResult.Ok, map.Add(start, size));
            var o = new AllocatorOptions { PerCpuLists = pcp, MinFreeKbytesOverride = minFreeKbytes, PoisonFreePages = realMemory };
            return new Machine(map, o, realMemory);
        }

        public ulong Alloc(Gfp gfp, int order) => Pa.AllocPages(ref Task, gfp, order);
        public MmResult Free(ulong pfn, int order) => Pa.FreePages(pfn, order, Task.Pid);

        /// <summary>Everything the allocator owns, byte for byte: the memmap, every zone, the counters.</summary>
        public byte[] Snapshot()
        {
            ulong bytes = (Pa.MaxPfn - Pa.MinPfn) * (ulong)sizeof(Page);
            var zoneBytes = Pa.ZoneCount * sizeof(Zone);
            var r = new byte[bytes + (ulong)zoneBytes + (ulong)sizeof(VmStat) + 8];
            new ReadOnlySpan<byte>(_memmap, (int)bytes).CopyTo(r);
            int at = (int)bytes;
            for (int i = 0; i < Pa.ZoneCount; i++)
            {
                Zone z = Pa.ZoneAt(i);
                new ReadOnlySpan<byte>(&z, sizeof(Zone)).CopyTo(r.AsSpan(at));
                at += sizeof(Zone);
            }
            VmStat st = Pa.Stat;
            new ReadOnlySpan<byte>(&st, sizeof(VmStat)).CopyTo(r.AsSpan(at));
            at += sizeof(VmStat);
            BitConverter.GetBytes(Pa.NrFreePages).CopyTo(r, at);
            return r;
        }

        public string Invariants()
        {
            var s = new StringSink();
            return Pa.CheckInvariants(s) ? "" : s.ToString();
        }

        public void AssertInvariants() => Assert.Equal("", Invariants());

        public string BuddyInfo() { var s = new StringSink(); Pa.WriteBuddyInfo(s); return s.ToString(); }
        public string ZoneInfo() { var s = new StringSink(); Pa.WriteZoneInfo(s); return s.ToString(); }
        public string VmStat() { var s = new StringSink(); Pa.WriteVmStat(s); return s.ToString(); }
        public string MemInfo() { var s = new StringSink(); Pa.WriteMemInfo(s); return s.ToString(); }

        public ref Zone Zone(ZoneType t, int nid = 0) => ref Pa.GetZone(nid, t);

        /// <summary>
        /// Takes pages out of zone t (largest blocks first, then single pages) with a PF_MEMALLOC
        /// copy of Task until the zone's buddy free pages are exactly <paramref name="target"/>
        /// (per-cpu lists drained). The blocks are charged to Task.Pid and listed in <paramref name="held"/>.
        /// </summary>
        public void DrainZoneTo(ZoneType t, long target, System.Collections.Generic.List<(ulong pfn, int order)> held)
        {
            var taker = Task;
            taker.Flags |= TaskFlags.MemAlloc;
            Gfp g = Gfp.NoWarn | Gfp.NoKswapd | (t == ZoneType.Dma ? Gfp.Dma : t == ZoneType.Dma32 ? Gfp.Dma32 : Gfp.None);
            var elsewhere = new System.Collections.Generic.List<(ulong pfn, int order)>();
            for (int order = MmConstants.LargestOrder; order >= 0; order--)
            {
                while (true)
                {
                    Pa.DrainPerCpuLists();
                    // Big blocks first, but the last 1024 pages one by one so Release can return exact counts.
                    if (Zone(t).NrFree - (1L << order) < target + (order == 0 ? 0 : 1024)) break;
                    ulong pfn = Pa.AllocPages(ref taker, g, order);
                    if (pfn == PageAllocator.NoPfn) break;
                    if (Pa.PfnToPage(pfn)->Zone != (byte)t) { elsewhere.Add((pfn, order)); continue; }   // fell back to a lower zone: give back later
                    held.Add((pfn, order));
                }
            }
            foreach (var (pfn, order) in elsewhere) Assert.Equal(MmResult.Ok, Free(pfn, order));
            Pa.DrainPerCpuLists();
            Assert.Equal(target, Zone(t).NrFree);
        }

        /// <summary>Frees held blocks from the end of the list (the smallest, taken last) until at least <paramref name="pages"/> pages are back.</summary>
        public void Release(System.Collections.Generic.List<(ulong pfn, int order)> held, long pages)
        {
            while (pages > 0 && held.Count > 0)
            {
                var (pfn, order) = held[held.Count - 1];
                held.RemoveAt(held.Count - 1);
                Assert.Equal(MmResult.Ok, Free(pfn, order));
                pages -= 1L << order;
            }
        }

        public void Dispose()
        {
            if (_memmap != null) { NativeMemory.Free(_memmap); _memmap = null; }
            if (_phys != null) { NativeMemory.Free(_phys); _phys = null; }
        }
    }
}
