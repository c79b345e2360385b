using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// The state the order-0 entries precompute instead of deriving it on every call: each zone's
    /// pcp floor (WatermarkLow + LowmemReserve[own type]), each node's preferred per-cpu zone (the
    /// first zone of its ZONE_NORMAL zonelist, or none when the entry is closed), each descriptor's
    /// page_zone_id, and pgalloc indexed by zone type. Each must equal what it stands for after
    /// set-up and after every change of what it is made from.
    /// </summary>
    public unsafe class FastPathStateTests
    {
        /// <summary>Node 0 with DMA and DMA32 (0..3 GiB), node 1 with Normal (4..6 GiB), per-cpu lists on.</summary>
        private static Machine TwoNodes(ZonelistOrder order = ZonelistOrder.Node)
        {
            var map = new MemoryMap();
            Assert.Equal(MmResult.Ok, map.Add(0, 3 * GiB, 0));
            Assert.Equal(MmResult.Ok, map.Add(4 * GiB, 2 * GiB, 1));
            return new Machine(map, new AllocatorOptions { ZonelistOrder = order });
        }

        private static void AssertFloorsFollowWatermarksAndReserves(Machine m, int nodes)
        {
            for (int nid = 0; nid < nodes; nid++)
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    ref Zone z = ref m.Zone((ZoneType)t, nid);
                    Assert.Equal(z.WatermarkLow + z.LowmemReserve[t], z.PcpFloor);
                }
        }

        [Fact]
        public void The_pcp_floor_of_every_zone_is_its_low_watermark_plus_its_own_lowmem_reserve_after_set_up()
        {
            using var flat = Flat(1 * GiB);
            AssertFloorsFollowWatermarksAndReserves(flat, 1);
            Assert.True(flat.Zone(ZoneType.Dma32).PcpFloor > 0);
            using var two = TwoNodes();
            AssertFloorsFollowWatermarksAndReserves(two, 2);
            Assert.True(two.Zone(ZoneType.Normal, 1).PcpFloor > 0);
        }

        [Fact]
        public void The_pcp_floor_follows_a_min_free_kbytes_change_on_every_node()
        {
            using var m = TwoNodes();
            long before = m.Zone(ZoneType.Normal, 1).PcpFloor;
            Assert.Equal(MmResult.Ok, m.Pa.SetMinFreeKbytes(m.Pa.MinFreeKbytes * 4));
            AssertFloorsFollowWatermarksAndReserves(m, 2);
            Assert.True(m.Zone(ZoneType.Normal, 1).PcpFloor > before);
            Assert.Equal(MmResult.Ok, m.Pa.SetMinFreeKbytes(0));
            AssertFloorsFollowWatermarksAndReserves(m, 2);
            Assert.Equal(0, m.Zone(ZoneType.Normal, 1).PcpFloor);
        }

        [Fact]
        public void The_pcp_floor_follows_a_watermark_scale_factor_change()
        {
            using var m = Flat(1 * GiB);
            long before = m.Zone(ZoneType.Dma32).PcpFloor;
            Assert.Equal(MmResult.Ok, m.Pa.SetWatermarkScaleFactor(1000));   // 10 % of the zone between min and low
            AssertFloorsFollowWatermarksAndReserves(m, 1);
            Assert.True(m.Zone(ZoneType.Dma32).PcpFloor > before);
        }

        [Fact]
        public void A_raised_min_free_kbytes_keeps_the_per_cpu_entry_off_a_zone_now_below_its_floor()
        {
            using var m = Flat(1 * GiB);
            m.Pa.Options.FairZoneAllocation = false;
            Assert.Equal(MmResult.Ok, m.Free(m.Alloc(Gfp.GFP_KERNEL, 0), 0));
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            int count = z.Pcp.Count;
            Assert.True(count > 0);
            // min_free_kbytes of about all of memory: DMA32's low mark (min + min/4) is above its free pages.
            Assert.Equal(MmResult.Ok, m.Pa.SetMinFreeKbytes(1024 * 1024));
            Assert.True(z.NrFree <= z.PcpFloor);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL | Gfp.NoWarn, 0);
            Assert.Equal(count, z.Pcp.Count);   // not served from DMA32's per-cpu list
            if (pfn != PageAllocator.NoPfn) Assert.NotEqual(ZoneType.Dma32, (ZoneType)m.Pa.PfnToPage(pfn)->Zone);
        }

        [Fact]
        public void Each_nodes_per_cpu_entry_zone_is_the_first_zone_of_its_normal_zonelist_in_either_zonelist_order()
        {
            using var m = TwoNodes();
            int* buf = stackalloc int[16];
            for (int pass = 0; pass < 2; pass++)
            {
                for (int nid = 0; nid < 2; nid++)
                {
                    Assert.True(m.Pa.GetZonelist(nid, Gfp.GFP_KERNEL, buf, 16) > 0);
                    Assert.Equal(buf[0], m.Pa.PcpEntryZone(nid));
                }
                m.Pa.SetZonelistOrder(ZonelistOrder.Zone);   // the second pass after the rebuild
            }
            // Zone order puts the Normal zones of every node first: node 0's preferred zone is node 1's Normal.
            Assert.Equal(1 * MmConstants.MaxNrZones + (int)ZoneType.Normal, m.Pa.PcpEntryZone(0));
            Assert.Equal(-1, m.Pa.PcpEntryZone(2));   // no such node
        }

        [Fact]
        public void The_per_cpu_entry_is_closed_without_per_cpu_lists()
        {
            using var m = Flat(1 * GiB, pcp: false);
            Assert.Equal(-1, m.Pa.PcpEntryZone(0));
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.NotEqual(PageAllocator.NoPfn, pfn);
            Assert.Equal(0, m.Zone(ZoneType.Dma32).Pcp.Count);
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            Assert.Equal(0, m.Zone(ZoneType.Dma32).Pcp.Count);   // freed to the buddy lists, not a per-cpu list
        }

        [Fact]
        public void A_task_on_a_node_that_does_not_exist_is_served_as_node_zero_through_the_general_path()
        {
            using var m = TwoNodes();
            m.Task.Nid = 5;
            ulong localBefore = m.Zone(ZoneType.Dma32, 0).NumaLocal;
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.NotEqual(PageAllocator.NoPfn, pfn);
            Assert.Equal(0, m.Pa.PfnToPage(pfn)->Nid);
            Assert.Equal(localBefore + 1, m.Zone(ZoneType.Dma32, 0).NumaLocal);   // LocalNid: node 0, so local
            m.AssertInvariants();
        }

        [Fact]
        public void Every_descriptor_names_its_zone_by_page_zone_id()
        {
            using var m = TwoNodes();
            for (ulong pfn = m.Pa.MinPfn; pfn < m.Pa.MaxPfn; pfn += 97)
            {
                Page* p = m.Pa.PfnToPage(pfn);
                Assert.Equal(p->Nid * MmConstants.MaxNrZones + p->Zone, p->ZoneId);
            }
        }

        [Fact]
        public void The_checker_reports_a_descriptor_whose_zone_id_is_not_its_node_and_zone()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Pa.PfnToPage(pfn)->ZoneId = (ushort)ZoneType.Normal;
            Assert.Contains("zone id", m.Invariants());
        }

        [Fact]
        public void A_free_whose_descriptor_zone_id_is_outside_the_zone_table_takes_the_general_path_by_node_and_zone()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Pa.PfnToPage(pfn)->ZoneId = 1000;
            // The fast path leaves it to FreeBlock, which finds the zone from Nid and Zone as before.
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            m.Pa.PfnToPage(pfn)->ZoneId = (ushort)ZoneType.Dma32;
            m.AssertInvariants();
        }

        [Fact]
        public void Pgalloc_is_counted_in_the_slot_of_the_serving_zones_type()
        {
            using var m = TwoNodes();
            ulong dma = m.Pa.Stat.PgallocDma, dma32 = m.Pa.Stat.PgallocDma32, normal = m.Pa.Stat.PgallocNormal;
            m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma, 0);
            m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma32, 0);
            m.Task.Nid = 1;
            m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Alloc(Gfp.GFP_KERNEL, 2);
            Assert.Equal(dma + 1, m.Pa.Stat.PgallocDma);
            Assert.Equal(dma32 + 1, m.Pa.Stat.PgallocDma32);
            Assert.Equal(normal + 5, m.Pa.Stat.PgallocNormal);
            Assert.Equal(m.Pa.Stat.PgallocNormal, m.Pa.Stat.Pgalloc[(int)ZoneType.Normal]);
        }
    }
}
