using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Tests.Framework;
using MemoryManager.Common;

namespace Kernel.Tests
{
    /// <summary>
    /// The default heap's own layout: Cosmos-style small/medium/large allocation over the RAM
    /// allocation table. Skipped in an image whose heap is a plug (KernelHeap=Buddy).
    /// </summary>
    public sealed unsafe class RatHeapSuite : TestSuite
    {
        public RatHeapSuite() : base("rat-heap", AnyMemory, null)
        {
            Add("The_heap_lies_above_the_kernel_and_the_boot_information", &The_heap_lies_above_the_kernel_and_the_boot_information);
            Add("The_table_sits_in_the_last_pages_of_the_heap", &The_table_sits_in_the_last_pages_of_the_heap);
            Add("Small_requests_share_a_small_page", &Small_requests_share_a_small_page);
            Add("Medium_requests_take_one_medium_page", &Medium_requests_take_one_medium_page);
            Add("Large_requests_take_a_run_of_pages", &Large_requests_take_a_run_of_pages);
            Add("Memory_comes_back_zeroed_after_reuse", &Memory_comes_back_zeroed_after_reuse);
            Add("Empty_small_pages_return_to_the_table_but_the_last_room_stays", &Empty_small_pages_return_to_the_table_but_the_last_room_stays);
            Add("Bad_frees_are_refused_and_change_nothing", &Bad_frees_are_refused_and_change_nothing);
            Add("Every_new_object_lands_in_the_heap", &Every_new_object_lands_in_the_heap);
        }

        private static void The_heap_lies_above_the_kernel_and_the_boot_information(Assert a)
        {
            if (NotTheHeap(a)) return;
            RatHeapStats s = RatHeap.Details;
            a.True(s.RegionStart >= BootInfo.KernelEnd, "heap starts above the kernel image");
            a.True(s.RegionStart >= BootInfo.InfoEnd || s.RegionEnd <= BootInfo.InfoStart, "heap does not overlap the boot information block");
            a.Equal(0UL, s.RegionStart % Heap.PageSize, "heap start is page aligned");
        }

        private static void The_table_sits_in_the_last_pages_of_the_heap(Assert a)
        {
            if (NotTheHeap(a)) return;
            RatHeapStats s = RatHeap.Details;
            a.Equal(s.RegionEnd - s.TablePages * Heap.PageSize, s.TableAddress, "table address");
            a.Equal((s.TotalPages + Heap.PageSize - 1) / Heap.PageSize, s.TablePages, "one byte per page");
            a.Equal((long)RatPageType.Rat, (long)RatHeap.PageTypeOf((void*)s.TableAddress), "first table page type");
            // Below 16 MiB of heap the table is one page: its last page is its first.
            long lastType = s.TablePages > 1 ? (long)RatPageType.Extension : (long)RatPageType.Rat;
            a.Equal(lastType, (long)RatHeap.PageTypeOf((void*)(s.RegionEnd - 1)), "last page is part of the table run");
        }

        private static void Small_requests_share_a_small_page(Assert a)
        {
            if (NotTheHeap(a)) return;
            // A small page holds 126 slots of 32 bytes: eight requests span at most two pages.
            byte** slots = stackalloc byte*[8];
            for (int i = 0; i < 8; i++) slots[i] = (byte*)Heap.Alloc(24);
            a.Equal(32L, RatHeap.SlotSizeFor(24), "size class for 24 bytes");
            a.Equal((long)RatPageType.HeapSmall, (long)RatHeap.PageTypeOf(slots[0]), "page type");
            int pages = 1;
            for (int i = 1; i < 8; i++)
                if (((ulong)slots[i] & ~4095UL) != ((ulong)slots[i - 1] & ~4095UL)) pages++;
            a.InRange((ulong)pages, 1, 2, "pages spanned by eight small requests");
            bool aligned = true, distinct = true;
            for (int i = 0; i < 8; i++)
            {
                if (((ulong)slots[i] & 15) != 0) aligned = false;
                for (int j = 0; j < i; j++) if (slots[i] == slots[j]) distinct = false;
            }
            a.True(aligned, "16-byte alignment");
            a.True(distinct, "eight distinct slots");
            for (int i = 0; i < 8; i++) a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(slots[i]), "free");
        }

