using Kernel.Core.Memory;
using Kernel.Hal;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Tests
{
    /// <summary>Cycles per page alloc+free pair: the buddy, a fresh RAT and a half-used RAT, best of several rounds.</summary>
    public struct PageFigures
    {
        public ulong Buddy0, Buddy3, Fresh0, Fresh3, Half0, Half3;
        /// <summary>Allocations or frees that failed during the rounds (must be 0).</summary>
        public int Bad;
    }

    /// <summary>
    /// The page-pair measurement that the `measure` suite and the shell's `bench` both run: the
    /// buddy allocator against a RAM allocation table (MemoryManager.Common) in the same boot,
    /// at order 0 and order 3, the RAT both fresh (its best case: first fit stops at page 0) and
    /// half used (the settled state of the host benchmarks' churn, its realistic case).
    /// </summary>
    public static unsafe class PageBench
    {
        /// <summary>Pairs per round; each figure is the best of <see cref="Repeats"/> rounds (the first also warms TCG's translation cache).</summary>
        public const int Rounds = 1000, Repeats = 5;
        /// <summary>Pages of the fresh RAT's region (4 MiB: the largest block the buddy hands out).</summary>
        public const ulong RatRegionPages = 1024;
        /// <summary>Pages of the half-used RAT: 4 MiB like the fresh one.</summary>
        public const ulong HalfUsedPages = 1024;

        /// <summary>Cycles per alloc+free of 2^order pages through <paramref name="pa"/>, each page's first byte written.</summary>
        public static ulong BuddyRound(PageAllocator pa, ref TaskContext t, Gfp gfp, int order, ref int bad)
        {
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++)
            {
                ulong pfn = pa.AllocPages(ref t, gfp, order);
                if (pfn == PageAllocator.NoPfn) { bad++; continue; }
                *pa.PageAddress(pfn) = 1;
                if (pa.FreePages(pfn, order, 0) != MmResult.Ok) bad++;
            }
            return (Timer.Cycles - start) / Rounds;
        }

        /// <summary>Cycles per alloc+free of a run of 2^order pages on <paramref name="rat"/> (its pages at <paramref name="region"/>).</summary>
        public static ulong RatRound(ref RamAllocationTable rat, byte* region, int order, ref int bad)
        {
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++)
            {
                ulong page = rat.AllocPages(RatPageType.PageRun, 1UL << order);
                if (page == RamAllocationTable.NoPage) { bad++; continue; }
                region[page * Heap.PageSize] = 1;
                if (rat.Free(page, out ulong _) != RatResult.Ok) bad++;
            }
            return (Timer.Cycles - start) / Rounds;
        }

        /// <summary>Best of <see cref="Repeats"/> rounds of each pair, the three allocators interleaved.</summary>
        public static PageFigures Measure(PageAllocator pa, ref TaskContext t, Gfp gfp,
                                          ref RamAllocationTable fresh, byte* freshRegion,
                                          ref RamAllocationTable half, byte* halfRegion)
        {
            PageFigures f = default;
            f.Buddy0 = f.Buddy3 = f.Fresh0 = f.Fresh3 = f.Half0 = f.Half3 = ~0UL;
            for (int rep = 0; rep < Repeats; rep++)
            {
                f.Buddy0 = Min(f.Buddy0, BuddyRound(pa, ref t, gfp, 0, ref f.Bad));
                f.Fresh0 = Min(f.Fresh0, RatRound(ref fresh, freshRegion, 0, ref f.Bad));
                f.Half0 = Min(f.Half0, RatRound(ref half, halfRegion, 0, ref f.Bad));
                f.Buddy3 = Min(f.Buddy3, BuddyRound(pa, ref t, gfp, 3, ref f.Bad));
                f.Fresh3 = Min(f.Fresh3, RatRound(ref fresh, freshRegion, 3, ref f.Bad));
                f.Half3 = Min(f.Half3, RatRound(ref half, halfRegion, 3, ref f.Bad));
            }
            return f;
        }

        private static ulong Min(ulong a, ulong b) => a < b ? a : b;

        /// <summary>
        /// A RAT over <see cref="HalfUsedPages"/> pages at <paramref name="region"/> (table in the
        /// last page) in the steady state of the host benchmarks' churn (Fixtures.cs, HalfUsedZone.BuildRat):
        /// 48 % of the pages live, block mix 75/10/10/5 % of orders 0/1/2/3, so 21 % of the pages
        /// are live singles packed at the bottom and 27 % live runs packed below the table.
        /// </summary>
        public static RatResult BuildHalfUsedRat(byte* region, out RamAllocationTable rat)
        {
            RatResult r = RamAllocationTable.Init(region + (HalfUsedPages - 1) * Heap.PageSize, HalfUsedPages, true, out rat);
            if (r != RatResult.Ok) return r;
            byte* table = rat.Table;
            ulong singles = HalfUsedPages * 21 / 100, runPages = HalfUsedPages * 27 / 100;
            for (ulong i = 0; i < singles; i++) table[i] = (byte)RatPageType.HeapSmall;
            // Runs of 2, 4, 2, 4, 8 pages (orders 1, 2, 1, 2, 3: the 10/10/5 mix) down from the table.
            ulong top = HalfUsedPages - 1, used = 0;
            for (int k = 0; used < runPages; k++)
            {
                int j = k % 5;
                ulong count = j == 4 ? 8UL : (j % 2 == 0 ? 2UL : 4UL);
                top -= count;
                table[top] = (byte)RatPageType.HeapSmall;
                for (ulong x = 1; x < count; x++) table[top + x] = (byte)RatPageType.Extension;
                used += count;
            }
            rat.RecountFreePages();
            return RatResult.Ok;
        }
    }
}
