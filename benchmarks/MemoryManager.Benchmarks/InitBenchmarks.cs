using BenchmarkDotNet.Attributes;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// Initialisation of the whole size, from an untouched descriptor array / table to every
    /// page free: PageAllocator.Create (writes one 32-byte descriptor per page, frees the pages
    /// in order-10 blocks, sets watermarks and zonelists) against RamAllocationTable.Init (one
    /// byte per page). docs/performance.md divides by the size for the cost per GiB.
    /// </summary>
    [MemoryDiagnoser]
    public unsafe class InitBenchmarks
    {
        [ParamsSource(nameof(Sizes))]
        public int SizeMiB;
        public static int[] Sizes => Machine.SizesMiB;

        private MemoryMap _map;
        private byte* _memmap;
        private byte* _table;

        [GlobalSetup]
        public void Setup()
        {
            _map = Machine.Map(SizeMiB);
            _memmap = Machine.Native(PageAllocator.MemmapBytes(_map));
            _table = Machine.Native(RamAllocationTable.TableBytes(Machine.Pages(SizeMiB)));
        }

        [GlobalCleanup]
        public void Cleanup()
        {
            Machine.Release(ref _memmap);
            Machine.Release(ref _table);
        }

        [Benchmark(Baseline = true)]
        public ulong Rat_Init()
        {
            RamAllocationTable.Init(_table, Machine.Pages(SizeMiB), false, out RamAllocationTable rat);
            return rat.FreePages;
        }

        [Benchmark]
        public ulong Buddy_Init()
        {
            var o = new AllocatorOptions { PerCpuLists = true, WatermarkScaleFactor = 10 };
            PageAllocator.Create(_map, (Page*)_memmap, null, o, out PageAllocator pa);
            return pa.NrFreePages;
        }
    }
}
