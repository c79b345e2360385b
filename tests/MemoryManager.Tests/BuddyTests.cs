using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>free_area[0..10]: split on allocation, merge with the buddy at pfn ^ (1 &lt;&lt; order) on free.</summary>
    public unsafe class BuddyTests
    {
        private static ulong[] NrFree(Machine m, ZoneType t)
        {
            var r = new ulong[MmConstants.MaxOrder];
            for (int o = 0; o < r.Length; o++) r[o] = m.Zone(t).NrFreeBlocks(o);
            return r;
        }

        [Fact]
        public void Allocation_splits_the_smallest_block_that_fits_and_puts_the_upper_halves_back()
        {
            using var m = Flat(4 * MiB, pcp: false);   // one order-10 block at pfn 0
            Assert.Equal(new ulong[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, NrFree(m, ZoneType.Dma));
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(0UL, pfn);
            Assert.Equal(new ulong[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, NrFree(m, ZoneType.Dma));
            // The upper half of each split: pfn 1 (order 0), 2 (order 1), 4 (order 2) ... 512 (order 9).
            for (int o = 0; o < 10; o++)
            {
                Page* half = m.Pa.PfnToPage(1UL << o);
                Assert.True((half->Flags & PageFlags.Buddy) != 0);
                Assert.Equal(o, half->Order);
            }
            m.AssertInvariants();
        }

        [Fact]
        public void Allocation_prefers_an_exact_fit_over_splitting()
        {
            using var m = Flat(4 * MiB, pcp: false);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0);    // leaves one free block of each order 0..9
            ulong b = m.Alloc(Gfp.GFP_KERNEL, 3);
            Assert.Equal(8UL, b);
            Assert.Equal(0UL, m.Zone(ZoneType.Dma).NrFreeBlocks(3));
            Assert.Equal(1UL, m.Zone(ZoneType.Dma).NrFreeBlocks(4));
            m.Free(a, 0); m.Free(b, 3);
            m.AssertInvariants();
        }

        [Fact]
        public void Freeing_merges_with_the_buddy_at_pfn_xor_one_shifted_by_order()
        {
            using var m = Flat(16 * KiB, start: 8 * MiB, pcp: false);   // 4 pages at pfn 2048..2051
            m.Pa.SetMinFreeKbytes(0);
            var p = new ulong[4];
            for (int i = 0; i < 4; i++) p[i] = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(new ulong[] { 2048, 2049, 2050, 2051 }, p);
            m.Free(2049, 0);
            m.Free(2050, 0);   // neighbours, but not buddies (2049 ^ 1 = 2048, 2050 ^ 1 = 2051)
            Assert.Equal(2UL, m.Zone(ZoneType.Dma).NrFreeBlocks(0));
            m.Free(2048, 0);   // buddy of 2049: merge to order 1 at 2048
            Assert.Equal(1UL, m.Zone(ZoneType.Dma).NrFreeBlocks(0));
            Assert.Equal(1UL, m.Zone(ZoneType.Dma).NrFreeBlocks(1));
            m.Free(2051, 0);   // buddy of 2050, then 2050's order-1 block merges with 2048's
            Assert.Equal(new ulong[] { 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, NrFree(m, ZoneType.Dma));
            m.AssertInvariants();
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Every_order_from_0_to_10_is_allocated_aligned_and_freed_back_to_max_order_blocks(bool pcp)
        {
            using var m = Flat(64 * MiB, pcp: pcp);
            string before = m.BuddyInfo();
            var got = new List<(ulong, int)>();
            for (int o = 0; o < MmConstants.MaxOrder; o++)
            {
                ulong pfn = m.Alloc(Gfp.GFP_KERNEL, o);
                Assert.NotEqual(PageAllocator.NoPfn, pfn);
                Assert.Equal(0UL, pfn & ((1UL << o) - 1));
                got.Add((pfn, o));
                m.AssertInvariants();
            }
            foreach (var (pfn, o) in got) Assert.Equal(MmResult.Ok, m.Free(pfn, o));
            m.Pa.DrainPerCpuLists();
            Assert.Equal(before, m.BuddyInfo());
            m.AssertInvariants();
        }

        [Fact]
        public void The_largest_order_is_one_below_MAX_ORDER_and_a_block_of_it_is_4_MiB()
        {
            using var m = Flat(64 * MiB);
            Assert.Equal(MmConstants.MaxOrder - 1, MmConstants.LargestOrder);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, MmConstants.LargestOrder);
            Assert.NotEqual(PageAllocator.NoPfn, pfn);
            Assert.Equal(4UL * MiB, (1UL << MmConstants.LargestOrder) * MmConstants.PageSize);
            Assert.Equal(0UL, pfn & ((1UL << MmConstants.LargestOrder) - 1));
            Assert.Equal(MmResult.Ok, m.Free(pfn, MmConstants.LargestOrder));
            m.AssertInvariants();
        }

        [Fact]
        public void Order_11_and_negative_orders_are_refused()
        {
            using var m = Flat(64 * MiB);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, MmConstants.MaxOrder));
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, -1));
            Assert.Contains("order not below MAX_ORDER", m.Log.ToString());
            m.AssertInvariants();
        }

        [Fact]
        public void Buddies_of_different_nodes_never_merge()
        {
            var map = new MemoryMap();
            map.Add(8 * MiB, 2 * MiB, 0);   // pfn 2048..2560: one order-9 block
            map.Add(10 * MiB, 2 * MiB, 1);  // pfn 2560..3072: its buddy, on node 1
            using var m = new Machine(map, new AllocatorOptions { PerCpuLists = false });
            m.Pa.SetMinFreeKbytes(0);
            Assert.Equal(1UL, m.Zone(ZoneType.Dma, 0).NrFreeBlocks(9));
            Assert.Equal(1UL, m.Zone(ZoneType.Dma, 1).NrFreeBlocks(9));
            Assert.Equal(0UL, m.Zone(ZoneType.Dma, 0).NrFreeBlocks(10));
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 9);
            Assert.Equal(MmResult.Ok, m.Free(a, 9));
            Assert.Equal(0UL, m.Zone(ZoneType.Dma, 0).NrFreeBlocks(10));
            m.AssertInvariants();
        }

        [Fact]
        public void Adjacent_ranges_of_one_zone_merge_into_one_block()
        {
            var map = new MemoryMap();
            map.Add(8 * MiB, 2 * MiB);
            map.Add(10 * MiB, 2 * MiB);
            using var m = new Machine(map, new AllocatorOptions());
            Assert.Equal(1UL, m.Zone(ZoneType.Dma).NrFreeBlocks(10));
            m.AssertInvariants();
        }

        [Fact]
        public void A_reserved_page_splits_the_free_blocks_around_it_and_never_merges()
        {
            var map = new MemoryMap();
            map.Add(0, 4 * MiB);
            map.Reserve(5 * 4096, 4096);    // pfn 5
            using var m = new Machine(map, new AllocatorOptions { PerCpuLists = false });
            // 0-3 (order 2), 4 (order 0), 6-7 (order 1), 8-15 (3), 16-31 (4) ... 512-1023 (9)
            Assert.Equal(new ulong[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, NrFree(m, ZoneType.Dma));
            Assert.Equal(1023UL, m.Zone(ZoneType.Dma).ManagedPages);
            m.AssertInvariants();
        }

        [Fact]
        public void NR_FREE_PAGES_falls_by_the_block_size_and_returns_on_free()
        {
            using var m = Flat(64 * MiB, pcp: false);
            ulong before = m.Pa.NrFreePages;
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 5);
            Assert.Equal(before - 32, m.Pa.NrFreePages);
            m.Free(pfn, 5);
            Assert.Equal(before, m.Pa.NrFreePages);
        }

        [Fact]
        public void GFP_ZERO_and_page_contents_work_with_real_memory_behind_the_pages()
        {
            using var m = Flat(4 * MiB, realMemory: true);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL | Gfp.Zero, 1);
            byte* b = m.Pa.PageAddress(pfn);
            Assert.True(b != null);
            for (int i = 0; i < 8192; i++) Assert.Equal(0, b[i]);
            b[100] = 42;
            Assert.Equal(42, m.Pa.PageAddress(pfn)[100]);
            m.Free(pfn, 1);
            m.AssertInvariants();
        }
    }
}
