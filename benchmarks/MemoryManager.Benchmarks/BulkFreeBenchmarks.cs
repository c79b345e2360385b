using System;
using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Freeing <see cref="Blocks"/> randomly chosen live blocks of the half-used, fragmented zone
    /// (order mix 0/1/2/3 = 75/10/10/5 %, per-cpu lists on): one FreePages call per block (the
    /// baseline) against one FreePagesBulk call for all of them, which prefetches the descriptors
    /// of the blocks ahead. Reported per block. Each iteration is one invocation: its set-up
    /// (not timed) allocates the previous iteration's blocks back (same orders) and draws a new
    /// random set, so every measured free meets descriptors that are not in the caches because
    /// of an earlier iteration.
    /// </summary>
    [MemoryDiagnoser]
    [InvocationCount(1, 1)]
    [WarmupCount(4)]
    [IterationCount(30)]
    public unsafe class BulkFreeBenchmarks
    {
        public const int Blocks = 4096;

        [ParamsSource(nameof(Sizes))]
        public int SizeMiB;
        public static int[] Sizes => Machine.SizesMiB;

        /// <summary>The memmap on 2 MiB pages (as the kernel and Linux map it) or on the host's 4 KiB pages.</summary>
        [Params(false, true)]
        public bool HugeMemmap;

        private PageAllocator _buddy;
        private byte* _memmap;
        private LiveBlocks _live;
        private TaskContext _task;
        private Rng _rng;
        private ulong* _pfns;
        private byte* _orders;
        private int[] _slots;
        private bool[] _chosen;
        private bool _freed;

        [GlobalSetup]
        public void Setup()
        {
            _task = Machine.Task();
            _buddy = HalfUsedZone.BuildBuddy(SizeMiB, true, out _memmap, out _live, HugeMemmap);
            Console.WriteLine("// memmap on " + (HugeMemmap ? "2 MiB" : "4 KiB") + " pages; " + Machine.AnonHugePages());
            _rng = new Rng(0xB01C);
            _pfns = (ulong*)Machine.Native(Blocks * sizeof(ulong));
            _orders = Machine.Native(Blocks);
            _slots = new int[Blocks];
            _chosen = new bool[_live.Count];
            // Each iteration is one call: tier the measured paths up first (tier-0 code inlines
            // nothing), with pauses so the runtime's call counting starts and tier 1 is installed.
            for (int round = 0; round < 3; round++)
            {
                for (int k = 0; k < 40; k++) { Draw(); Free_Bulk(); Draw(); Free_OneByOne(); }
                System.Threading.Thread.Sleep(200);
            }
        }

        [IterationSetup]
        public void Draw()
        {
            if (_freed)
            {
                // The previous iteration's blocks come back (same orders), so the zone stays half used.
                for (int i = 0; i < Blocks; i++)
                {
                    int j = _slots[i];
                    ulong pfn = _buddy.AllocPages(ref _task, Gfp.GFP_KERNEL, _live.Order[j]);
                    if (pfn == PageAllocator.NoPfn) throw new InvalidOperationException("the bulk-free benchmark ran out of memory");
                    _live.Start[j] = pfn;
                    _chosen[j] = false;
                }
            }
            for (int i = 0; i < Blocks; i++)
            {
                int j;
                do j = _rng.Below(_live.Count); while (_chosen[j]);
                _chosen[j] = true;
                _slots[i] = j;
                _pfns[i] = _live.Start[j];
                _orders[i] = _live.Order[j];
            }
            _freed = true;
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            if (_buddy != null && !_buddy.CheckInvariants(null))
                Console.WriteLine("// WARNING: buddy invariants broken after the benchmark");
            _buddy = null;
            Machine.Release(ref _memmap);
            byte* p = (byte*)_pfns; Machine.Release(ref p); _pfns = null;
            Machine.Release(ref _orders);
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = Blocks)]
        public void Free_OneByOne()
        {
            for (int i = 0; i < Blocks; i++)
                if (_buddy.FreePages(_pfns[i], _orders[i], Machine.Pid) != MmResult.Ok)
                    throw new InvalidOperationException("a benchmark block was refused");
        }

        [Benchmark(OperationsPerInvoke = Blocks)]
        public void Free_Bulk()
        {
            if (_buddy.FreePagesBulk(_pfns, _orders, null, Machine.Pid, Blocks, out _) != MmResult.Ok)
                throw new InvalidOperationException("a benchmark block was refused");
        }
    }
}
