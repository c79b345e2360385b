using System;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Gc;
using MemoryManager.Slab;
using Xunit;

namespace MemoryManager.Tests.Gc
{
    /// <summary>The collector's rules, one by one, on the real slab (GcTestHeap).</summary>
    public unsafe class MarkSweepTests
    {
        [Fact]
        public void An_object_no_root_reaches_is_freed_and_its_empty_slab_goes_back_to_the_buddy_allocator()
        {
            using var h = new GcTestHeap(maxEmptySlabs: 0);
            ulong free = h.Rig.FreePages;
            ulong a = h.New(h.Types.Leaf);
            Assert.True(h.Rig.FreePages < free);
            GcCycleStats s = h.Collect();
            Assert.Equal(1UL, s.FreedObjects);
            Assert.Equal(32UL, s.FreedBytes);
            Assert.Equal(0UL, s.LiveObjects);
            Assert.False(h.IsLive(a));
            Assert.Equal(free, h.Rig.FreePages);
            h.Rig.AssertInvariants();
        }

        [Fact]
        public void An_object_a_root_points_at_survives_with_everything_it_reaches_through_its_references()
        {
            using var h = new GcTestHeap();
            ulong a = h.New(h.Types.Node3), b = h.New(h.Types.Leaf), c = h.New(h.Types.Leaf), d = h.New(h.Types.Leaf);
            *(ulong*)(a + 8) = b;
            *(ulong*)(b + 8) = d;          // a Leaf's data word: not a reference, so d is not reached through it
            *(ulong*)(a + 24) = c;
            GcCycleStats s = h.Collect(a);
            Assert.True(h.IsLive(a) && h.IsLive(b) && h.IsLive(c));
            Assert.False(h.IsLive(d));
            Assert.Equal(3UL, s.LiveObjects);
            Assert.Equal(1UL, s.FreedObjects);
            Assert.Equal(b, *(ulong*)(a + 8));
        }