        private static void Medium_requests_take_one_medium_page(Assert a)
        {
            if (NotTheHeap(a)) return;
            RatHeapStats before = RatHeap.Details;
            byte* p = (byte*)Heap.Alloc(2000);
            a.Equal((long)RatPageType.HeapMedium, (long)RatHeap.PageTypeOf(p), "page type");
            a.Equal(before.FreePages - 1, RatHeap.Details.FreePages, "free pages after alloc");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "free");
            a.Equal(before.FreePages, RatHeap.Details.FreePages, "free pages after free");
        }

        private static void Large_requests_take_a_run_of_pages(Assert a)
        {
            if (NotTheHeap(a)) return;
            RatHeapStats before = RatHeap.Details;
            byte* p = (byte*)Heap.Alloc(5 * 4096);
            a.Equal((long)RatPageType.HeapLarge, (long)RatHeap.PageTypeOf(p), "first page type");
            a.Equal((long)RatPageType.Extension, (long)RatHeap.PageTypeOf(p + 5 * 4096 - 1), "last page type");
            a.Equal(before.FreePages - 6, RatHeap.Details.FreePages, "5 pages and the prefix take 6 pages");
            bool zero = true;
            for (int i = 0; i < 5 * 4096; i++) if (p[i] != 0) zero = false;
            a.True(zero, "all bytes zero");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "free");
            a.Equal(before.FreePages, RatHeap.Details.FreePages, "free pages after free");
        }

        private static void Memory_comes_back_zeroed_after_reuse(Assert a)
        {
            if (NotTheHeap(a)) return;
            // A freed medium page is the lowest free page again, so the next medium request reuses it.
            byte* p = (byte*)Heap.Alloc(3000);
            for (int i = 0; i < 3000; i++) p[i] = 0xAB;
            Heap.Free(p);
            byte* q = (byte*)Heap.Alloc(3000);
            a.True(q == p, "the freed page is reused");
            a.True(AllZero(q, 3000), "reused page is zero");
            Heap.Free(q);

            // Small slots: dirty some, free them, and every slot handed out afterwards is zero.
            byte** slots = stackalloc byte*[16];
            for (int i = 0; i < 16; i++) { slots[i] = (byte*)Heap.Alloc(100); for (int j = 0; j < 100; j++) slots[i][j] = 0xCD; }
            for (int i = 0; i < 16; i++) Heap.Free(slots[i]);
            bool zero = true;
            for (int i = 0; i < 16; i++) { slots[i] = (byte*)Heap.Alloc(100); if (!AllZero(slots[i], 100)) zero = false; }
            for (int i = 0; i < 16; i++) Heap.Free(slots[i]);
            a.True(zero, "reused small slots are zero");
        }

        /// <summary>True (and the test skipped) when the image's heap is not the RAT.</summary>
        private static bool NotTheHeap(Assert a)
        {
            if (Heap.Name == RatHeap.Name) return false;
            a.Skip(string.Concat("the image's heap is '", Heap.Name, "', not the RAT (build with -p:KernelHeap=Rat)"));
            return true;
        }

        private static bool AllZero(byte* p, int n)
        {
            for (int i = 0; i < n; i++) if (p[i] != 0) return false;
            return true;
        }

        private static void Empty_small_pages_return_to_the_table_but_the_last_room_stays(Assert a)
        {
            if (NotTheHeap(a)) return;
            // 1 KiB slots, three to a page: nine of them span at least three pages.
            RatHeapStats before = RatHeap.Details;
            byte** slots = stackalloc byte*[9];
            for (int i = 0; i < 9; i++) slots[i] = (byte*)Heap.Alloc(1024);
            RatHeapStats during = RatHeap.Details;
            a.True(during.SmallPages >= before.SmallPages + 2, "the slots took new small pages");
            for (int i = 0; i < 9; i++) Heap.Free(slots[i]);
            RatHeapStats after = RatHeap.Details;
            a.True(after.FreePages >= during.FreePages + 2, "emptied pages went back to the table");
            a.True(after.SmallPages <= before.SmallPages + 1, "at most one empty page is kept for the class");
            byte* again = (byte*)Heap.Alloc(1024);
            Heap.Free(again);
            a.Equal(after.FreePages, RatHeap.Details.FreePages, "alloc and free of one slot take no page from the table");
        }

        private static void Bad_frees_are_refused_and_change_nothing(Assert a)
        {
            if (NotTheHeap(a)) return;
            Heap.Free(Heap.Alloc(16)); // the 16-byte class has its page now: the counts below compare like with like
            RatHeapStats before = RatHeap.Details;
            a.Equal((long)HeapFreeResult.NotInHeap, (long)Heap.Free((void*)0x1000), "pointer below the heap");
            byte* p = (byte*)Heap.Alloc(3000);
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)Heap.Free(p + 8), "pointer inside an allocation");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "the real pointer");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)Heap.Free(p), "double free of a medium page");
            byte* s = (byte*)Heap.Alloc(16);
            byte* keep = (byte*)Heap.Alloc(16);
            Heap.Free(s);
            a.Equal((long)HeapFreeResult.AlreadyFree, (long)Heap.Free(s), "double free of a small slot");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)Heap.Free(keep + 4), "pointer inside a small slot");
            Heap.Free(keep);
            a.Equal(before.FreePages, RatHeap.Details.FreePages, "free pages unchanged");
            a.Equal(before.RejectedFrees + 5, RatHeap.Details.RejectedFrees, "refusals counted");
        }

        private sealed class Thing { public int X; }

        private static void Every_new_object_lands_in_the_heap(Assert a)
        {
            if (NotTheHeap(a)) return;
            ulong before = RatHeap.Details.SmallAllocations;
            var t = new Thing();
            int[] big = new int[4000];
            string s = string.Concat("x", "y");
            a.True(Heap.Contains(ObjectModel.AddressOf(t)), "object");
            a.True(Heap.Contains(ObjectModel.AddressOf(big)), "array");
            a.True(Heap.Contains(ObjectModel.AddressOf(s)), "string");
            a.Equal((long)RatPageType.HeapLarge, (long)RatHeap.PageTypeOf(ObjectModel.AddressOf(big)), "a 16 KB array is large");
            a.True(RatHeap.Details.SmallAllocations >= before + 2, "small allocations counted");
        }
    }
}
