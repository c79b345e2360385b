using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// One allocation and its free, back to back, on the half-used, fragmented zone
    /// (HalfUsedZone), at each memory size. Ratios are against the Cosmos-style RAT in the
    /// same run: category Order0 (one page; the buddy with and without per-cpu lists) and
    /// Order3 (eight contiguous pages). EmptyOrder0 repeats the order-0 pair on memory where
    /// nothing is allocated yet, where the RAT finds page 0 at once.
    /// </summary>
    [MemoryDiagnoser]
    [GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
    [CategoriesColumn]
    public unsafe class PairBenchmarks
    {
        [ParamsSource(nameof(Sizes))]
        public int SizeMiB;
        public static int[] Sizes => Machine.SizesMiB;

        private PageAllocator _buddy;
        private byte* _memmap;
        private RamAllocationTable _rat;
        private byte* _table;
        private TaskContext _task;

        [GlobalSetup(Targets = new[] { nameof(Buddy_Order0Pair_Pcp), nameof(Buddy_Order3Pair) })]
        public void SetupBuddyPcp() => SetupBuddy(true);

        [GlobalSetup(Target = nameof(Buddy_Order0Pair_NoPcp))]
        public void SetupBuddyNoPcp() => SetupBuddy(false);

        private void SetupBuddy(bool pcp)
        {
            _task = Machine.Task();
            _buddy = HalfUsedZone.BuildBuddy(SizeMiB, pcp, out _memmap, out _);
        }

        [GlobalSetup(Targets = new[] { nameof(Rat_Order0Pair), nameof(Rat_Order3Pair) })]
        public void SetupRat() => _rat = HalfUsedZone.BuildRat(SizeMiB, out _table, out _);

        // Category EmptyOrder0: the same pair on memory where nothing is allocated yet.
        [GlobalSetup(Target = nameof(Buddy_Order0Pair_Pcp_Empty))]
        public void SetupEmptyBuddyPcp() { _task = Machine.Task(); _buddy = HalfUsedZone.Fresh(SizeMiB, true, out _memmap); }

        [GlobalSetup(Target = nameof(Buddy_Order0Pair_NoPcp_Empty))]
        public void SetupEmptyBuddyNoPcp() { _task = Machine.Task(); _buddy = HalfUsedZone.Fresh(SizeMiB, false, out _memmap); }

        [GlobalSetup(Target = nameof(Rat_Order0Pair_Empty))]
        public void SetupEmptyRat()
        {
            ulong pages = Machine.Pages(SizeMiB);
            _table = Machine.Native(RamAllocationTable.TableBytes(pages));
            if (RamAllocationTable.Init(_table, pages, false, out _rat) != RatResult.Ok) throw new InvalidOperationException("RAT init failed");
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            if (_buddy != null && !_buddy.CheckInvariants(null))
                Console.WriteLine("// WARNING: buddy invariants broken after the benchmark");
            _buddy = null;
            Machine.Release(ref _memmap);
            Machine.Release(ref _table);
        }

        [Benchmark(Baseline = true), BenchmarkCategory("Order0")]
        public ulong Rat_Order0Pair()
        {
            ulong p = _rat.AllocPages(RatPageType.HeapSmall, 1);
            _rat.Free(p, out _);
            return p;
        }

        [Benchmark, BenchmarkCategory("Order0")]
        public ulong Buddy_Order0Pair_Pcp()
        {
            ulong pfn = _buddy.AllocPages(ref _task, Gfp.GFP_KERNEL, 0);
            _buddy.FreePages(pfn, 0, Machine.Pid);
            return pfn;
        }

        [Benchmark, BenchmarkCategory("Order0")]
        public ulong Buddy_Order0Pair_NoPcp()
        {
            ulong pfn = _buddy.AllocPages(ref _task, Gfp.GFP_KERNEL, 0);
            _buddy.FreePages(pfn, 0, Machine.Pid);
            return pfn;
        }

        [Benchmark(Baseline = true), BenchmarkCategory("Order3")]
        public ulong Rat_Order3Pair()
        {
            ulong p = _rat.AllocPages(RatPageType.HeapSmall, 8);
            _rat.Free(p, out _);
            return p;
        }

        [Benchmark, BenchmarkCategory("Order3")]
        public ulong Buddy_Order3Pair()
        {
            ulong pfn = _buddy.AllocPages(ref _task, Gfp.GFP_KERNEL, 3);
            _buddy.FreePages(pfn, 3, Machine.Pid);
            return pfn;
        }

        [Benchmark(Baseline = true), BenchmarkCategory("EmptyOrder0")]
        public ulong Rat_Order0Pair_Empty() => Rat_Order0Pair();

        [Benchmark, BenchmarkCategory("EmptyOrder0")]
        public ulong Buddy_Order0Pair_Pcp_Empty() => Buddy_Order0Pair_Pcp();

        /// <summary>Without pcp on an empty zone, each allocation splits an order-10 block and each free merges it back.</summary>
        [Benchmark, BenchmarkCategory("EmptyOrder0")]
        public ulong Buddy_Order0Pair_NoPcp_Empty() => Buddy_Order0Pair_NoPcp();
    }
}