        [Fact]
        public void A_root_object_outside_the_heap_keeps_what_its_reference_fields_name_and_nothing_its_integers_happen_to_point_at()
        {
            using var h = new GcTestHeap();
            ulong b = h.New(h.Types.Leaf), c = h.New(h.Types.Leaf);
            // A Node3 made outside the heap (as the kernel's boot-arena objects are): header, MethodTable, 48 bytes.
            ulong* block = (ulong*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(64);
            try
            {
                ulong outside = (ulong)block + 8;
                *(ulong*)outside = h.Types.Node3;
                *(ulong*)(outside + 8) = b;          // a reference field
                *(ulong*)(outside + 40) = c + 4;     // a data word that happens to point into c
                h.Gc.Begin();
                h.Gc.ScanRootObject(outside, GcRootKind.BootArena);
                GcCycleStats s = h.Gc.Finish();
                Assert.True(h.IsLive(b));
                Assert.False(h.IsLive(c));
                Assert.Equal(1UL, s.FreedObjects);
            }
            finally { System.Runtime.InteropServices.NativeMemory.Free(block); }
        }

        [Fact]
        public void An_interior_pointer_on_a_stack_keeps_its_object_alive()
        {
            using var h = new GcTestHeap();
            ulong arr = h.New(h.Types.Chars, 100);
            ulong other = h.New(h.Types.Chars, 100);
            h.Collect(arr + 8 + 2 * 57);    // into the middle of the characters
            Assert.True(h.IsLive(arr));
            Assert.False(h.IsLive(other));
            ulong header = arr - 8;          // the header word is inside the object's block too
            h.Collect(header);
            Assert.True(h.IsLive(arr));
        }

        [Fact]
        public void A_word_that_points_at_a_free_slot_or_outside_the_heap_keeps_nothing_alive()
        {
            using var h = new GcTestHeap();
            ulong a = h.New(h.Types.Leaf);
            ulong b = h.New(h.Types.Leaf);
            h.Collect(a);
            Assert.False(h.IsLive(b));
            // b's slot is free now; a stale pointer to it and words outside the heap are ignored.
            GcCycleStats s = h.Collect(b, b + 8, h.HeapStart - 8, h.HeapEnd + 64, 12345, ~0UL);
            Assert.False(h.IsLive(a));
            Assert.Equal(0UL, s.RootsFound);
            Assert.Equal(1UL, s.FreedObjects);
        }

        [Fact]
        public void A_raw_allocation_is_never_swept_and_its_contents_are_not_roots()
        {
            using var h = new GcTestHeap();
            ulong raw = h.NewRaw(64);
            ulong a = h.New(h.Types.Leaf);
            *(ulong*)raw = a;                // raw memory is not scanned: a is garbage
            GcCycleStats s = h.Collect(raw);
            Assert.Equal((nuint)64, h.Rig.Slab.SizeOf((void*)raw));
            Assert.False(h.IsLive(a));
            Assert.Equal(0UL, s.RootsFound);
        }

        [Fact]
        public void Objects_are_scanned_precisely_only_the_series_of_their_descriptor_are_references()
        {
            using var h = new GcTestHeap();
            ulong s = h.New(h.Types.Split);
            ulong[] t = new ulong[6];
            for (int i = 0; i < 6; i++) t[i] = h.New(h.Types.Leaf);
            for (int i = 0; i < 6; i++) *(ulong*)(s + 8 + 8 * (ulong)i) = t[i];   // every field holds an object's address
            h.Collect(s);
            // References at +8, +32, +40 (fields 0, 3, 4); data at +16, +24, +48 (fields 1, 2, 5).
            Assert.True(h.IsLive(t[0]) && h.IsLive(t[3]) && h.IsLive(t[4]));
            Assert.False(h.IsLive(t[1]) || h.IsLive(t[2]) || h.IsLive(t[5]));
        }

        [Fact]
        public void Every_element_of_an_array_of_references_is_scanned_large_arrays_included()
        {
            using var h = new GcTestHeap();
            ulong arr = h.New(h.Types.RefArray, 1100);     // 8824 bytes: a large kmalloc block
            Assert.Equal(-1, h.Rig.Slab.CacheOf((void*)(arr - 8)));
            var kids = new ulong[1100];
            for (int i = 0; i < kids.Length; i++) { kids[i] = h.New(h.Types.Leaf); *(ulong*)(arr + 16 + 8 * (ulong)i) = kids[i]; }
            ulong stray = h.New(h.Types.Leaf);
            GcCycleStats s = h.Collect(arr + 5000);           // an interior pointer into the large block
            Assert.True(h.IsLive(arr));
            foreach (ulong k in kids) Assert.True(h.IsLive(k));
            Assert.False(h.IsLive(stray));
            Assert.Equal(1101UL, s.LiveObjects);
        }

        [Fact]
        public void An_array_of_structs_is_scanned_through_its_repeating_descriptor_and_only_its_reference_words()
        {
            using var h = new GcTestHeap();
            ulong arr = h.New(h.Types.StructArray, 10);
            var refs = new ulong[10, 3];
            for (int e = 0; e < 10; e++)
                for (int w = 0; w < 3; w++)
                {
                    refs[e, w] = h.New(h.Types.Leaf);
                    *(ulong*)(arr + 16 + 24 * (ulong)e + 8 * (ulong)w) = refs[e, w];
                }
            h.Collect(arr);
            for (int e = 0; e < 10; e++)
            {
                Assert.True(h.IsLive(refs[e, 0]));
                Assert.False(h.IsLive(refs[e, 1]));   // the struct's long: not a reference
                Assert.True(h.IsLive(refs[e, 2]));
            }
        }

        [Fact]
        public void A_full_mark_stack_is_made_up_for_by_rescans_and_still_marks_everything()
        {
            using var h = new GcTestHeap(stackEntries: 1);
            // A wide fan (an array of 300 chains of 3) overflows a one-entry stack at once.
            ulong arr = h.New(h.Types.RefArray, 300);
            int n = 1;
            for (int i = 0; i < 300; i++)
            {
                ulong a = h.New(h.Types.Node3), b = h.New(h.Types.Node3), c = h.New(h.Types.Leaf);
                *(ulong*)(a + 8) = b; *(ulong*)(b + 16) = c;
                *(ulong*)(arr + 16 + 8 * (ulong)i) = a;
                n += 3;
            }
            ulong garbage = h.New(h.Types.Node3);
            *(ulong*)(garbage + 8) = arr;      // garbage pointing at live objects changes nothing
            GcCycleStats s = h.Collect(arr);
            Assert.True(s.Overflows > 0 && s.Rescans > 0, "overflows " + s.Overflows + ", rescans " + s.Rescans);
            Assert.Equal((ulong)n, s.LiveObjects);
            Assert.Equal((ulong)n, s.MarkedObjects);
            Assert.Equal(1UL, s.FreedObjects);
            Assert.False(h.IsLive(garbage));
            Assert.Equal(1UL, s.MaxDepth);
        }

        [Fact]
        public void A_corrupt_header_is_reported_with_the_object_its_header_and_the_root_it_was_reached_from()
        {
            using var h = new GcTestHeap();
            ulong a = h.New(h.Types.Node3), b = h.New(h.Types.Leaf);
            *(ulong*)(a + 8) = b;
            *(ulong*)b = 0xDEADBEEF;           // b's MethodTable pointer overwritten
            ulong* roots = stackalloc ulong[2];
            roots[1] = a;
            h.Gc.Begin();
            h.Gc.ScanRange((ulong)roots, (ulong)(roots + 2), GcRootKind.Data);
            GcCycleStats s = h.Gc.Finish();
            Assert.Single(h.Corruptions);
            Assert.Equal(b, h.Corruptions[0].obj);
            Assert.Equal(0xDEADBEEFUL, h.Corruptions[0].header);
            Assert.Equal((ulong)(roots + 1), h.Corruptions[0].root);
            Assert.Equal(GcRootKind.Data, h.Corruptions[0].kind);
            Assert.Equal(1UL, s.Corrupt);
            Assert.True(h.IsLive(b));          // kept: it is reachable, whatever its header says
        }

        [Fact]
        public void A_descriptor_whose_series_run_past_the_object_is_reported_not_followed()
        {
            using var h = new GcTestHeap();
            ulong bad = h.Types.Add(32, 0, false, new long[] { 4096 - 32, 8, 1 });   // 4 KiB of references in a 32-byte object
            ulong a = h.New(bad);
            h.Collect(a);
            Assert.Single(h.Corruptions);
            Assert.Equal(a, h.Corruptions[0].obj);
            Assert.Equal(bad, h.Corruptions[0].header);
        }

        [Fact]
        public void No_object_is_freed_twice_over_repeated_collections()
        {
            using var h = new GcTestHeap();
            ulong keep = h.New(h.Types.RefArray, 4);
            for (int round = 0; round < 20; round++)
            {
                for (int i = 0; i < 50; i++) h.New(h.Types.Leaf);
                *(ulong*)(keep + 16) = h.New(h.Types.Leaf);
                h.Collect(keep);
            }
            Assert.Equal(20 * 50 + 19, h.FreedTotal);   // each free checked that the object was allocated and not freed since
            Assert.Equal(0UL, h.Rig.Slab.RejectedFrees);
            Assert.Equal(20UL, h.Gc.Collections);
            Assert.Equal((ulong)(20 * 50 + 19), h.Gc.TotalFreedObjects);
        }

        [Fact]
        public void A_collection_allocates_nothing()
        {
            using var h = new GcTestHeap(stackEntries: 2);
            h.Record = false;
            ulong[] roots = new ulong[64];
            for (int warm = 0; warm < 3; warm++)
            {
                for (int i = 0; i < roots.Length; i++)
                {
                    ulong arr = h.New(h.Types.RefArray, 8);
                    for (int k = 0; k < 8; k++) *(ulong*)(arr + 16 + 8 * (ulong)k) = h.New(h.Types.StructArray, 2);
                    roots[i] = (i & 1) == 0 ? arr + 20 : 0;
                    h.New(h.Types.Split);
                }
                long before = GC.GetAllocatedBytesForCurrentThread();
                GcCycleStats s = h.Collect(roots);
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(s.Overflows > 0 && s.FreedObjects > 0);
                if (warm > 0) Assert.Equal(0, allocated);
            }
        }

        [Fact]
        public void Create_refuses_missing_or_too_small_memory()
        {
            using var h = new GcTestHeap();
            ulong* words = stackalloc ulong[4];
            Assert.Equal(GcResult.NoModel, MarkSweep.Create(null, 0x100000, 0x200000, words, 32, words, 4, out _));
            Assert.Equal(GcResult.MarkBitsTooSmall, MarkSweep.Create(h, 0x100000, 0x200000, words, 32, words, 4, out _));
            ulong need = MarkSweep.MarkBitsBytes(0x100000);
            Assert.Equal(8192UL + 8, need);
            Assert.Equal(GcResult.NoMarkStack, MarkSweep.Create(h, 0x100000, 0x100000 + 4096, words, 32, null, 4, out _));
            Assert.Equal(GcResult.NoMarkStack, MarkSweep.Create(h, 0x100000, 0x100000 + 4096, words, 32, words, 0, out _));
            Assert.Equal(GcResult.Ok, MarkSweep.Create(h, 0x100000, 0x100000 + 4096, words, 32, words, 4, out MarkSweep m));
            Assert.Equal(4UL, m.StackCapacity);
        }
    }
}
