using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;
using MemoryManager.Reclaim;
using MemoryManager.Swap;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Reclaim throughput: how many pages per second shrink_node frees from a full LRU.
    /// Each iteration starts from 8192 pages on the lists (set up outside the measurement)
    /// and reclaims them all; the time per operation is the time per reclaimed page.
    /// </summary>
    [MemoryDiagnoser]
    public unsafe class ReclaimBenchmarks
    {
        private const int Pages = 8192;
        private byte* _memmap, _phys, _swap, _file;
        private PageAllocator _pa;
        private Vm _vm;
        private int _fileId, _pid;

        /// <summary>clean = page-cache pages dropped; dirty = written back first; anon = written to RAM swap.</summary>
        [Params("clean-file", "dirty-file", "anon-to-swap")]
        public string Kind = "clean-file";

        [GlobalSetup]
        public void Setup()
        {
            var map = new MemoryMap();
            map.Add(1UL << 20, 63UL << 20);                        // 64 MiB machine
            ulong mm = PageAllocator.MemmapBytes(map);
            _memmap = (byte*)NativeMemory.AllocZeroed((nuint)mm);
            _phys = (byte*)NativeMemory.AllocZeroed((nuint)(64UL << 20));
            var o = AllocatorOptions.Default;
            PageAllocator.Create(map, (Page*)_memmap, _phys, o, out _pa);
            ulong slots = Pages + 16;
            _swap = (byte*)NativeMemory.AllocZeroed((nuint)RamSwapDevice.StorageBytes(slots));
            RamSwapDevice.Create(_swap, slots, out RamSwapDevice dev);
            var vo = VmOptions.Default;
            vo.VpagesPerProcess = Pages;
            vo.MaxFilePages = Pages;
            Vm.Create(_pa, dev, vo, out _vm);
            _pa.Kswapd = null;                                     // measure reclaim alone
            _file = (byte*)NativeMemory.AllocZeroed((nuint)((ulong)Pages * MmConstants.PageSize));
            _vm.PageCache.CreateFile("bench", Pages, _file, out _fileId);
            _vm.Procs.Spawn("bench", TaskFlags.None, 0, out _pid);
        }

        [IterationSetup]
        public void Fill()
        {
            for (int i = 0; i < Pages; i++)
            {
                if (Kind == "anon-to-swap") _vm.Memory.TouchAnon(_pid, i, true, out _);
                else if (Kind == "dirty-file") _vm.PageCache.WriteFilePage(_pid, _fileId, i, out _);
                else _vm.PageCache.ReadFilePage(_pid, _fileId, i, out _);
            }
        }

        [IterationCleanup]
        public void Empty()
        {
            for (int i = 0; i < Pages; i++) _vm.Memory.Unmap(_pid, i);   // anon pages left over, and swap slots
        }

        [Benchmark(OperationsPerInvoke = Pages)]
        public ulong ShrinkNodeUntilEmpty()
        {
            ulong total = 0;
            while (true)
            {
                ScanControl sc = default;
                sc.NrToReclaim = 1024;
                sc.Priority = 0;
                sc.MayWritepage = true;
                sc.MaySwap = true;
                _vm.Vmscan.ShrinkNode(0, ref sc);
                if (sc.NrReclaimed == 0) break;
                total += sc.NrReclaimed;
            }
            return total;
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            NativeMemory.Free(_memmap);
            NativeMemory.Free(_phys);
            NativeMemory.Free(_swap);
            NativeMemory.Free(_file);
        }
    }

    /// <summary>OOM victim selection (select_bad_process over the whole table) with 10 and 10 000 processes.</summary>
    [MemoryDiagnoser]
    public unsafe class OomSelectionBenchmarks
    {
        private byte* _memmap;
        private PageAllocator _pa;
        private Vm _vm;
        private ulong _total;

        [Params(10, 10_000)]
        public int Processes;

        [GlobalSetup]
        public void Setup()
        {
            var map = new MemoryMap();
            map.Add(1UL << 20, 255UL << 20);
            _memmap = (byte*)NativeMemory.AllocZeroed((nuint)PageAllocator.MemmapBytes(map));
            PageAllocator.Create(map, (Page*)_memmap, null, AllocatorOptions.Default, out _pa);
            var vo = VmOptions.Default;
            vo.MaxProcesses = Processes + 8;
            vo.VpagesPerProcess = 16;
            Vm.Create(_pa, null, vo, out _vm);
            ulong x = 12345;
            for (int i = 0; i < Processes; i++)
            {
                x = x * 6364136223846793005UL + 1442695040888963407UL;
                int adj = (int)(x >> 33) % 2001 - 1000;
                _vm.Procs.Spawn("p", TaskFlags.None, adj, out int pid);
                ref Process t = ref _vm.Procs.Get(pid);
                t.RssAnon = (x >> 20) % 5000;
                t.RssFile = (x >> 40) % 500;
                t.NrPtes = t.RssAnon / 512 + 1;
            }
            _total = _vm.Oom.TotalPages;
        }

        [Benchmark]
        public int SelectBadProcess()
        {
            _vm.Oom.SelectBadProcess(_total, out int pid, out _);
            return pid;
        }

        [GlobalCleanup]
        public void Cleanup() => NativeMemory.Free(_memmap);
    }
}
