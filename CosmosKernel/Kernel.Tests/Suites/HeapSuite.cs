using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// The heap seam's contract, whatever heap the image has (the RAT by default, a plug such as
    /// the buddy heap otherwise): every heap passes this suite.
    /// </summary>
    public sealed unsafe class HeapSuite : TestSuite
    {
        public HeapSuite() : base("heap", AnyMemory, null)
        {
            Add("Objects_come_back_zeroed_and_aligned_at_every_size", &Objects_come_back_zeroed_and_aligned_at_every_size);
            Add("Contents_survive_other_allocations_and_frees", &Contents_survive_other_allocations_and_frees);
            Add("A_freed_large_object_gives_its_pages_back", &A_freed_large_object_gives_its_pages_back);
            Add("Page_runs_are_aligned_zeroed_and_given_back", &Page_runs_are_aligned_zeroed_and_given_back);
            Add("A_double_free_is_refused_and_changes_nothing", &A_double_free_is_refused_and_changes_nothing);
            Add("Foreign_and_interior_pointers_are_refused", &Foreign_and_interior_pointers_are_refused);
            Add("Every_new_object_lands_in_the_heap", &Every_new_object_lands_in_the_heap);
            Add("A_million_allocations_and_frees_keep_their_contents", &A_million_allocations_and_frees_keep_their_contents);
        }

        private static bool AllZero(byte* p, ulong n)
        {
            for (ulong i = 0; i < n; i++) if (p[i] != 0) return false;
            return true;
        }

        private static void Objects_come_back_zeroed_and_aligned_at_every_size(Assert a)
        {
            // Dirty a block of each size, free it, and the next block of that size is zero again.
            ulong size = 1;
            bool zero = true, aligned = true, freed = true;
            while (size <= 256 * 1024)
            {
                byte* p = (byte*)Heap.Alloc((nuint)size);
                for (ulong i = 0; i < size; i++) p[i] = 0xA5;
                if (Heap.Free(p) != HeapFreeResult.Ok) freed = false;
                byte* q = (byte*)Heap.Alloc((nuint)size);
                if (!AllZero(q, size)) zero = false;
                ulong align = size >= 16 ? 16UL : 8UL;
                if (((ulong)q & (align - 1)) != 0) aligned = false;
                if (Heap.Free(q) != HeapFreeResult.Ok) freed = false;
                size = size * 3 + 1;
            }
            a.True(zero, "memory is zero after reuse");
            a.True(aligned, "16-byte alignment from 16 bytes up, 8 below");
            a.True(freed, "every free accepted");
        }

        private static void Contents_survive_other_allocations_and_frees(Assert a)
        {
            const int n = 64;
            byte** blocks = stackalloc byte*[n];
            for (int i = 0; i < n; i++)
            {
                int size = 24 + i * 97;
                blocks[i] = (byte*)Heap.Alloc((nuint)size);
                for (int j = 0; j < size; j++) blocks[i][j] = (byte)(i + j);
            }
            for (int i = 0; i < n; i += 2) Heap.Free(blocks[i]);
            for (int i = 0; i < n; i += 2) blocks[i] = (byte*)Heap.Alloc(40);
            bool intact = true, distinct = true;
            for (int i = 1; i < n; i += 2)
            {
                int size = 24 + i * 97;
                for (int j = 0; j < size; j++) if (blocks[i][j] != (byte)(i + j)) intact = false;
            }
            for (int i = 0; i < n; i++) for (int k = 0; k < i; k++) if (blocks[i] == blocks[k]) distinct = false;
            for (int i = 0; i < n; i++) Heap.Free(blocks[i]);
            a.True(intact, "the odd blocks kept their bytes");
            a.True(distinct, "no block handed out twice");
        }

        private static void A_freed_large_object_gives_its_pages_back(Assert a)
        {
            ulong before = Heap.Stats.FreePages;
            byte* p = (byte*)Heap.Alloc(64 * 1024);
            ulong during = Heap.Stats.FreePages;
            a.True(during + 16 <= before, "a 64 KiB object takes at least 16 pages");
            a.True(during + 32 >= before, "and not more than 32");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "free");
            a.Equal(before, Heap.Stats.FreePages, "free pages after the free");
        }

        private static void Page_runs_are_aligned_zeroed_and_given_back(Assert a)
        {
            ulong before = Heap.Stats.FreePages;
            byte* one = (byte*)Heap.AllocPages(1);
            byte* three = (byte*)Heap.AllocPages(3);
            byte* eight = (byte*)Heap.AllocPages(8);
            a.True(one != null && three != null && eight != null, "three runs");
            a.Equal(0UL, ((ulong)one | (ulong)three | (ulong)eight) & (Heap.PageSize - 1), "page aligned");
            a.True(AllZero(eight, 8 * Heap.PageSize) && AllZero(three, 3 * Heap.PageSize), "zeroed");
            a.True(Heap.Stats.FreePages + 12 <= before, "at least 12 pages taken");
            for (ulong i = 0; i < 8 * Heap.PageSize; i++) eight[i] = 0x5A;
            a.True(AllZero(three, 3 * Heap.PageSize) && AllZero(one, Heap.PageSize), "runs do not overlap");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.FreePages(eight), "free 8");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.FreePages(three), "free 3");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.FreePages(one), "free 1");
            a.Equal(before, Heap.Stats.FreePages, "every page back");
            a.True(Heap.FreePages(one) != HeapFreeResult.Ok, "a run freed twice is refused");
            a.True(Heap.AllocPages(0) == null, "zero pages is no run");
        }

        private static void A_double_free_is_refused_and_changes_nothing(Assert a)
        {
            byte* keep = (byte*)Heap.Alloc(48); // the class keeps a slab/page: counts compare like with like
            byte* p = (byte*)Heap.Alloc(48);
            byte* big = (byte*)Heap.Alloc(20000);
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "first free of a small object");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(big), "first free of a large object");
            HeapStats before = Heap.Stats;
            a.Equal((long)HeapFreeResult.AlreadyFree, (long)Heap.Free(p), "second free of the small object");
            a.True(Heap.Free(big) != HeapFreeResult.Ok, "second free of the large object is refused");
            HeapStats after = Heap.Stats;
            a.Equal(before.FreePages, after.FreePages, "free pages unchanged");
            a.Equal(before.Frees, after.Frees, "no free counted");
            a.Equal(before.RejectedFrees + 2, after.RejectedFrees, "two refusals counted");
            byte* q = (byte*)Heap.Alloc(48);
            byte* r = (byte*)Heap.Alloc(48);
            a.True(q != r, "the refused free did not put the slot on a free list twice");
            Heap.Free(q); Heap.Free(r); Heap.Free(keep);
        }

        private static void Foreign_and_interior_pointers_are_refused(Assert a)
        {
            byte onStack = 0;
            byte* p = (byte*)Heap.Alloc(3000);
            byte* s = (byte*)Heap.Alloc(32);
            HeapStats before = Heap.Stats;
            a.Equal((long)HeapFreeResult.NotInHeap, (long)Heap.Free(&onStack), "a stack address");
            a.True(Heap.Free((void*)0x1000) != HeapFreeResult.Ok, "an address in low memory");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)Heap.Free(p + 8), "inside a block");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)Heap.Free(s + 4), "inside a small object");
            a.True(Heap.FreePages(p) != HeapFreeResult.Ok, "an object is not a page run");
            HeapStats after = Heap.Stats;
            a.Equal(before.FreePages, after.FreePages, "free pages unchanged");
            a.Equal(before.RejectedFrees + 5, after.RejectedFrees, "five refusals counted");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(p), "the block itself");
            a.Equal((long)HeapFreeResult.Ok, (long)Heap.Free(s), "the small object itself");
        }

        private sealed class Thing { public int X; }

        private static void Every_new_object_lands_in_the_heap(Assert a)
        {
            ulong before = Heap.Stats.Allocations;
            var t = new Thing();
            int[] big = new int[4000];
            string s = string.Concat("x", "y");
            a.True(Heap.Contains(ObjectModel.AddressOf(t)), "object");
            a.True(Heap.Contains(ObjectModel.AddressOf(big)), "array");
            a.True(Heap.Contains(ObjectModel.AddressOf(s)), "string");
            a.True(Heap.Stats.Allocations >= before + 3, "allocations counted");
        }

        /// <summary>
        /// 10^6 allocations (and as many frees) of random sizes through a window of 512 live
        /// blocks, each filled with a pattern of its own that is checked before it is freed. The
        /// stress runs in phases of 10^4 allocations; after each, the live blocks are checked
        /// (<see cref="LiveBlocksAreSound"/>): each aligned, inside the heap, and no two sharing a
        /// byte. The first problem fails the test with the blocks' addresses and ends it there, before
        /// a broken heap can hand the same bytes to the kernel and crash it. At the end every block
        /// must be back: the heap's own count of live blocks and its free pages are where they were.
        /// </summary>
        private static void A_million_allocations_and_frees_keep_their_contents(Assert a)
        {
            const int window = 512;
            const int total = 1000000;
            const int phase = 10000;
            byte** live = stackalloc byte*[window];
            uint* sizes = stackalloc uint[window];
            uint* tags = stackalloc uint[window];
            int* order = stackalloc int[window];
            for (int i = 0; i < window; i++) live[i] = null;
            ulong freeBefore = Heap.Stats.FreePages;
            HeapStats countsBefore = Heap.Stats;
            ulong seed = 0x9E3779B97F4A7C15UL;
            int corrupted = 0, refused = 0;
            for (int n = 0; n < total; n++)
            {
                seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                int slot = (int)((seed >> 33) % window);
                if (live[slot] != null)
                {
                    byte* b = live[slot];
                    byte tag = (byte)tags[slot];
                    uint sz = sizes[slot];
                    // Check the first, last and a middle byte (every byte for small blocks).
                    if (sz <= 64) { for (uint i = 0; i < sz; i++) if (b[i] != (byte)(tag + i)) corrupted++; }
                    else if (b[0] != tag || b[sz - 1] != (byte)(tag + sz - 1) || b[sz / 2] != (byte)(tag + sz / 2)) corrupted++;
                    if (Heap.Free(b) != HeapFreeResult.Ok) refused++;
                    live[slot] = null;
                }
                // Mostly small objects, one in 64 up to 32 KiB.
                uint r = (uint)(seed >> 11);
                uint size = (r & 63) == 0 ? 1 + (r >> 8) % 32768 : 1 + (r >> 8) % 512;
                byte* p = (byte*)Heap.Alloc(size);
                byte t = (byte)(seed >> 56);
                live[slot] = p; sizes[slot] = size; tags[slot] = t;
                // Where the block is, before writing into it: a block outside the heap or on top of another is reported, not written.
                if ((n + 1) % phase == 0 || !Heap.Contains(p))
                    if (!LiveBlocksAreSound(a, live, sizes, window, order, n + 1))
                    {
                        // Nothing is freed after that: freeing a block twice could crash the broken heap.
                        a.Equal(0L, corrupted, "blocks whose pattern changed before the problem was found");
                        return;
                    }
                if (size <= 64) { for (uint i = 0; i < size; i++) p[i] = (byte)(t + i); }
                else { p[0] = t; p[size - 1] = (byte)(t + size - 1); p[size / 2] = (byte)(t + size / 2); }
            }
            for (int i = 0; i < window; i++) if (live[i] != null && Heap.Free(live[i]) != HeapFreeResult.Ok) refused++;
            HeapStats countsAfter = Heap.Stats;
            a.Equal(0L, corrupted, "blocks whose pattern changed");
            a.Equal(0L, refused, "frees refused");
            ulong liveBefore = countsBefore.Allocations - countsBefore.Frees, liveAfter = countsAfter.Allocations - countsAfter.Frees;
            // A lost block: freed, yet the heap still counts it as live.
            a.Equal((long)liveBefore, (long)liveAfter, "live blocks the heap counts once every block of the stress is freed (allocations minus frees)");
            // Caches may keep a few empty slabs or pages for reuse; the rest must be back.
            a.True(Heap.Stats.FreePages + 64 >= freeBefore, "pages came back (at most 64 kept by caches)");
        }

        /// <summary>
        /// The live blocks of the stress after <paramref name="allocations"/> allocations: each aligned as the seam promises
        /// (16 bytes from 16 up, 8 below), inside the heap (<see cref="Heap.Contains"/> for its first and last byte), and no
        /// two sharing a byte (sorted by address, each must end before the next begins). The first problem is a failure naming
        /// the blocks' addresses and sizes; returns false then.
        /// </summary>
        private static bool LiveBlocksAreSound(Assert a, byte** live, uint* sizes, int window, int* order, int allocations)
        {
            int n = 0;
            for (int i = 0; i < window; i++) if (live[i] != null) order[n++] = i;
            for (int k = 0; k < n; k++)
            {
                byte* p = live[order[k]];
                uint size = sizes[order[k]];
                ulong align = size >= 16 ? 16UL : 8UL;
                if (((ulong)p & (align - 1)) != 0)
                {
                    a.Fail(string.Concat(new string[] { "block ", Block(p, size), " is not ", align.ToString(), "-byte aligned (after ", allocations.ToString(), " allocations)" }));
                    return false;
                }
                if (!Heap.Contains(p) || !Heap.Contains(p + size - 1))
                {
                    a.Fail(string.Concat(new string[] { "block ", Block(p, size), " lies outside the heap's region (after ", allocations.ToString(), " allocations)" }));
                    return false;
                }
            }
            // Shell sort of the live slots by address (at most 512: a few thousand comparisons).
            for (int gap = n / 2; gap > 0; gap /= 2)
                for (int k = gap; k < n; k++)
                {
                    int v = order[k];
                    int j = k;
                    while (j >= gap && live[order[j - gap]] > live[v]) { order[j] = order[j - gap]; j -= gap; }
                    order[j] = v;
                }
            for (int k = 1; k < n; k++)
            {
                int lo = order[k - 1], hi = order[k];
                if (live[lo] + sizes[lo] > live[hi])
                {
                    a.Fail(string.Concat(new string[] { "blocks ", Block(live[lo], sizes[lo]), " and ", Block(live[hi], sizes[hi]),
                        " overlap (live blocks of the stress after ", allocations.ToString(), " allocations)" }));
                    return false;
                }
            }
            return true;
        }

        /// <summary>"0x1a2b30 (48 bytes)".</summary>
        private static string Block(byte* p, uint size) => string.Concat(System.Number.FormatHex((ulong)p, 1), " (", size.ToString(), " bytes)");
    }
}
