using System;
using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// Bulk frees (free_pages_bulk / release_pages, PageAllocator.FreePagesBulk): a list of blocks
    /// freed in one call, with the descriptors of the blocks ahead prefetched, must leave the
    /// allocator exactly as the same FreePages calls one by one do.
    /// </summary>
    public unsafe class BulkFreeTests
    {
        /// <summary>A fragmented 64 MiB zone: blocks of orders 0..3 (75/10/10/5 %) allocated to 96 %, every other one freed again; returns the live blocks.</summary>
        private static List<(ulong pfn, int order)> HalfUsed(Machine m, ulong seed)
        {
            var rng = new Random((int)seed);
            var all = new List<(ulong pfn, int order)>();
            ulong pages = (m.Pa.TotalManagedPages * 96) / 100, used = 0;
            while (true)
            {
                int r = rng.Next(100);
                int o = r < 75 ? 0 : r < 85 ? 1 : r < 95 ? 2 : 3;
                if (used + (1UL << o) > pages) break;
                ulong pfn = m.Pa.AllocPages(ref m.Task, Gfp.GFP_ATOMIC | Gfp.NoWarn, o);
                if (pfn == PageAllocator.NoPfn) break;
                all.Add((pfn, o));
                used += 1UL << o;
            }
            var live = new List<(ulong pfn, int order)>();
            foreach (var b in all)
            {
                if (rng.Next(2) == 0) live.Add(b);
                else Assert.Equal(MmResult.Ok, m.Free(b.pfn, b.order));
            }
            return live;
        }

        /// <summary>A random choice of n of the live blocks, in random order.</summary>
        private static (ulong[] pfns, byte[] orders) Victims(List<(ulong pfn, int order)> live, int n, int seed)
        {
            var rng = new Random(seed);
            var pick = new List<(ulong pfn, int order)>(live);
            for (int i = pick.Count - 1; i > 0; i--) { int j = rng.Next(i + 1); (pick[i], pick[j]) = (pick[j], pick[i]); }
            var pfns = new ulong[n];
            var orders = new byte[n];
            for (int i = 0; i < n; i++) { pfns[i] = pick[i].pfn; orders[i] = (byte)pick[i].order; }
            return (pfns, orders);
        }

        [Theory]
        [InlineData(true, 3000)]
        [InlineData(false, 3000)]
        [InlineData(true, 5)]      // shorter than the prefetch distance
        public void A_bulk_free_leaves_the_allocator_byte_for_byte_as_the_same_frees_one_by_one(bool pcp, int n)
        {
            using var one = Flat(64 * MiB, 4 * GiB, pcp);
            using var bulk = Flat(64 * MiB, 4 * GiB, pcp);
            var liveOne = HalfUsed(one, 11);
            var liveBulk = HalfUsed(bulk, 11);
            Assert.Equal(one.Snapshot(), bulk.Snapshot());
            var (pfns, orders) = Victims(liveOne, n, 7);

            for (int i = 0; i < n; i++) Assert.Equal(MmResult.Ok, one.Pa.FreePages(pfns[i], orders[i], one.Task.Pid));
            fixed (ulong* p = pfns)
            fixed (byte* o = orders)
            {
                Assert.Equal(MmResult.Ok, bulk.Pa.FreePagesBulk(p, o, null, bulk.Task.Pid, n, out int refused));
                Assert.Equal(0, refused);
            }

            Assert.Equal(one.Snapshot(), bulk.Snapshot());   // memmap, zones (free lists, per-cpu list), vmstat, NR_FREE_PAGES
            Assert.Equal(one.BuddyInfo(), bulk.BuddyInfo());
            bulk.AssertInvariants();
        }

        [Fact]
        public void Every_page_of_a_bulk_free_comes_back_and_the_zone_merges_to_what_it_was_before_the_fill()
        {
            using var m = Flat(64 * MiB, 4 * GiB, pcp: true);
            string fresh = m.BuddyInfo();
            ulong freeBefore = m.Pa.NrFreePages + m.Pa.PcpPages;
            var live = HalfUsed(m, 5);
            var (pfns, orders) = Victims(live, live.Count, 3);
            ulong pages = 0;
            foreach (byte o in orders) pages += 1UL << o;
            ulong freeMid = m.Pa.NrFreePages + m.Pa.PcpPages;
            fixed (ulong* p = pfns)
            fixed (byte* o = orders)
                Assert.Equal(MmResult.Ok, m.Pa.FreePagesBulk(p, o, null, m.Task.Pid, pfns.Length, out _));
            Assert.Equal(freeMid + pages, m.Pa.NrFreePages + m.Pa.PcpPages);
            Assert.Equal(freeBefore, m.Pa.NrFreePages + m.Pa.PcpPages);
            m.Pa.DrainPerCpuLists();
            Assert.Equal(fresh, m.BuddyInfo());
            m.AssertInvariants();
        }

        [Fact]
        public void A_refused_block_is_reported_and_the_other_blocks_are_still_freed()
        {
            using var m = Flat(64 * MiB, 4 * GiB);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0), b = m.Alloc(Gfp.GFP_KERNEL, 2), c = m.Alloc(Gfp.GFP_KERNEL, 1);
            Assert.Equal(MmResult.Ok, m.Free(b, 2));   // b is already free: the bulk free must refuse it
            ulong[] pfns = { a, b, c };
            byte[] orders = { 0, 2, 1 };
            ulong before = m.Pa.NrFreePages + m.Pa.PcpPages;
            fixed (ulong* p = pfns)
            fixed (byte* o = orders)
            {
                Assert.Equal(MmResult.DoubleFree, m.Pa.FreePagesBulk(p, o, null, m.Task.Pid, 3, out int refused));
                Assert.Equal(1, refused);
            }
            Assert.Equal(before + 1 + 2, m.Pa.NrFreePages + m.Pa.PcpPages);
            Assert.Contains("BUG: Bad page state", m.Log.ToString());
            Assert.Contains("double free", m.Log.ToString());
            m.AssertInvariants();
        }

        [Fact]
        public void Each_block_is_checked_against_its_own_owner_when_owners_are_given()
        {
            using var m = Flat(64 * MiB, 4 * GiB);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0), b = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(MmResult.Ok, m.Pa.SetOwner(b, 0, 42));
            ulong[] pfns = { a, b };
            byte[] orders = { 0, 0 };
            int[] owners = { m.Task.Pid, 43 };
            fixed (ulong* p = pfns)
            fixed (byte* o = orders)
            fixed (int* w = owners)
            {
                Assert.Equal(MmResult.NotOwner, m.Pa.FreePagesBulk(p, o, w, 0, 2, out int refused));
                Assert.Equal(1, refused);
                owners[1] = 42;
                Assert.Equal(MmResult.Ok, m.Pa.FreePagesBulk(p + 1, o + 1, w + 1, 0, 1, out refused));
            }
            m.AssertInvariants();
        }

        [Fact]
        public void A_negative_count_or_a_missing_array_is_refused_and_nothing_changes()
        {
            using var m = Flat(64 * MiB, 4 * GiB);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0);
            byte[] before = m.Snapshot();
            ulong[] pfns = { a };
            byte[] orders = { 0 };
            fixed (ulong* p = pfns)
            fixed (byte* o = orders)
            {
                Assert.Equal(MmResult.BadArgument, m.Pa.FreePagesBulk(p, o, null, m.Task.Pid, -1, out _));
                Assert.Equal(MmResult.BadArgument, m.Pa.FreePagesBulk(null, o, null, m.Task.Pid, 1, out _));
                Assert.Equal(MmResult.BadArgument, m.Pa.FreePagesBulk(p, null, null, m.Task.Pid, 1, out _));
                Assert.Equal(MmResult.Ok, m.Pa.FreePagesBulk(null, null, null, m.Task.Pid, 0, out _));
            }
            Assert.Equal(before, m.Snapshot());
        }

        [Fact]
        public void A_page_batch_holds_31_blocks_says_the_room_left_and_is_empty_after_its_free()
        {
            using var m = Flat(64 * MiB, 4 * GiB);
            var batch = new PageBatch();
            ulong before = m.Pa.NrFreePages + m.Pa.PcpPages;
            for (int i = 0; i < PageBatch.Capacity; i++)
                Assert.Equal(PageBatch.Capacity - 1 - i, batch.Add(m.Alloc(Gfp.GFP_KERNEL, 1), 1, m.Task.Pid));
            Assert.True(batch.IsFull);
            Assert.Equal(-1, batch.Add(m.Alloc(Gfp.GFP_KERNEL, 0), 0, m.Task.Pid));   // refused: the batch is full
            Assert.Equal(MmResult.Ok, m.Pa.FreePagesBulk(ref batch, out int refused));
            Assert.Equal(0, refused);
            Assert.Equal(0, batch.Count);
            Assert.Equal(before - 1, m.Pa.NrFreePages + m.Pa.PcpPages);   // the page the full batch refused is still allocated
            m.AssertInvariants();
        }

        [Fact]
        public void Draining_a_full_per_cpu_list_of_scattered_pages_merges_them_as_draining_after_each_free_does()
        {
            using var batched = Flat(64 * MiB, 4 * GiB, pcp: true);
            using var single = Flat(64 * MiB, 4 * GiB, pcp: true);
            var live = HalfUsed(batched, 9);
            HalfUsed(single, 9);
            batched.Pa.DrainPerCpuLists();
            single.Pa.DrainPerCpuLists();
            var (pfns, orders) = Victims(live, 2000, 4);
            for (int i = 0; i < pfns.Length; i++)
            {
                if (orders[i] != 0) continue;
                Assert.Equal(MmResult.Ok, batched.Free(pfns[i], 0));   // drained a batch at a time at pcp.high
                Assert.Equal(MmResult.Ok, single.Free(pfns[i], 0));
                single.Pa.DrainPerCpuLists();                          // one page at a time
            }
            Assert.True(batched.Pa.PcpPages > 1);
            batched.Pa.DrainPerCpuLists();
            Assert.Equal(single.BuddyInfo(), batched.BuddyInfo());
            Assert.Equal(single.Pa.NrFreePages, batched.Pa.NrFreePages);
            batched.AssertInvariants();
        }
    }
}
