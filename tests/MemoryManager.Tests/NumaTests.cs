using System.Collections.Generic;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;
using MemoryManager.Tests.Reclaim;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// Nodes as the firmware describes them (SRAT ranges, SLIT distances): zonelists ordered by
    /// distance in node or zone order, the numa_* counters, home nodes, zone_reclaim_mode, and
    /// one kswapd per node woken for its own zones.
    /// </summary>
    public unsafe class NumaTests
    {
        private static int[] Zonelist(Machine m, int nid, Gfp gfp)
        {
            int* buf = stackalloc int[64];
            int n = m.Pa.GetZonelist(nid, gfp, buf, 64);
            var r = new int[n];
            for (int i = 0; i < n; i++) r[i] = buf[i];
            return r;
        }

        /// <summary>
        /// Four nodes of 16 MiB from 16 MiB on (DMA32 each; node 0 also has DMA below 16 MiB) with
        /// a SLIT where 0-1 and 2-3 are near (15) and the pairs far apart (30 or 40).
        /// </summary>
        private static MemoryMap FourNodes()
        {
            var map = new MemoryMap();
            map.Add(1 * MiB, 31 * MiB, 0);
            map.Add(32 * MiB, 16 * MiB, 1);
            map.Add(48 * MiB, 16 * MiB, 2);
            map.Add(64 * MiB, 16 * MiB, 3);
            int[,] d = { { 10, 15, 40, 30 }, { 15, 10, 30, 40 }, { 40, 30, 10, 15 }, { 30, 40, 15, 10 } };
            for (int f = 0; f < 4; f++)
                for (int t = 0; t < 4; t++) Assert.Equal(MmResult.Ok, map.SetDistance(f, t, d[f, t]));
            return map;
        }

        [Fact]
        public void Without_a_SLIT_a_node_is_10_from_itself_and_20_from_the_others()
        {
            var map = new MemoryMap();
            Assert.Equal(10, map.Distance(1, 1));
            Assert.Equal(20, map.Distance(0, 3));
        }

        [Theory]
        [InlineData(0, 0, 11)]
        [InlineData(0, 1, 10)]
        [InlineData(0, 1, 9)]
        [InlineData(0, 1, 255)]
        [InlineData(0, 8, 20)]
        [InlineData(-1, 0, 20)]
        public void A_SLIT_entry_that_is_not_a_distance_is_refused(int from, int to, int distance)
        {
            var map = new MemoryMap();
            Assert.Equal(MmResult.BadArgument, map.SetDistance(from, to, distance));
            if ((uint)from < 8 && (uint)to < 8) Assert.Equal(from == to ? 10 : 20, map.Distance(from, to));
        }

        [Fact]
        public void Zonelists_take_the_nodes_nearest_first_by_the_SLIT()
        {
            using var m = new Machine(FourNodes(), new AllocatorOptions { PerCpuLists = false });
            Assert.Equal(4, m.Pa.NodeCount);
            Assert.Equal(40, m.Pa.NodeDistance(0, 2));
            // zone index = nid * 3 + type; DMA32 is type 1.
            Assert.Equal(new[] { 1, 0, 4, 10, 7 }, Zonelist(m, 0, Gfp.GFP_KERNEL));   // 0, then 1 (15), 3 (30), 2 (40)
            Assert.Equal(new[] { 7, 10, 4, 1, 0 }, Zonelist(m, 2, Gfp.GFP_KERNEL));   // 2, then 3 (15), 1 (30), 0 (40)
        }

        [Fact]
        public void Equally_distant_nodes_follow_the_local_node_in_node_number_order()
        {
            var map = new MemoryMap();
            for (int n = 0; n < 4; n++) map.Add((ulong)(16 + 16 * n) * MiB, 16 * MiB, n);
            using var m = new Machine(map, new AllocatorOptions { PerCpuLists = false });
            Assert.Equal(new[] { 7, 10, 1, 4 }, Zonelist(m, 2, Gfp.GFP_KERNEL));      // 2, 3, 0, 1
        }

        [Fact]
        public void Zone_order_takes_each_zone_type_of_every_node_before_the_next_lower_type()
        {
            var map = new MemoryMap();
            map.Add(0, 32 * MiB, 0);             // node 0: DMA, DMA32
            map.Add(32 * MiB, 32 * MiB, 1);      // node 1: DMA32
            using var node = new Machine(map, new AllocatorOptions { PerCpuLists = false, ZonelistOrder = ZonelistOrder.Node });
            using var zone = new Machine(map, new AllocatorOptions { PerCpuLists = false, ZonelistOrder = ZonelistOrder.Zone });
            Assert.Equal(new[] { 1, 0, 4 }, Zonelist(node, 0, Gfp.GFP_KERNEL));
            Assert.Equal(new[] { 1, 4, 0 }, Zonelist(zone, 0, Gfp.GFP_KERNEL));
            node.Pa.SetZonelistOrder(ZonelistOrder.Zone);
            Assert.Equal(new[] { 1, 4, 0 }, Zonelist(node, 0, Gfp.GFP_KERNEL));
        }

        /// <summary>Node 0: DMA + DMA32 (0..32 MiB); node 1: DMA32 (32..64 MiB).</summary>
        private static Machine TwoNodes()
        {
            var map = new MemoryMap();
            map.Add(0, 32 * MiB, 0);
            map.Add(32 * MiB, 32 * MiB, 1);
            return new Machine(map, new AllocatorOptions { PerCpuLists = false });
        }

        [Fact]
        public void A_local_allocation_counts_numa_hit_and_local_node_on_the_zone_that_served_it()
        {
            using var m = TwoNodes();
            m.Task.Nid = 1;
            for (int i = 0; i < 10; i++) m.Alloc(Gfp.GFP_KERNEL, i % 3);
            ref Zone z = ref m.Zone(ZoneType.Dma32, 1);
            Assert.Equal(10UL, z.NumaHit);
            Assert.Equal(10UL, z.NumaLocal);
            m.Pa.NumaCounters(-1, out ulong hit, out ulong miss, out ulong foreign, out ulong local, out ulong other);
            Assert.Equal((10UL, 0UL, 0UL, 10UL, 0UL), (hit, miss, foreign, local, other));
        }

        [Fact]
        public void A_spilled_allocation_counts_numa_miss_and_other_node_remotely_and_numa_foreign_on_the_preferred_zone()
        {
            using var m = TwoNodes();
            var held = new List<(ulong, int)>();
            m.DrainZoneTo(ZoneType.Dma32, m.Zone(ZoneType.Dma32, 0).WatermarkLow, held);
            m.DrainZoneTo(ZoneType.Dma, m.Zone(ZoneType.Dma, 0).WatermarkLow, held);
            m.Pa.NumaCounters(0, out ulong hit0, out _, out ulong foreign0, out _, out _);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(1, m.Pa.PfnToPage(pfn)->Nid);
            m.Pa.NumaCounters(1, out ulong hit1, out ulong miss1, out _, out ulong local1, out ulong other1);
            Assert.Equal((0UL, 1UL, 0UL, 1UL), (hit1, miss1, local1, other1));
            m.Pa.NumaCounters(0, out ulong hit0b, out _, out ulong foreign0b, out _, out _);
            Assert.Equal(hit0, hit0b);
            Assert.Equal(foreign0 + 1, foreign0b);
        }

        [Fact]
        public void Numastat_prints_a_column_per_node_and_vmstat_the_sums()
        {
            using var m = TwoNodes();
            m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Task.Nid = 1;
            m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Alloc(Gfp.GFP_KERNEL, 0);
            var s = new StringSink();
            m.Pa.WriteNumaStat(s);
            string[] lines = s.ToString().Split('\n');
            Assert.Equal("                           node0           node1", lines[0]);
            Assert.Equal("numa_hit                       1               2", lines[1]);
            Assert.Equal("numa_miss                      0               0", lines[2]);
            Assert.Equal("numa_foreign                   0               0", lines[3]);
            Assert.Equal("local_node                     1               2", lines[4]);
            Assert.Equal("other_node                     0               0", lines[5]);
            Assert.Contains("numa_hit 3\n", m.VmStat());
            Assert.Contains("Node 1, zone    DMA32", m.BuddyInfo());
            Assert.Contains("    numa_hit 2\n", m.ZoneInfo());
        }

        [Fact]
        public void A_one_node_machine_prints_no_numa_lines_in_vmstat_or_zoneinfo()
        {
            using var m = Flat(64 * MiB);
            m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.DoesNotContain("numa_", m.VmStat());
            Assert.DoesNotContain("numa_", m.ZoneInfo());
        }

        [Fact]
        public void Numa_hardware_lists_each_node_size_and_the_distance_table()
        {
            using var m = new Machine(FourNodes(), new AllocatorOptions { PerCpuLists = false });
            var s = new StringSink();
            m.Pa.WriteNumaHardware(s);
            string t = s.ToString();
            Assert.StartsWith("available: 4 nodes (0-3)\n", t);
            Assert.Contains("node 0 size: 31 MB\n", t);
            Assert.Contains("node 3 size: 16 MB\n", t);
            Assert.Contains("node distances:\nnode    0   1   2   3\n  0:   10  15  40  30\n", t);
        }

        // ------------------------------------------------------------ processes and reclaim

        /// <summary>Node 0: 1..17 MiB; node 1: 17..33 MiB (real memory, reclaim and swap wired).</summary>
        private static Rig TwoNodeRig()
        {
            var map = new MemoryMap();
            map.Add(1 * MiB, 16 * MiB, 0);
            map.Add(17 * MiB, 16 * MiB, 1);
            return new Rig(map: map);
        }

        [Fact]
        public void A_process_faults_its_pages_in_on_its_home_node()
        {
            using var r = TwoNodeRig();
            int p = r.Spawn("homed");
            Assert.Equal(ProcResult.Ok, r.Vm.Procs.SetHomeNode(p, 1, r.Pa.NodeCount));
            r.TouchAnon(p, 64);
            Assert.Equal(64UL, r.Vm.Nodes[1].Lru.Total);
            Assert.Equal(0UL, r.Vm.Nodes[0].Lru.Total);
            Assert.Equal(ProcResult.NoSuchNode, r.Vm.Procs.SetHomeNode(p, 2, r.Pa.NodeCount));
            Assert.Equal(1, r.Vm.Procs.ContextOf(p).Nid);
        }

        /// <summary>Touches process p's anon pages one by one (home node 0) until one lands on node 1; returns the next vpage.</summary>
        private static int FillHomeNodeUntilSpill(Rig r, int p)
        {
            int v = 0;
            while (r.Vm.Nodes[1].Lru.Total == 0)
            {
                Assert.True(v < 8192, "node 0 never spilled");
                r.TouchAnon(p, 1, v++);
            }
            return v;
        }

        [Fact]
        public void With_zone_reclaim_mode_off_allocations_spill_to_the_remote_node_before_any_reclaim()
        {
            using var r = TwoNodeRig();
            int p = r.Spawn("hog");
            int v = FillHomeNodeUntilSpill(r, p);
            r.TouchAnon(p, 16, v);
            Assert.Equal(17UL, r.Vm.Nodes[1].Lru.Total);
            Assert.Equal(0UL, r.Pa.Stat.PgscanDirect + r.Pa.Stat.PgscanKswapd + r.Pa.Stat.ZoneReclaim);
            Assert.Equal(0UL, r.Vm.Nodes[0].Kswapd.Wakes + r.Vm.Nodes[1].Kswapd.Wakes);
            r.Pa.NumaCounters(1, out _, out ulong miss1, out _, out _, out ulong other1);
            Assert.Equal(17UL, miss1);
            Assert.Equal(17UL, other1);
            r.AssertNoPageLost();
        }

        [Fact]
        public void With_zone_reclaim_mode_on_the_home_node_is_reclaimed_before_the_allocation_goes_off_node()
        {
            using var r = TwoNodeRig();
            int p = r.Spawn("hog");
            int v = FillHomeNodeUntilSpill(r, p);
            r.Pa.ZoneReclaimMode = PageAllocator.ReclaimZone | PageAllocator.ReclaimUnmap;
            r.TouchAnon(p, 16, v);
            Assert.Equal(1UL, r.Vm.Nodes[1].Lru.Total);
            Assert.True(r.Pa.Stat.ZoneReclaim > 0);
            Assert.True(r.Pa.Stat.Pswpout > 0, "node 0's anon pages went to swap to make room");
            r.AssertNoPageLost();
        }

        [Fact]
        public void Zone_reclaim_frees_onto_the_per_cpu_list_so_the_zone_passes_its_watermark_only_once_that_list_reaches_pcp_high()
        {
            // Node 0: DMA32 [16 MiB, 48 MiB); node 1: DMA32 [48 MiB, 80 MiB); per-cpu lists on.
            var map = new MemoryMap();
            map.Add(16 * MiB, 32 * MiB, 0);
            map.Add(48 * MiB, 32 * MiB, 1);
            using var r = new Rig(map: map, pcp: true);
            int p = r.Spawn("hog");
            int v = FillHomeNodeUntilSpill(r, p);
            ref Zone z = ref r.Pa.GetZone(0, ZoneType.Dma32);
            // The per-cpu list of a zone of 1 GiB or more (batch 63, high 6 x 63), as each node's
            // DMA32 zone has on `--numa 2 --memory 3G`.
            z.Pcp.Batch = 63;
            z.Pcp.High = 6 * 63;
            r.Pa.ZoneReclaimMode = PageAllocator.ReclaimZone | PageAllocator.ReclaimUnmap;
            long free = z.NrFree;
            int onList = z.Pcp.Count;
            ulong remote = r.Vm.Nodes[1].Lru.Total, stolen = r.Pa.Stat.PgstealDirect;
            // Eight faults: each zone reclaim frees 32 pages, all onto the list (not in NR_FREE_PAGES),
            // so the zone is still below low after each one and every page goes off node.
            r.TouchAnon(p, 8, v);
            ulong reclaimed = r.Pa.Stat.PgstealDirect - stolen;
            Assert.True(reclaimed >= 8 * 32, $"each of the 8 zone reclaims freed 32 pages ({reclaimed})");
            Assert.Equal(free, z.NrFree);
            Assert.Equal(onList + (int)reclaimed, z.Pcp.Count);
            Assert.Equal(remote + 8, r.Vm.Nodes[1].Lru.Total);
            // Once the list reaches pcp.high a batch goes back to the buddy lists: the zone passes
            // its watermark after a reclaim and the pages stay home.
            remote = r.Vm.Nodes[1].Lru.Total;
            r.TouchAnon(p, 16, v + 8);
            Assert.True(z.NrFree > free, "batches of the per-cpu list went back to the buddy lists");
            Assert.True(r.Vm.Nodes[1].Lru.Total - remote < 16, "with the list full, zone reclaim kept pages on the home node");
            r.AssertNoPageLost();
        }

        [Fact]
        public void Zone_reclaim_without_RECLAIM_UNMAP_leaves_anon_pages_mapped_and_the_allocation_spills()
        {
            using var r = TwoNodeRig();
            int p = r.Spawn("hog");
            int v = FillHomeNodeUntilSpill(r, p);
            r.Pa.ZoneReclaimMode = PageAllocator.ReclaimZone;
            r.TouchAnon(p, 4, v);
            Assert.Equal(0UL, r.Pa.Stat.Pswpout);
            Assert.Equal(5UL, r.Vm.Nodes[1].Lru.Total);
            Assert.True(r.Pa.Stat.ZoneReclaimFailed > 0);
        }

        [Fact]
        public void The_slow_path_wakes_only_the_kswapd_of_the_nodes_it_may_allocate_from()
        {
            using var r = TwoNodeRig();
            var t = new TaskContext(0, "bound", TaskFlags.None) { Nid = 1 };
            ref Zone z = ref r.Pa.GetZone(1, ZoneType.Dma32);
            // A node-bound kernel allocation (__GFP_THISNODE, not GFP_THISNODE) below node 1's low watermark.
            while (z.NrFree > z.WatermarkLow) r.Pa.AllocPages(ref t, Gfp.GFP_ATOMIC | Gfp.ThisNode | Gfp.NoWarn, 0);
            r.Pa.AllocPages(ref t, Gfp.GFP_ATOMIC | Gfp.ThisNode | Gfp.NoWarn, 0);
            Assert.Equal(1UL, r.Vm.Nodes[1].Kswapd.Wakes);
            Assert.Equal(0UL, r.Vm.Nodes[0].Kswapd.Wakes);
        }

        [Fact]
        public void When_every_node_is_below_low_the_slow_path_wakes_the_kswapd_of_each()
        {
            using var r = TwoNodeRig();
            var t = new TaskContext(0, "k", TaskFlags.None);
            // Node 0 and then node 1 below low: the slow path walks both, and wakes both (neither balanced).
            ref Zone z0 = ref r.Pa.GetZone(0, ZoneType.Dma);
            ref Zone z1 = ref r.Pa.GetZone(1, ZoneType.Dma32);
            while (z0.NrFree > z0.WatermarkLow || z1.NrFree > z1.WatermarkLow)
                r.Pa.AllocPages(ref t, Gfp.GFP_ATOMIC | Gfp.NoWarn | Gfp.NoKswapd, 0);
            r.Pa.AllocPages(ref t, Gfp.GFP_ATOMIC | Gfp.NoWarn, 0);
            Assert.Equal(1UL, r.Vm.Nodes[0].Kswapd.Wakes);
            Assert.Equal(1UL, r.Vm.Nodes[1].Kswapd.Wakes);
        }
    }
}
