using System.Collections.Generic;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// The fair zone allocation pass of seed 003 (get_page_from_freelist with ALLOC_FAIR,
    /// NR_ALLOC_BATCH, ZONE_FAIR_DEPLETED, reset_alloc_batches and the rescan without fairness),
    /// and the 2.6-era single scan it replaces (AllocatorOptions.FairZoneAllocation = false).
    /// </summary>
    public unsafe class FairZoneAllocationTests
    {
        /// <summary>1 GiB from pfn 0, no per-cpu lists: DMA (batch 4) and DMA32 (batch 252).</summary>
        private static Machine OneGiB(bool fair)
        {
            var map = new MemoryMap();
            map.Add(0, 1 * GiB);
            return new Machine(map, new AllocatorOptions { PerCpuLists = false, FairZoneAllocation = fair });
        }

        private static ZoneType ZoneOf(Machine m, ulong pfn) => (ZoneType)m.Pa.PfnToPage(pfn)->Zone;

        [Fact]
        public void The_fair_pass_is_on_by_default_as_in_the_seed()
        {
            Assert.True(new AllocatorOptions().FairZoneAllocation);
        }

        [Fact]
        public void A_zone_batch_starts_at_high_minus_low()
        {
            using var m = OneGiB(fair: true);
            foreach (ZoneType t in new[] { ZoneType.Dma, ZoneType.Dma32 })
            {
                ref Zone z = ref m.Zone(t);
                Assert.Equal(z.WatermarkHigh - z.WatermarkLow, z.AllocBatch);
                Assert.False(z.FairDepleted);
            }
            Assert.Equal(4, m.Zone(ZoneType.Dma).AllocBatch);
            Assert.Equal(252, m.Zone(ZoneType.Dma32).AllocBatch);
        }

        [Fact]
        public void Each_allocation_takes_its_pages_from_the_zone_batch_and_a_used_up_batch_marks_the_zone_depleted()
        {
            using var m = OneGiB(fair: true);
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            long batch = z.AllocBatch;
            m.Alloc(Gfp.GFP_KERNEL, 2);
            Assert.Equal(batch - 4, z.AllocBatch);
            Assert.False(z.FairDepleted);
            while (z.AllocBatch > 0) Assert.Equal(ZoneType.Dma32, ZoneOf(m, m.Alloc(Gfp.GFP_KERNEL, 0)));
            Assert.True(z.FairDepleted);
        }

        [Fact]
        public void The_fair_pass_skips_a_depleted_zone_and_serves_the_next_local_zone()
        {
            using var m = OneGiB(fair: true);
            ref Zone dma32 = ref m.Zone(ZoneType.Dma32);
            while (!dma32.FairDepleted) m.Alloc(Gfp.GFP_KERNEL, 0);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(ZoneType.Dma, ZoneOf(m, pfn));
            Assert.Equal(1UL, m.Pa.Stat.PgallocDma);
        }

        [Fact]
        public void When_every_local_batch_is_used_up_the_batches_are_reset_and_the_allocation_is_retried_without_fairness()
        {
            using var m = OneGiB(fair: true);
            ref Zone dma32 = ref m.Zone(ZoneType.Dma32);
            ref Zone dma = ref m.Zone(ZoneType.Dma);
            while (!dma32.FairDepleted || !dma.FairDepleted) m.Alloc(Gfp.GFP_KERNEL, 0);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            // The rescan without ALLOC_FAIR takes the first zone that passes its watermark: DMA32.
            Assert.Equal(ZoneType.Dma32, ZoneOf(m, pfn));
            // reset_alloc_batches ran first: DMA got high - low back, DMA32 too, less this page.
            Assert.False(dma.FairDepleted);
            Assert.Equal(dma.WatermarkHigh - dma.WatermarkLow, dma.AllocBatch);
            Assert.Equal(dma32.WatermarkHigh - dma32.WatermarkLow - 1, dma32.AllocBatch);
            Assert.False(dma32.FairDepleted);
            m.AssertInvariants();
        }

        [Fact]
        public void The_fair_pass_spreads_allocations_over_the_local_zones_in_proportion_to_their_batches()
        {
            using var m = OneGiB(fair: true);
            long bDma = m.Zone(ZoneType.Dma).AllocBatch, bDma32 = m.Zone(ZoneType.Dma32).AllocBatch;
            int rounds = 20, n = (int)(rounds * (bDma + bDma32));
            for (int i = 0; i < n; i++) Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            // Each round: DMA32's batch, then DMA's, then a reset (whose rescan takes one more DMA32 page).
            ulong dma = m.Pa.Stat.PgallocDma, dma32 = m.Pa.Stat.PgallocDma32;
            Assert.Equal((ulong)n, dma + dma32);
            Assert.InRange((long)dma, (rounds - 1) * bDma, rounds * bDma);
            m.AssertInvariants();
        }

        [Fact]
        public void Without_the_fair_pass_every_page_comes_from_the_highest_zone_above_its_low_watermark()
        {
            using var m = OneGiB(fair: false);
            for (int i = 0; i < 20 * 256; i++) Assert.Equal(ZoneType.Dma32, ZoneOf(m, m.Alloc(Gfp.GFP_KERNEL, 0)));
            Assert.Equal(0UL, m.Pa.Stat.PgallocDma);
        }

        [Fact]
        public void Without_the_fair_pass_the_lower_zone_serves_only_once_the_higher_one_is_at_low()
        {
            using var m = OneGiB(fair: false);
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma32, m.Zone(ZoneType.Dma32).WatermarkLow, held);
            ulong pgallocDma = m.Pa.Stat.PgallocDma;
            Assert.Equal(ZoneType.Dma, ZoneOf(m, m.Alloc(Gfp.GFP_KERNEL, 0)));
            Assert.Equal(pgallocDma + 1, m.Pa.Stat.PgallocDma);
        }

        [Fact]
        public void The_fair_pass_never_takes_a_zone_below_its_low_watermark()
        {
            using var m = OneGiB(fair: true);
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma, m.Zone(ZoneType.Dma).WatermarkLow, held);
            ulong before = m.Pa.Stat.PgallocDma;
            for (int i = 0; i < 3 * 256; i++) Assert.Equal(ZoneType.Dma32, ZoneOf(m, m.Alloc(Gfp.GFP_KERNEL, 0)));
            Assert.Equal(before, m.Pa.Stat.PgallocDma);
        }

        [Fact]
        public void With_per_cpu_lists_the_fair_pass_still_charges_each_page_to_its_zone_batch()
        {
            var map = new MemoryMap();
            map.Add(0, 1 * GiB);
            using var m = new Machine(map, new AllocatorOptions { PerCpuLists = true, FairZoneAllocation = true });
            long bDma = m.Zone(ZoneType.Dma).AllocBatch, bDma32 = m.Zone(ZoneType.Dma32).AllocBatch;
            for (int i = 0; i < 10 * (bDma + bDma32); i++) m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.True(m.Pa.Stat.PgallocDma >= 9UL * (ulong)bDma, $"pgalloc_dma {m.Pa.Stat.PgallocDma}");
            m.AssertInvariants();
        }

        /// <summary>Node 0: DMA + DMA32 (0..32 MiB); node 1: DMA32 (32..64 MiB).</summary>
        private static Machine TwoNodes(bool fair)
        {
            var map = new MemoryMap();
            map.Add(0, 32 * MiB, 0);
            map.Add(32 * MiB, 32 * MiB, 1);
            return new Machine(map, new AllocatorOptions { PerCpuLists = false, FairZoneAllocation = fair });
        }

        [Fact]
        public void Used_up_batches_keep_allocations_on_the_local_node_while_it_is_above_low()
        {
            using var m = TwoNodes(fair: true);
            for (int i = 0; i < 2000; i++)
                Assert.Equal(0, m.Pa.PfnToPage(m.Alloc(Gfp.GFP_KERNEL, 0))->Nid);
            Assert.True(m.Zone(ZoneType.Dma32, 1).NrFree == (long)m.Zone(ZoneType.Dma32, 1).ManagedPages, "node 1 untouched");
            m.Pa.NumaCounters(1, out ulong hit1, out ulong miss1, out _, out _, out _);
            Assert.Equal(0UL, hit1 + miss1);
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void At_the_local_low_watermark_the_allocation_spills_to_the_remote_node(bool fair)
        {
            using var m = TwoNodes(fair);
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma32, m.Zone(ZoneType.Dma32, 0).WatermarkLow, held);
            m.DrainZoneTo(ZoneType.Dma, m.Zone(ZoneType.Dma, 0).WatermarkLow, held);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(1, m.Pa.PfnToPage(pfn)->Nid);
        }
    }
}
