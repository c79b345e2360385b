using System;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Slab;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Small-object kmalloc + kfree pairs on the object heap (SlabAllocator), 64 MiB of real
    /// memory at 4 GiB (one ZONE_NORMAL), against a baseline of one RAT page allocation + free
    /// per object (what a page-granular heap pays; the Cosmos-style small heap is kernel-only,
    /// MemoryManager/Common has only its page layer) and the buddy's order-0 pair.
    /// The heap is warmed first: 20 000 objects of mixed sizes allocated, every other one freed,
    /// so the caches have partial slabs with scattered free objects.
    /// </summary>
    [MemoryDiagnoser]
    public unsafe class SlabBenchmarks
    {
        private const int SizeMiB = 64;
        private const int Batch = 64;
        private PageAllocator _pa;
        private SlabAllocator _slab;
        private byte* _memmap, _phys, _table;
        private RamAllocationTable _rat;
        private TaskContext _task;
        private readonly IntPtr[] _batch = new IntPtr[Batch];
        private IntPtr[] _warm;

        [GlobalSetup(Targets = new[] { nameof(Slab_Pair32), nameof(Slab_Pair256), nameof(Slab_Batch64x32), nameof(Buddy_Order0Pair_SlabMachine) })]
        public void SetupSlab()
        {
            var map = Machine.Map(SizeMiB);
            ulong memmapBytes = PageAllocator.MemmapBytes(map);
            _memmap = Machine.Native(memmapBytes);
            new Span<byte>(_memmap, (int)memmapBytes).Clear();
            ulong bytes = (ulong)SizeMiB << 20;
            _phys = Machine.Native(bytes);
            byte* physBase = _phys - (long)Machine.ZoneBase;
            Machine.Check(PageAllocator.Create(map, (Page*)_memmap, physBase, new AllocatorOptions(), out _pa), "PageAllocator.Create");
            if (SlabAllocator.Create(_pa, out _slab) != SlabResult.Ok) throw new InvalidOperationException("SlabAllocator.Create failed");
            _task = Machine.Task();
            var rng = new Rng(0x51AB);
            _warm = new IntPtr[20000];
            for (int i = 0; i < _warm.Length; i++)
            {
                _warm[i] = (IntPtr)_slab.Alloc((nuint)(1 + rng.Below(1024)), Gfp.GFP_KERNEL, ref _task, out SlabResult r);
                if (r != SlabResult.Ok) throw new InvalidOperationException("warm-up allocation failed");
            }
            for (int i = 0; i < _warm.Length; i += 2) _slab.Free((void*)_warm[i]);
        }

        [GlobalSetup(Target = nameof(Rat_PagePerObjectPair))]
        public void SetupRat() => _rat = HalfUsedZone.BuildRat(SizeMiB, out _table, out _);

        [GlobalCleanup]
        public void Cleanup()
        {
            if (_slab != null && !_slab.CheckInvariants(null)) Console.WriteLine("// WARNING: slab invariants broken after the benchmark");
            if (_pa != null && !_pa.CheckInvariants(null)) Console.WriteLine("// WARNING: buddy invariants broken after the benchmark");
            _slab = null;
            _pa = null;
            Machine.Release(ref _memmap);
            Machine.Release(ref _phys);
            Machine.Release(ref _table);
        }

        [Benchmark(Baseline = true)]
        public ulong Rat_PagePerObjectPair()
        {
            ulong p = _rat.AllocPages(RatPageType.HeapSmall, 1);
            _rat.Free(p, out _);
            return p;
        }

        [Benchmark]
        public ulong Buddy_Order0Pair_SlabMachine()
        {
            ulong pfn = _pa.AllocPages(ref _task, Gfp.GFP_KERNEL, 0);
            _pa.FreePages(pfn, 0, Machine.Pid);
            return pfn;
        }

        [Benchmark]
        public IntPtr Slab_Pair32()
        {
            void* p = _slab.Alloc(32, Gfp.GFP_KERNEL, ref _task, out _);
            _slab.Free(p);
            return (IntPtr)p;
        }

        [Benchmark]
        public IntPtr Slab_Pair256()
        {
            void* p = _slab.Alloc(256, Gfp.GFP_KERNEL, ref _task, out _);
            _slab.Free(p);
            return (IntPtr)p;
        }

        /// <summary>64 allocations of 32 B, then their 64 frees; per object (a slab fills and empties along the way).</summary>
        [Benchmark(OperationsPerInvoke = Batch)]
        public IntPtr Slab_Batch64x32()
        {
            for (int i = 0; i < Batch; i++) _batch[i] = (IntPtr)_slab.Alloc(32, Gfp.GFP_KERNEL, ref _task, out _);
            for (int i = 0; i < Batch; i++) _slab.Free((void*)_batch[i]);
            return _batch[0];
        }
    }
}
