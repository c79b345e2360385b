using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>GFP flags, gfp_zone and zonelists in fallback order.</summary>
    public unsafe class GfpAndZonelistTests
    {
        [Fact]
        public void Gfp_composites_have_their_seed_era_values()
        {
            Assert.Equal(0xd0u, (uint)Gfp.GFP_KERNEL);
            Assert.Equal(0x20u, (uint)Gfp.GFP_ATOMIC);
            Assert.Equal(0x50u, (uint)Gfp.GFP_NOFS);
            Assert.Equal(0x10u, (uint)Gfp.GFP_NOIO);
            Assert.Equal(0x200d0u, (uint)Gfp.GFP_USER);
            Assert.Equal(0x200dau, (uint)Gfp.GFP_HIGHUSER_MOVABLE);
            Assert.Equal(0x41200u, (uint)Gfp.GFP_THISNODE);
        }

        [Fact]
        public void Gfp_zone_picks_the_highest_zone_the_mask_allows()
        {
            Assert.Equal((int)ZoneType.Normal, PageAllocator.GfpZone(Gfp.GFP_KERNEL));
            Assert.Equal((int)ZoneType.Normal, PageAllocator.GfpZone(Gfp.GFP_HIGHUSER_MOVABLE));
            Assert.Equal((int)ZoneType.Dma32, PageAllocator.GfpZone(Gfp.GFP_KERNEL | Gfp.Dma32));
            Assert.Equal((int)ZoneType.Dma, PageAllocator.GfpZone(Gfp.GFP_KERNEL | Gfp.Dma));
            Assert.Equal(-1, PageAllocator.GfpZone(Gfp.Dma | Gfp.Dma32));
        }

        [Fact]
        public void Dma_and_dma32_together_are_refused_with_a_warning()
        {
            using var m = Flat(64 * MiB);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma | Gfp.Dma32, 0));
            Assert.Contains("GFP_ZONE_BAD", m.Log.ToString());
        }

        private static int[] Zonelist(Machine m, int nid, Gfp gfp)
        {
            int* buf = stackalloc int[32];
            int n = m.Pa.GetZonelist(nid, gfp, buf, 32);
            var r = new int[n];
            for (int i = 0; i < n; i++) r[i] = buf[i];
            return r;
        }

        [Fact]
        public void A_zonelist_runs_from_the_highest_allowed_zone_down_to_DMA()
        {
            using var m = Flat(6 * GiB);
            Assert.Equal(new[] { 2, 1, 0 }, Zonelist(m, 0, Gfp.GFP_KERNEL));
            Assert.Equal(new[] { 1, 0 }, Zonelist(m, 0, Gfp.GFP_KERNEL | Gfp.Dma32));
            Assert.Equal(new[] { 0 }, Zonelist(m, 0, Gfp.GFP_KERNEL | Gfp.Dma));
        }

        [Fact]
        public void Empty_zones_are_left_out_of_zonelists()
        {
            using var m = Flat(64 * MiB);
            Assert.Equal(new[] { 1, 0 }, Zonelist(m, 0, Gfp.GFP_KERNEL));
        }

        private static Machine TwoNodes()
        {
            var map = new MemoryMap();
            map.Add(0, 8 * MiB, 0);              // node 0: DMA
            map.Add(8 * MiB, 8 * MiB, 1);        // node 1: DMA ...
            map.Add(16 * MiB, 16 * MiB, 1);      // ... and DMA32
            return new Machine(map, new AllocatorOptions { PerCpuLists = false });
        }

        [Fact]
        public void A_zonelist_takes_the_local_node_first_then_the_other_nodes()
        {
            using var m = TwoNodes();
            Assert.Equal(2, m.Pa.NodeCount);
            // zone index = nid * 3 + type
            Assert.Equal(new[] { 0, 4, 3 }, Zonelist(m, 0, Gfp.GFP_KERNEL));
            Assert.Equal(new[] { 4, 3, 0 }, Zonelist(m, 1, Gfp.GFP_KERNEL));
        }

        [Fact]
        public void GFP_THISNODE_zonelists_hold_only_the_local_node()
        {
            using var m = TwoNodes();
            Assert.Equal(new[] { 4, 3 }, Zonelist(m, 1, Gfp.GFP_KERNEL | Gfp.ThisNode));
            Assert.Equal(new[] { 0 }, Zonelist(m, 0, Gfp.GFP_KERNEL | Gfp.ThisNode));
        }

        [Fact]
        public void Allocations_come_from_the_local_node_and_spill_to_the_next_node_when_it_runs_low()
        {
            using var m = TwoNodes();
            m.Task.Nid = 1;
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            unsafe { Assert.Equal(1, m.Pa.PfnToPage(pfn)->Nid); }
            m.Task.Nid = 0;
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma, m.Zone(ZoneType.Dma, 0).WatermarkLow, held);
            ulong spilled = m.Alloc(Gfp.GFP_KERNEL | Gfp.ThisNode | Gfp.NoWarn | Gfp.NoRetry, 0);
            Assert.Equal(PageAllocator.NoPfn, spilled);   // node 0 is at its low watermark; THISNODE may not spill
            ulong other = m.Alloc(Gfp.GFP_KERNEL, 0);
            unsafe { Assert.Equal(1, m.Pa.PfnToPage(other)->Nid); }
            m.AssertInvariants();
        }

        [Fact]
        public void GFP_DMA_allocations_come_only_from_ZONE_DMA()
        {
            using var m = Flat(64 * MiB, pcp: false);
            for (int i = 0; i < 100; i++)
                Assert.True(m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma, 0) < MmConstants.DmaLimitPfn);
            Assert.Equal(100UL, m.Pa.Stat.PgallocDma);
        }

        [Fact]
        public void GFP_KERNEL_prefers_the_highest_zone()
        {
            using var m = Flat(64 * MiB, pcp: false);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.True(pfn >= MmConstants.DmaLimitPfn);
            Assert.Equal(1UL, m.Pa.Stat.PgallocDma32);
        }

        [Fact]
        public void Lower_zones_protect_themselves_with_lowmem_reserve()
        {
            using var m = Flat(64 * MiB, pcp: false);
            ref Zone dma = ref m.Zone(ZoneType.Dma);
            long reserve = dma.Protection((int)ZoneType.Dma32);
            Assert.Equal(12288 / 256, reserve);
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma32, 0, held);
            m.DrainZoneTo(ZoneType.Dma, dma.WatermarkLow + reserve + 1, held);
            // GFP_KERNEL (classzone DMA32) may take DMA pages only above low + lowmem_reserve[DMA32].
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL | Gfp.NoWarn | Gfp.NoRetry, 0);
            Assert.True(pfn < MmConstants.DmaLimitPfn);
            Assert.Equal(dma.WatermarkLow + reserve, dma.NrFree);
            // A GFP_DMA request (classzone DMA) has no reserve to respect and still gets a page at the low mark.
            ulong dmaPfn = m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma | Gfp.NoWarn | Gfp.NoRetry, 0);
            Assert.NotEqual(PageAllocator.NoPfn, dmaPfn);
            m.AssertInvariants();
        }
    }
}
