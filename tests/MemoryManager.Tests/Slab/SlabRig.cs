using System;
using System.Runtime.InteropServices;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Slab;
using Xunit;

namespace MemoryManager.Tests.Slab
{
    /// <summary>A machine with real memory behind its pages (one ZONE_NORMAL at 4 GiB) and the object heap over it.</summary>
    public sealed unsafe class SlabRig : IDisposable
    {
        public readonly Machine M;
        public readonly SlabAllocator Slab;
        public TaskContext Task = new TaskContext(100, "test", TaskFlags.None);

        public SlabRig(ulong sizeMiB = 32, bool pcp = true, bool poison = true)
        {
            var map = new MemoryMap();
            Assert.Equal(MmResult.Ok, map.Add(4UL << 30, sizeMiB << 20));
            M = new Machine(map, new AllocatorOptions { PerCpuLists = pcp, PoisonFreePages = poison }, realMemory: true);
            Assert.Equal(SlabResult.Ok, SlabAllocator.Create(M.Pa, out Slab));
            Assert.Same(M.Log, Slab.Log);
        }

        public PageAllocator Pa => M.Pa;
        public StringSink Log => M.Log;

        /// <summary>Free pages as the buddy allocator counts them, per-cpu lists included.</summary>
        public ulong FreePages => Pa.NrFreePages + Pa.PcpPages;

        public byte* Alloc(ulong size, Gfp gfp = Gfp.GFP_KERNEL)
        {
            byte* p = (byte*)Slab.Alloc((nuint)size, gfp, ref Task, out SlabResult r);
            Assert.Equal(SlabResult.Ok, r);
            Assert.True(p != null);
            return p;
        }

        public void Free(void* p) => Assert.Equal(SlabResult.Ok, Slab.Free(p));

        public string Invariants()
        {
            var s = new StringSink();
            bool ok = Slab.CheckInvariants(s);
            ok &= Pa.CheckInvariants(s, false);
            return ok ? "" : s.ToString();
        }

        public void AssertInvariants() => Assert.Equal("", Invariants());

        public string SlabInfo() { var s = new StringSink(); Slab.WriteSlabInfo(s); return s.ToString(); }

        /// <summary>
        /// Everything the heap and the page allocator own, byte for byte: memmap, zones,
        /// counters, the page contents and every cache. RejectedFrees is left out (a refusal counts).
        /// </summary>
        public byte[] Snapshot()
        {
            byte[] pa = M.Snapshot();
            ulong bytes = (Pa.MaxPfn - Pa.MinPfn) * MmConstants.PageSize;
            int cacheBytes = SlabAllocator.CacheCount * sizeof(KmemCache);
            var r = new byte[pa.Length + (long)bytes + cacheBytes + 8 * 8];
            pa.CopyTo(r, 0);
            long at = pa.Length;
            new ReadOnlySpan<byte>(Pa.PageAddress(Pa.MinPfn), (int)bytes).CopyTo(r.AsSpan((int)at));
            at += (long)bytes;
            for (int i = 0; i < SlabAllocator.CacheCount; i++)
            {
                KmemCache c = Slab.Cache(i);
                new ReadOnlySpan<byte>(&c, sizeof(KmemCache)).CopyTo(r.AsSpan((int)at));
                at += sizeof(KmemCache);
            }
            ulong[] scalars = { Slab.FreelistRepairs, Slab.AtomicDowngrades, Slab.LargeAllocs, Slab.LargeFrees, Slab.LargeFailed, Slab.LargeObjects, Slab.LargePages, (ulong)Slab.MaxEmptySlabs };
            for (int i = 0; i < scalars.Length; i++) { BitConverter.GetBytes(scalars[i]).CopyTo(r, at); at += 8; }
            return r;
        }

        public void Dispose() => M.Dispose();
    }
}
