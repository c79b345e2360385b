using System;
using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Processes;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Process exit of <see cref="ProcessMiB"/> of anonymous pages scattered over a 16 GiB zone
    /// in the half-used, fragmented state (descriptors only, per-cpu lists on): ExitProcess,
    /// which zaps the page table in batches (PageBatch + FreePagesBulk, descriptors and LRU
    /// neighbours prefetched ahead), against munmap of every page one by one (Unmap, one
    /// FreePages each) followed by ExitProcess (the baseline: the path exit took before).
    /// Reported per page. Each iteration is one exit; its set-up (not timed) spawns the process
    /// and faults every page in.
    /// </summary>
    [MemoryDiagnoser]
    [InvocationCount(1, 1)]
    [WarmupCount(2)]
    [IterationCount(12)]
    public unsafe class ExitBenchmarks
    {
        public const int ZoneMiB = 16384;

        [Params(64, 1024)]
        public int ProcessMiB;

        private PageAllocator _buddy;
        private byte* _memmap;
        private Vm _vm;
        private int _pid, _pages;

        [GlobalSetup]
        public void Setup()
        {
            _buddy = HalfUsedZone.BuildBuddy(ZoneMiB, true, out _memmap, out _);
            _pages = ProcessMiB * 256;
            var o = VmOptions.Default;
            o.MaxProcesses = 4;
            o.VpagesPerProcess = _pages;
            o.MaxFiles = 0;
            o.MaxFilePages = 0;
            Machine.Check(Vm.Create(_buddy, null, o, out _vm), "Vm.Create");
            _buddy.Kswapd = null;
            // Each iteration is one exit: tier the measured paths up first on small processes.
            for (int round = 0; round < 3; round++)
            {
                for (int k = 0; k < 40; k++)
                {
                    Spawn(2048); Exit_PageByPage();
                    Spawn(2048); Exit_Batched();
                }
                System.Threading.Thread.Sleep(200);
            }
        }

        private void Spawn(int pages)
        {
            if (_vm.Procs.Spawn("bench", TaskFlags.None, 0, out _pid) != ProcResult.Ok) throw new InvalidOperationException("spawn failed");
            for (int v = 0; v < pages; v++)
                if (_vm.Memory.TouchAnon(_pid, v, true, out _) != ProcResult.Ok) throw new InvalidOperationException("fault failed");
        }

        [IterationSetup]
        public void Fault() => Spawn(_pages);

        [GlobalCleanup]
        public void Cleanup()
        {
            if (_buddy != null && !_buddy.CheckInvariants(null))
                Console.WriteLine("// WARNING: buddy invariants broken after the benchmark");
            _buddy = null;
            _vm = null;
            Machine.Release(ref _memmap);
        }

        [Benchmark(Baseline = true)]
        public void Exit_PageByPage()
        {
            for (int v = 0; v < _vm.Procs.VpagesPerProcess; v++) _vm.Memory.Unmap(_pid, v);
            if (_vm.Memory.ExitProcess(_pid) != ProcResult.Ok) throw new InvalidOperationException("exit failed");
        }

        [Benchmark]
        public void Exit_Batched()
        {
            if (_vm.Memory.ExitProcess(_pid) != ProcResult.Ok) throw new InvalidOperationException("exit failed");
        }
    }
}
