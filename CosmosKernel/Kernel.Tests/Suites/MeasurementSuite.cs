using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Tests.Framework;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Tests
{
    /// <summary>
    /// Measurements sent to the host as METRIC frames (TSC cycles per operation). Each test also
    /// checks that the work it timed was done right; the numbers themselves are never asserted.
    /// Under QEMU TCG compare them within one boot only.
    /// </summary>
    public sealed unsafe class MeasurementSuite : TestSuite
    {
        private const int Rounds = 1000;

        public MeasurementSuite() : base("measure", AnyMemory, null)
        {
            Add("Small_allocations_and_frees_are_measured", &Small_allocations_and_frees_are_measured);
            Add("Page_allocations_and_frees_are_measured", &Page_allocations_and_frees_are_measured);
            Add("Interface_calls_through_the_cache_are_measured", &Interface_calls_through_the_cache_are_measured);
            if (Heap.Name == BuddyHeap.HeapName)
                Add("Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot", &Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot,
                    MemoryNeeds.MinimumMiBWith(RatComparisonBytes), "three 4 MiB blocks beyond the kernel's minimum: a fresh RAT, a half-used RAT, a RAT heap that stays");
            else
                Add("Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot", &Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot,
                    MemoryNeeds.MinimumMiBWith(4 * RatComparisonBytes), "two 4 MiB blocks of the guest buddy heap, a quarter of the RAT's free pages that must span three 4 MiB-aligned blocks");
        }

        /// <summary>The buddy-against-RAT test takes three regions of 4 MiB (the buddy's largest blocks) from the buddy.</summary>
        private const ulong RatComparisonBytes = 3 * PageBench.RatRegionPages * Heap.PageSize;

        /// <summary>
        /// The buddy allocator (Kernel.Mm.BuddyHeap's PageAllocator, pcp lists on) against a RAM
        /// allocation table (MemoryManager.Common.RamAllocationTable, fresh, over 4 MiB of pages
        /// taken from the buddy), in the same boot: cycles per page alloc+free at order 0 and
        /// order 3 (8 pages), and per 48-byte object alloc+free (the buddy heap's slab against the
        /// RAT heap's small-object pages; in a buddy image the RAT heap is set up over another
        /// 4 MiB from the buddy). Ratios go to docs/performance.md ("In the kernel").
        /// </summary>
        private static void Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot(Assert a)
        {
            PageAllocator pa = MmSuite.Pa(a);
            if (pa == null) return;
            TaskContext t = BuddyHeap.Current;
            int bad = 0;

            // The RAT over pages of the buddy: table in the region's last page, as the RAT heap does.
            byte* region = (byte*)BuddyHeap.AllocPages(PageBench.RatRegionPages);
            a.True(region != null, "a 4 MiB region from the buddy for the RAT");
            if (region == null) return;
            RatResult rr = RamAllocationTable.Init(region + (PageBench.RatRegionPages - 1) * Heap.PageSize, PageBench.RatRegionPages, true, out RamAllocationTable rat);
            a.Equal((long)RatResult.Ok, (long)rr, "RAT set up over the buddy's pages");
            ulong ratFree = rat.FreePages;

            // The RAT in its realistic state (the host benchmarks' HalfUsedZone, settled): about
            // half the pages live, singles packed at the bottom, runs packed at the top.
            byte* half = (byte*)BuddyHeap.AllocPages(PageBench.HalfUsedPages);
            a.True(half != null, "a 4 MiB region from the buddy for the half-used RAT");
            if (half == null) return;
            RamAllocationTable halfRat;
            a.Equal((long)RatResult.Ok, (long)PageBench.BuildHalfUsedRat(half, out halfRat), "half-used RAT set up");
            ulong halfFree = halfRat.FreePages, buddyFree = pa.NrFreePages + pa.PcpPages;

            PageFigures f = PageBench.Measure(pa, ref t, Gfp.GFP_KERNEL, ref rat, region, ref halfRat, half);
            bad += f.Bad;
            ulong buddy0 = f.Buddy0, buddy3 = f.Buddy3, rat0 = f.Fresh0, rat3 = f.Fresh3, ratHalf0 = f.Half0, ratHalf3 = f.Half3;
            a.Equal(buddyFree, pa.NrFreePages + pa.PcpPages, "buddy free pages after the page rounds");
            a.Equal(ratFree, rat.FreePages, "RAT free pages after the page rounds");
            a.Equal(halfFree, halfRat.FreePages, "half-used RAT free pages after the page rounds");
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.FreePages(half), "the half-used RAT's region back to the buddy");

            // Objects: the buddy heap's slab, and the RAT heap (THE heap in a RAT image, else set up over buddy pages).
            byte* ratHeapRegion = null;
            if (!RatHeap.IsReady)
            {
                ratHeapRegion = (byte*)BuddyHeap.AllocPages(PageBench.RatRegionPages);
                a.True(ratHeapRegion != null && RatHeap.Init((ulong)ratHeapRegion, (ulong)ratHeapRegion + PageBench.RatRegionPages * Heap.PageSize) == RatResult.Ok, "a RAT heap over 4 MiB of the buddy");
            }
            BuddyHeap.Free(BuddyHeap.Alloc(48));
            RatHeap.Free(RatHeap.Alloc(48));
            ulong buddyObj = ~0UL, ratObj = ~0UL;
            for (int rep = 0; rep < 5; rep++)
            {
                ulong s0 = Timer.Cycles;
                for (int i = 0; i < Rounds; i++)
                {
                    byte* p = (byte*)BuddyHeap.Alloc(48);
                    p[47] = 1;
                    if (BuddyHeap.Free(p) != HeapFreeResult.Ok) bad++;
                }
                ulong c = (Timer.Cycles - s0) / Rounds;
                if (c < buddyObj) buddyObj = c;
                s0 = Timer.Cycles;
                for (int i = 0; i < Rounds; i++)
                {
                    byte* p = (byte*)RatHeap.Alloc(48);
                    p[47] = 1;
                    if (RatHeap.Free(p) != HeapFreeResult.Ok) bad++;
                }
                c = (Timer.Cycles - s0) / Rounds;
                if (c < ratObj) ratObj = c;
            }
            a.Equal(0L, bad, "failed allocations or frees");

            TestHost.Metric("buddy.page.order0.alloc_free", buddy0, "cycles/op");
            TestHost.Metric("rat.page.order0.alloc_free", rat0, "cycles/op");
            TestHost.Metric("buddy.page.order3.alloc_free", buddy3, "cycles/op");
            TestHost.Metric("rat.page.order3.alloc_free", rat3, "cycles/op");
            TestHost.Metric("rat_half_used.page.order0.alloc_free", ratHalf0, "cycles/op");
            TestHost.Metric("rat_half_used.page.order3.alloc_free", ratHalf3, "cycles/op");
            TestHost.Metric("buddy.object48.alloc_free", buddyObj, "cycles/op");
            TestHost.Metric("rat.object48.alloc_free", ratObj, "cycles/op");
            TestHost.Metric("ratio.page.order0.rat_per_buddy", buddy0 == 0 ? 0 : rat0 * 100 / buddy0, "percent");
            TestHost.Metric("ratio.page.order3.rat_per_buddy", buddy3 == 0 ? 0 : rat3 * 100 / buddy3, "percent");
            TestHost.Metric("ratio.object48.rat_per_buddy", buddyObj == 0 ? 0 : ratObj * 100 / buddyObj, "percent");
            TestHost.Metric("ratio.page.order0.rat_half_used_per_buddy", buddy0 == 0 ? 0 : ratHalf0 * 100 / buddy0, "percent");
            TestHost.Metric("ratio.page.order3.rat_half_used_per_buddy", buddy3 == 0 ? 0 : ratHalf3 * 100 / buddy3, "percent");
            TestHost.Metric("boot.loader_code.pages_rewritten", LoaderCode.PagesRewritten, "pages");
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.FreePages(region), "the RAT's region back to the buddy");
            // A RAT heap set up over buddy pages stays (RatHeap has no teardown); 4 MiB.
        }

        private static void Small_allocations_and_frees_are_measured(Assert a)
        {
            Heap.Free(Heap.Alloc(48));   // warm-up: the size class has its page or slab
            ulong freeBefore = Heap.Stats.FreePages;
            int failures = 0;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++)
            {
                void* p = Heap.Alloc(48);
                if (p == null || Heap.Free(p) != HeapFreeResult.Ok) failures++;
            }
            ulong cycles = (Timer.Cycles - start) / Rounds;
            ulong freeAfter = Heap.Stats.FreePages;   // read before the METRIC frame's strings are allocated
            TestHost.Metric("heap.small.alloc_free", cycles, "cycles/op");
            a.Equal(0, failures, "failed alloc/free pairs");
            a.Equal(freeBefore, freeAfter, "free pages after the rounds");
        }

        private static void Page_allocations_and_frees_are_measured(Assert a)
        {
            Heap.Free(Heap.Alloc(3000));   // warm-up
            ulong freeBefore = Heap.Stats.FreePages;
            int failures = 0;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds / 10; i++)
            {
                void* p = Heap.Alloc(3000);
                if (p == null || Heap.Free(p) != HeapFreeResult.Ok) failures++;
            }
            ulong cycles = (Timer.Cycles - start) / (Rounds / 10);
            ulong freeAfter = Heap.Stats.FreePages;
            TestHost.Metric("heap.medium.alloc_free", cycles, "cycles/op");
            a.Equal(0, failures, "failed alloc/free pairs");
            a.Equal(freeBefore, freeAfter, "free pages after the rounds");
        }

        private interface ICounter { int Next(int x); }
        private sealed class Up : ICounter { public int Next(int x) => x + 1; }
        private sealed class Down : ICounter { public int Next(int x) => x - 1; }
        private sealed class Twice : ICounter { public int Next(int x) => x + 2; }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int Step(ICounter c, int x) => c.Next(x);

        private static void Interface_calls_through_the_cache_are_measured(Assert a)
        {
            ICounter[] counters = new ICounter[] { new Up(), new Down(), new Twice() };
            int x = 0;
            for (int i = 0; i < counters.Length; i++) x = Step(counters[i], x); // warm the cache
            ulong resolutions = InterfaceDispatch.Resolutions;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++) x = Step(counters[i % 3], x);
            TestHost.Metric("dispatch.interface_call", (Timer.Cycles - start) / Rounds, "cycles/op");
            a.Equal(2 + 2 * (Rounds / 3) + (Rounds % 3 == 0 ? 0 : 1), x, "result of the calls");
            a.Equal(resolutions, InterfaceDispatch.Resolutions, "dispatch-map walks after warm-up");
        }
    }
}
