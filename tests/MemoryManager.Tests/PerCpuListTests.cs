using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>Per-cpu page lists for order 0: batch, high, drain, and switched off.</summary>
    public unsafe class PerCpuListTests
    {
        [Theory]
        [InlineData(262144UL, 63)]   // 1 GiB and more: 63
        [InlineData(1044480UL, 63)]
        [InlineData(65536UL, 15)]    // 256 MiB: 64/4 = 16 -> 2^4 - 1
        [InlineData(16384UL, 3)]     // 64 MiB
        [InlineData(3975UL, 0)]      // a DMA zone: pageset batch 1, high 0
        public void Zone_batchsize_is_a_quarter_of_a_1MiB_or_1_1024_chunk_rounded_to_2n_minus_1(ulong managed, int batch)
        {
            Assert.Equal(batch, PageAllocator.ZoneBatchsize(managed));
        }

        [Fact]
        public void Pageset_high_is_six_batches_and_a_tiny_zone_gets_batch_1_high_0()
        {
            using var m = Flat(1 * GiB);
            Assert.Equal(63, m.Zone(ZoneType.Dma32).Pcp.Batch);
            Assert.Equal(6 * 63, m.Zone(ZoneType.Dma32).Pcp.High);
            Assert.Equal(1, m.Zone(ZoneType.Dma).Pcp.Batch);
            Assert.Equal(0, m.Zone(ZoneType.Dma).Pcp.High);
        }

        [Fact]
        public void An_empty_list_is_refilled_with_a_batch_from_the_buddy_lists()
        {
            using var m = Flat(1 * GiB);
            ulong before = m.Pa.NrFreePages;
            m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(62, m.Zone(ZoneType.Dma32).Pcp.Count);
            Assert.Equal(before - 63, m.Pa.NrFreePages);
            m.AssertInvariants();
        }

        [Fact]
        public void A_freed_page_goes_to_the_hot_end_and_is_handed_out_next()
        {
            using var m = Flat(1 * GiB);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0);
            ulong b = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Free(a, 0);
            Assert.Equal(a, m.Alloc(Gfp.GFP_KERNEL, 0));
            m.Free(b, 0);
            Assert.NotEqual(b, m.Alloc(Gfp.GFP_KERNEL | Gfp.Cold, 0));   // cold comes from the other end
            m.AssertInvariants();
        }

        [Fact]
        public void Reaching_high_returns_a_batch_to_the_buddy_lists()
        {
            using var m = Flat(1 * GiB);
            m.Pa.Options.FairZoneAllocation = false;   // every page from DMA32's list (the fair pass would send some to DMA)
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            var pages = new ulong[z.Pcp.High + 63];
            for (int i = 0; i < pages.Length; i++) pages[i] = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Pa.DrainPerCpuLists();
            for (int i = 0; i < z.Pcp.High - 1; i++) m.Free(pages[i], 0);
            Assert.Equal(z.Pcp.High - 1, z.Pcp.Count);
            m.Free(pages[z.Pcp.High - 1], 0);
            Assert.Equal(z.Pcp.High - z.Pcp.Batch, z.Pcp.Count);
            m.AssertInvariants();
        }

        [Fact]
        public void Draining_returns_every_per_cpu_page_and_the_buddies_merge_again()
        {
            using var m = Flat(1 * GiB);
            string fresh = m.BuddyInfo();
            var pages = new ulong[100];
            for (int i = 0; i < pages.Length; i++) pages[i] = m.Alloc(Gfp.GFP_KERNEL, 0);
            foreach (var p in pages) m.Free(p, 0);
            Assert.NotEqual(0UL, m.Pa.PcpPages);
            m.Pa.DrainPerCpuLists();
            Assert.Equal(0UL, m.Pa.PcpPages);
            Assert.Equal(fresh, m.BuddyInfo());
            m.AssertInvariants();
        }

        [Fact]
        public void Switched_off_order_0_pages_go_straight_to_the_buddy_lists()
        {
            using var m = Flat(1 * GiB, pcp: false);
            ulong before = m.Pa.NrFreePages;
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(before - 1, m.Pa.NrFreePages);
            m.Free(a, 0);
            Assert.Equal(before, m.Pa.NrFreePages);
            Assert.Equal(0UL, m.Pa.PcpPages);
        }

        [Fact]
        public void Higher_orders_never_use_the_per_cpu_lists()
        {
            using var m = Flat(1 * GiB);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 1);
            Assert.Equal(0UL, m.Pa.PcpPages);
            m.Free(a, 1);
            Assert.Equal(0UL, m.Pa.PcpPages);
        }
    }
}
