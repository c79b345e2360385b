using System;
using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Churn on the half-used, fragmented zone: each step frees a randomly chosen live block
    /// and allocates a new block of the same order in its place (order mix 0/1/2/3 =
    /// 75/10/10/5 % of blocks), so the zone stays half used. Reported per step (one free +
    /// one allocation), Steps steps per invocation, against the RAT in the same run.
    /// </summary>
    [MemoryDiagnoser]
    public unsafe class ChurnBenchmarks
    {
        public const int Steps = 64;

        [ParamsSource(nameof(Sizes))]
        public int SizeMiB;
        public static int[] Sizes => Machine.SizesMiB;

        private PageAllocator _buddy;
        private byte* _memmap;
        private RamAllocationTable _rat;
        private byte* _table;
        private LiveBlocks _live;
        private TaskContext _task;
        private Rng _rng;

        [GlobalSetup(Targets = new[] { nameof(Buddy_Churn), nameof(Memmap_RandomTouch) })]
        public void SetupBuddy()
        {
            _task = Machine.Task();
            _buddy = HalfUsedZone.BuildBuddy(SizeMiB, true, out _memmap, out _live);
            _rng = new Rng(0xC4A2);
        }

        [GlobalSetup(Target = nameof(Rat_Churn))]
        public void SetupRat()
        {
            _rat = HalfUsedZone.BuildRat(SizeMiB, out _table, out _live);
            _rng = new Rng(0xC4A2);
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            if (_buddy != null && !_buddy.CheckInvariants(null))
                Console.WriteLine("// WARNING: buddy invariants broken after the benchmark");
            if (_table != null && _rat.FreePages != _rat.TotalPages - _live.Pages)
                Console.WriteLine("// WARNING: RAT free count drifted during the benchmark");
            _buddy = null;
            Machine.Release(ref _memmap);
            Machine.Release(ref _table);
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = Steps)]
        public void Rat_Churn()
        {
            ulong[] start = _live.Start;
            byte[] order = _live.Order;
            for (int s = 0; s < Steps; s++)
            {
                int j = _rng.Below(_live.Count);
                _rat.Free(start[j], out _);
                ulong p = _rat.AllocPages(RatPageType.HeapSmall, 1UL << order[j]);
                if (p == RamAllocationTable.NoPage) throw new InvalidOperationException("RAT churn ran out of memory");
                start[j] = p;
            }
        }

        [Benchmark(OperationsPerInvoke = Steps)]
        public void Buddy_Churn()
        {
            ulong[] start = _live.Start;
            byte[] order = _live.Order;
            for (int s = 0; s < Steps; s++)
            {
                int j = _rng.Below(_live.Count);
                _buddy.FreePages(start[j], order[j], Machine.Pid);
                ulong pfn = _buddy.AllocPages(ref _task, Gfp.GFP_KERNEL, order[j]);
                if (pfn == PageAllocator.NoPfn) throw new InvalidOperationException("buddy churn ran out of memory");
                start[j] = pfn;
            }
        }

        /// <summary>
        /// Control, not an allocator: per step, read the descriptor of a random live block and
        /// its buddy's, as a free and its merge check do. It costs what two cache/TLB misses on
        /// a memmap of this size cost, with no allocator logic: the floor under Buddy_Churn.
        /// </summary>
        [Benchmark(OperationsPerInvoke = Steps)]
        public int Memmap_RandomTouch()
        {
            ulong[] start = _live.Start;
            byte[] order = _live.Order;
            int sum = 0;
            for (int s = 0; s < Steps; s++)
            {
                int j = _rng.Below(_live.Count);
                Page* p = _buddy.PfnToPage(start[j]);
                Page* b = _buddy.PfnToPage(start[j] ^ (1UL << order[j]));
                sum += p->RefCount;
                if (b != null) sum += b->Order;
            }
            return sum;
        }
    }
}
