using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;
using Kernel.Tests.Framework;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Workloads;

namespace Kernel.Tests
{
    /// <summary>
    /// NUMA from the firmware: the nodes the kernel built from the ACPI SRAT/SLIT that QEMU made
    /// for `TestRunner ... --numa N` (memory split evenly, distance 10 + 10 x |i - j|), local
    /// allocation while the home node is above low, the spill to the nearest remote node at low
    /// (numa_miss, other_node), one kswapd per node, zone_reclaim_mode, and every node in
    /// buddyinfo/zoneinfo. On a machine without an SRAT the first test checks that it booted as
    /// one node and the rest are skipped.
    ///
    /// A test that needs a node at its low watermark takes that node's pages above low in a
    /// "balloon" (GFP_THISNODE blocks from a task homed there: no reclaim, no spill), and gives
    /// them back at its end.
    /// </summary>
    public sealed unsafe class NumaSuite : TestSuite
    {
        public NumaSuite() : base("numa", AnyMemory, null)
        {
            Add("The_SRAT_gives_each_node_the_memory_and_distances_QEMU_was_given", &The_SRAT_gives_each_node_the_memory_and_distances_QEMU_was_given);
            Add("Each_node_has_its_own_zones_watermarks_and_kswapd_task", &Each_node_has_its_own_zones_watermarks_and_kswapd_task);
            Add("Each_node_memmap_lies_on_the_node_and_its_zones_managed_pages_pay_for_it", &Each_node_memmap_lies_on_the_node_and_its_zones_managed_pages_pay_for_it);
            Add("A_local_allocation_is_served_by_the_home_node_while_it_is_above_low", &A_local_allocation_is_served_by_the_home_node_while_it_is_above_low);
            Add("At_the_low_watermark_an_allocation_spills_to_the_nearest_remote_node", &At_the_low_watermark_an_allocation_spills_to_the_nearest_remote_node);
            Add("Only_the_home_node_kswapd_wakes_for_a_node_bound_allocation", &Only_the_home_node_kswapd_wakes_for_a_node_bound_allocation);
            Add("Zone_reclaim_mode_reclaims_the_home_node_before_the_allocation_goes_off_node", &Zone_reclaim_mode_reclaims_the_home_node_before_the_allocation_goes_off_node);
            Add("Buddyinfo_and_zoneinfo_print_every_node", &Buddyinfo_and_zoneinfo_print_every_node);
        }

        private const int BalloonCapacity = 8192;
        private static ulong[] s_balloonPfn;
        private static int[] s_balloonOrder;
        private static int s_balloonCount;

        private static int Nodes => AcpiNuma.Info.NodeCount;

        private static bool MultiNode(Assert a)
        {
            if (!Processes.IsAvailable) { a.Skip(string.Concat("processes are not available: ", Processes.UnavailableReason)); return false; }
            if (Nodes >= 2) return true;
            a.Skip("one node (no SRAT): boot with TestRunner --numa N");
            return false;
        }

        private static TaskContext On(int nid)
        {
            TaskContext t = TaskContext.Kernel;
            t.Nid = nid;
            return t;
        }

        /// <summary>Takes every block node <paramref name="nid"/> still gives at its low watermark (GFP_THISNODE: no reclaim, no other node).</summary>
        private static void Inflate(int nid)
        {
            if (s_balloonPfn == null) { s_balloonPfn = new ulong[BalloonCapacity]; s_balloonOrder = new int[BalloonCapacity]; }
            PageAllocator pa = BuddyHeap.Allocator;
            TaskContext k = On(nid);
            for (int order = MmConstants.LargestOrder; order >= 0; order--)
            {
                while (s_balloonCount < BalloonCapacity)
                {
                    ulong pfn = pa.AllocPages(ref k, Gfp.GFP_THISNODE, order);
                    if (pfn == PageAllocator.NoPfn) break;
                    s_balloonPfn[s_balloonCount] = pfn;
                    s_balloonOrder[s_balloonCount] = order;
                    s_balloonCount++;
                }
            }
        }

        private static void Deflate()
        {
            PageAllocator pa = BuddyHeap.Allocator;
            while (s_balloonCount > 0)
            {
                s_balloonCount--;
                pa.FreePages(s_balloonPfn[s_balloonCount], s_balloonOrder[s_balloonCount], 0);
            }
        }

        /// <summary>No populated zone of node <paramref name="nid"/> passes its low watermark (plus what it keeps back) for an allocation of the node's highest zone.</summary>
        private static bool AtLow(int nid)
        {
            PageAllocator pa = BuddyHeap.Allocator;
            // classzone_idx of a GFP_KERNEL allocation on the node: its highest populated zone.
            int classzone = 0;
            for (int t = 0; t < MmConstants.MaxNrZones; t++) if (pa.HasZone(nid, (ZoneType)t)) classzone = t;
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
            {
                if (!pa.HasZone(nid, (ZoneType)t)) continue;
                ref Zone z = ref pa.GetZone(nid, (ZoneType)t);
                if (PageAllocator.ZoneWatermarkOk(ref z, 0, z.WatermarkLow, classzone, AllocFlags.WmarkLow)) return false;
            }
            return true;
        }

        private static void The_SRAT_gives_each_node_the_memory_and_distances_QEMU_was_given(Assert a)
        {
            PageAllocator pa = BuddyHeap.Allocator;
            if (pa == null || !Processes.IsAvailable) { a.Skip("the buddy heap and processes are not set up"); return; }
            if (Nodes == 0)
            {
                a.Equal(1L, (long)pa.NodeCount, "without an SRAT the machine is one node");
                a.Equal(1L, (long)Processes.NodeCount, "one kswapd task");
                return;
            }
            ref NumaInfo info = ref AcpiNuma.Info;
            a.Equal((long)Nodes, (long)pa.NodeCount, "the allocator has one node per SRAT proximity domain");
            // TestRunner --numa N gives node i memory / N MiB of RAM (the last one the rest), nodes in
            // address order. QEMU lays RAM out below the PCI hole and goes on at 4 GiB, and the SRAT
            // follows the RAM: node 0 leaves out the ISA hole [640 KiB, 1 MiB), and a node whose RAM
            // crosses the top of low memory gets a second range at 4 GiB (--numa 2 --memory 3G on q35:
            // node 1 is [1.5 GiB, 2 GiB) and [4 GiB, 5 GiB); at 4G it is [4 GiB, 6 GiB) alone).
            ulong ram0 = 0, prevHi = 0;
            for (int n = 0; n < Nodes; n++)
            {
                ulong lo = 0xFFFFFFFFFFFFFFFFUL, hi = 0, ram = 0;
                for (int i = 0; i < info.RangeCount; i++)
                {
                    if (info.RangeNode(i) != n || info.RangeHotPluggable(i)) continue;
                    ram += info.RangeLength(i);
                    if (info.RangeBase(i) < lo) lo = info.RangeBase(i);
                    if (info.RangeBase(i) + info.RangeLength(i) > hi) hi = info.RangeBase(i) + info.RangeLength(i);
                }
                a.True(hi > lo, "every node has a memory range");
                // Whole MiB: node 0's 384 KiB ISA hole rounds back up to the MiB QEMU was given.
                ram = (ram + Mib - 1) / Mib * Mib;
                if (n == 0) { a.Equal(0UL, lo, "node 0 starts at 0"); ram0 = ram; }
                else
                {
                    a.True(lo == prevHi || (lo == FourGib && prevHi < FourGib && !UsableBetween(prevHi, FourGib)),
                        string.Concat("node ", n.ToString(), " starts where the one before it ends, or at 4 GiB when that one ends at the top of low memory"));
                    a.False(UsableBetween(prevHi, lo), "no usable RAM lies between two nodes");
                    if (n < Nodes - 1) a.Equal(ram0, ram, "each node has the same RAM (memory / N)");
                    else a.True(ram >= ram0, "the last node has the rest (not less than the others)");
                }
                prevHi = hi;
                a.Equal((ulong)n, info.Pxm(n), "node N is proximity domain N");
                for (int m = 0; m < Nodes; m++)
                    a.Equal((long)(10 + 10 * (n > m ? n - m : m - n)), (long)pa.NodeDistance(n, m), "node_distance is the SLIT's 10 + 10 x |i - j|");
                // The page descriptors of the node's managed pages say so.
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    if (!pa.HasZone(n, (ZoneType)t)) continue;
                    ref Zone z = ref pa.GetZone(n, (ZoneType)t);
                    a.Equal((long)n, (long)pa.PfnToPage(z.ZoneStartPfn)->Nid, "the first page of each of the node's zones is on the node");
                    a.Equal((long)n, (long)pa.PfnToPage(z.ZoneStartPfn + z.SpannedPages - 1)->Nid, "and the last one");
                }
            }
            a.Equal((long)SlitState.Ok, (long)info.Slit, "QEMU gave a SLIT");
        }

        private const ulong Mib = 1UL << 20, FourGib = 4UL << 30;

        /// <summary>Is any usable RAM (below the mapped limit) of the boot memory map in [<paramref name="start"/>, <paramref name="end"/>)?</summary>
        private static bool UsableBetween(ulong start, ulong end)
        {
            if (end > Paging.MappedLimit) end = Paging.MappedLimit;
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type != MemoryRegionType.Usable) continue;
                ulong lo = r.Base > start ? r.Base : start, hi = r.End < end ? r.End : end;
                if (lo < hi) return true;
            }
            return false;
        }

        /// <summary>Does node <paramref name="nid"/> (its SRAT ranges) have usable RAM in [<paramref name="start"/>, <paramref name="end"/>)?</summary>
        private static bool NodeHasUsable(int nid, ulong start, ulong end)
        {
            ref NumaInfo info = ref AcpiNuma.Info;
            for (int i = 0; i < info.RangeCount; i++)
            {
                if (info.RangeNode(i) != nid || info.RangeHotPluggable(i)) continue;
                ulong lo = info.RangeBase(i) > start ? info.RangeBase(i) : start;
                ulong rangeEnd = info.RangeBase(i) + info.RangeLength(i), hi = rangeEnd < end ? rangeEnd : end;
                if (lo < hi && UsableBetween(lo, hi)) return true;
            }
            return false;
        }

        private static void Each_node_has_its_own_zones_watermarks_and_kswapd_task(Assert a)
        {
            if (!MultiNode(a)) return;
            PageAllocator pa = BuddyHeap.Allocator;
            Vm vm = Processes.Vm;
            a.Equal((long)Nodes, (long)Processes.NodeCount, "one kswapd task per node");
            for (int n = 0; n < Nodes; n++)
            {
                // A node has the zones its RAM lies in: DMA below 16 MiB, DMA32 below 4 GiB, Normal above.
                int zones = 0;
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    ulong zoneLo = t == 0 ? 0 : t == 1 ? MmConstants.DmaLimitPfn << 12 : MmConstants.Dma32LimitPfn << 12;
                    ulong zoneHi = t == 0 ? MmConstants.DmaLimitPfn << 12 : t == 1 ? MmConstants.Dma32LimitPfn << 12 : 0xFFFFFFFFFFFFFFFFUL;
                    bool ram = NodeHasUsable(n, zoneLo, zoneHi);
                    a.Equal(ram, pa.HasZone(n, (ZoneType)t), string.Concat("node ", n.ToString(), " has a ", Zone.ZoneName((ZoneType)t), " zone exactly when it has RAM in its range"));
                    if (!pa.HasZone(n, (ZoneType)t)) continue;
                    zones++;
                    ref Zone z = ref pa.GetZone(n, (ZoneType)t);
                    // __setup_per_zone_wmarks: min_free_kbytes is shared by every zone of every node in
                    // proportion to its managed pages (a zone the boot data nearly fills, as DMA on
                    // --memory 3G, gets 0, as in Linux), low and high above it.
                    ulong share = ((ulong)pa.MinFreeKbytes >> 2) * z.ManagedPages / pa.TotalManagedPages;
                    a.Equal((long)share, z.WatermarkMin, string.Concat("node ", n.ToString(), " ", z.Name, ": min is its share of min_free_kbytes by managed pages"));
                    a.True(z.WatermarkLow >= z.WatermarkMin && z.WatermarkHigh >= z.WatermarkLow && (share < 4 || z.WatermarkHigh > z.WatermarkLow),
                        "low and high lie above min");
                    a.True(z.AllocBatch <= z.WatermarkHigh - z.WatermarkLow, "its fair batch is at most high - low (set from its marks, used up by allocations)");
                }
                a.True(zones > 0, "every node has a zone");
                a.Equal(MemoryManager.Reclaim.Kswapd.ThreadName(n), vm.Procs.Get(vm.Nodes[n].Kswapd.Pid).Comm, "the node's kswapd thread is named for it");
                KswapdTask k = Processes.Kswapd(n);
                a.True(k != null && k.Nid == n && k.Task != null, "the node's kswapd runs as its own scheduler task");
            }
        }

        /// <summary>Is the page at <paramref name="address"/> wholly inside a usable region of the boot memory map (below the mapped limit)?</summary>
        private static bool Usable(ulong address)
        {
            if (address + 4096 > Paging.MappedLimit) return false;
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type == MemoryRegionType.Usable && address >= r.Base && address + 4096 <= r.End) return true;
            }
            return false;
        }

        private static bool Reserved(ulong address)
        {
            for (int i = 0; i < BuddyHeap.ReservationCount; i++)
                if (address >= BuddyHeap.ReservationStart(i) && address < BuddyHeap.ReservationEnd(i)) return true;
            return false;
        }

        private static bool ReservedAs(ulong address, BuddyHeap.ReservationKind kind)
        {
            for (int i = 0; i < BuddyHeap.ReservationCount; i++)
                if (BuddyHeap.ReservationKindOf(i) == kind && address >= BuddyHeap.ReservationStart(i) && address < BuddyHeap.ReservationEnd(i)) return true;
            return false;
        }

        private static void Each_node_memmap_lies_on_the_node_and_its_zones_managed_pages_pay_for_it(Assert a)
        {
            if (!MultiNode(a)) return;
            if (Heap.Name != BuddyHeap.HeapName) { a.Skip("the buddy is not the kernel heap in this image"); return; }
            PageAllocator pa = BuddyHeap.Allocator;
            ref NumaInfo info = ref AcpiNuma.Info;
            a.True(Vmemmap.IsUsed, "a machine of several nodes has the virtual memmap");
            a.Equal(Paging.VmemmapStart, (ulong)pa.PfnToPage(pa.MinPfn), "pfn_to_page(min_pfn) is the start of the vmemmap");
            for (int n = 0; n < Nodes; n++)
            {
                // The node's block (its memmap pages and page tables) lies in its SRAT range and is reserved there.
                ulong start = Vmemmap.BlockStart(n), end = start + Vmemmap.BlockPages(n) * 4096;
                a.True(Vmemmap.MemmapPages(n) > 0, "every node holds memmap pages");
                a.Equal((long)n, (long)info.NodeOf(start, out _), "the node's memmap block starts on the node (SRAT)");
                a.Equal((long)n, (long)info.NodeOf(end - 1, out _), "and ends on it");
                bool reservedOnNode = true;
                for (ulong p = start; p < end; p += 4096)
                {
                    Page* d = pa.PfnToPage(p >> 12);
                    if (d == null || d->Nid != n || (d->Flags & PageFlags.Reserved) == 0 || !Reserved(p)) reservedOnNode = false;
                }
                a.True(reservedOnNode, "every page of the block is a reserved page of the node (PG_reserved, its nid, a boot reservation)");
                // Through the page tables: the descriptor of every page of the node is stored on the node.
                // (QEMU's nodes are whole MiB, so no memmap page holds descriptors of two nodes.)
                ulong checkedPages = 0, offNode = 0, unmapped = 0, reservedUsable = 0, bootData = 0, present = 0, managed = 0;
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    if (!pa.HasZone(n, (ZoneType)t)) continue;
                    ref Zone z = ref pa.GetZone(n, (ZoneType)t);
                    present += z.PresentPages;
                    managed += z.ManagedPages;
                    for (ulong pfn = z.ZoneStartPfn; pfn < z.ZoneStartPfn + z.SpannedPages; pfn++)
                    {
                        if (pfn % Vmemmap.PfnsPerPage == 0 || pfn == z.ZoneStartPfn)
                        {
                            checkedPages++;
                            if (!Paging.Translate((ulong)pa.PfnToPage(pfn), out ulong phys)) unmapped++;
                            else if (info.NodeOf(phys, out _) != n) offNode++;
                        }
                        if (Usable(pfn << 12) && Reserved(pfn << 12))
                        {
                            reservedUsable++;
                            if (!ReservedAs(pfn << 12, BuddyHeap.ReservationKind.Memmap)) bootData++;
                        }
                    }
                }
                a.True(checkedPages > 0, "the node's descriptors were looked up");
                a.Equal(0UL, unmapped, "no descriptor of the node is unmapped");
                a.Equal(0UL, offNode, "descriptors of the node's pages stored on another node");
                // present - managed = the usable pages reserved at boot on this node: its memmap block,
                // and the kernel's boot data that lies on it (low memory, the image and boot info on
                // node 0; the arena and the collector's maps in the heap region, the largest usable
                // region: node 0 below 4 GiB, the node above 4 GiB at --memory 4G).
                a.Equal(reservedUsable, present - managed, "the node's present - managed pages are the boot reservations on it, its memmap block among them");
                a.Equal(Vmemmap.BlockPages(n) + bootData, present - managed, "a node gives exactly its memmap block and the boot data that lies on it");
            }
        }

        private static void A_local_allocation_is_served_by_the_home_node_while_it_is_above_low(Assert a)
        {
            if (!MultiNode(a)) return;
            PageAllocator pa = BuddyHeap.Allocator;
            int home = Nodes - 1;
            TaskContext t = On(home);
            pa.NumaCounters(home, out ulong hit, out ulong miss, out _, out ulong local, out _);
            ulong* pfns = stackalloc ulong[64];
            int onHome = 0;
            for (int i = 0; i < 64; i++)
            {
                pfns[i] = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
                if (pfns[i] != PageAllocator.NoPfn && pa.PfnToPage(pfns[i])->Nid == home) onHome++;
            }
            pa.NumaCounters(home, out ulong hit2, out ulong miss2, out _, out ulong local2, out _);
            a.Equal(64L, (long)onHome, "every page came from the home node");
            a.Equal(hit + 64, hit2, "numa_hit counted each allocation on the home node");
            a.Equal(local + 64, local2, "and local_node");
            a.Equal(miss, miss2, "numa_miss did not move");
            for (int i = 0; i < 64; i++) if (pfns[i] != PageAllocator.NoPfn) pa.FreePages(pfns[i], 0, 0);
        }

        private static void At_the_low_watermark_an_allocation_spills_to_the_nearest_remote_node(Assert a)
        {
            if (!MultiNode(a)) return;
            PageAllocator pa = BuddyHeap.Allocator;
            const int home = 0, nearest = 1;   // distance 20; every other node is further
            Inflate(home);
            a.True(AtLow(home), "the home node is at its low watermark");
            pa.NumaCounters(home, out ulong hit0, out _, out ulong foreign0, out _, out _);
            pa.NumaCounters(nearest, out _, out ulong miss1, out _, out _, out ulong other1);
            TaskContext t = On(home);
            ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
            int landed = pfn == PageAllocator.NoPfn ? -1 : pa.PfnToPage(pfn)->Nid;
            pa.NumaCounters(home, out ulong hit0b, out _, out ulong foreign0b, out _, out _);
            pa.NumaCounters(nearest, out _, out ulong miss1b, out _, out _, out ulong other1b);
            if (pfn != PageAllocator.NoPfn) pa.FreePages(pfn, 0, 0);
            Deflate();
            a.Equal((long)nearest, (long)landed, "the page came from the nearest remote node");
            a.True(miss1b >= miss1 + 1 && other1b >= other1 + 1, "numa_miss and other_node moved on the remote node");
            a.True(foreign0b >= foreign0 + 1, "numa_foreign moved on the home node");
            a.True(hit0b >= hit0, "numa_hit of the home node never goes back");
        }

        private static void Only_the_home_node_kswapd_wakes_for_a_node_bound_allocation(Assert a)
        {
            if (!MultiNode(a)) return;
            PageAllocator pa = BuddyHeap.Allocator;
            Vm vm = Processes.Vm;
            int home = Nodes - 1;
            ulong* before = stackalloc ulong[NumaInfo.MaxNodes];
            for (int n = 0; n < Nodes; n++) before[n] = vm.Nodes[n].Kswapd.Wakes;
            Inflate(home);
            a.True(AtLow(home), "the home node is at its low watermark");
            // __GFP_THISNODE without __GFP_NORETRY: the slow path runs, on the home node's zonelist only.
            TaskContext t = On(home);
            ulong pfn = pa.AllocPages(ref t, Gfp.GFP_ATOMIC | Gfp.ThisNode | Gfp.NoWarn, 0);
            a.True(pfn != PageAllocator.NoPfn && pa.PfnToPage(pfn)->Nid == home, "the atomic allocation dipped below low on its node");
            if (pfn != PageAllocator.NoPfn) pa.FreePages(pfn, 0, 0);
            a.True(vm.Nodes[home].Kswapd.Wakes > before[home], "the home node's kswapd was woken");
            for (int n = 0; n < Nodes; n++)
                if (n != home) a.Equal(before[n], vm.Nodes[n].Kswapd.Wakes, "no other node's kswapd was woken");
            Deflate();
            // Let the home node's kswapd find its node balanced again and go back to sleep.
            ulong end = Timer.Jiffies + 200;
            while (vm.Nodes[home].Kswapd.State == KswapdState.Running && Timer.Jiffies < end) Scheduler.Sleep(1);
        }

        private static Program StartIdle(Assert a, int pages, int node)
        {
            RunError e = Processes.Run(WorkloadKind.Idle, pages, 1, 0, node, out Program p);
            a.Equal((long)RunError.None, (long)e, "run idle");
            if (p == null) return null;
            ulong end = Timer.Jiffies + 300;
            while (p.Alive && p.Work.Touched < p.Work.Pages && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.Equal((long)pages, (long)p.Work.Touched, "the idle program touched all its pages");
            return p;
        }

        private static void Stop(Program p)
        {
            if (p == null || !p.Alive) return;
            Processes.Kill(p.Pid);
            Processes.WaitExit(p, 500);
        }

        private static void Zone_reclaim_mode_reclaims_the_home_node_before_the_allocation_goes_off_node(Assert a)
        {
            if (!MultiNode(a)) return;
            Vm vm = Processes.Vm;
            if (vm.Swap == null) { a.Skip(string.Concat("no swap device: ", Processes.NoSwapReason)); return; }
            PageAllocator pa = vm.Pa;
            const int home = 0, pages = 64;
            // Cold anonymous memory on the home node: what zone reclaim can swap out. Zone reclaim
            // frees what it reclaims as every order-0 free goes: onto the zone's per-cpu list, which
            // NR_FREE_PAGES (what the watermark check reads) does not count, until the list reaches
            // pcp.high and a batch goes back to the buddy lists. So the zone rises over its watermark
            // only after its per-cpu list has filled: the cold memory is what every home zone's list
            // can hold (6 x batch: 18 pages on a 64 MiB zone, 378 on one of 1 GiB or more) and 4 x
            // the pages the test allocates on top.
            int cold = 4 * pages;
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
                if (pa.HasZone(home, (ZoneType)t)) cold += pa.GetZone(home, (ZoneType)t).Pcp.High;
            Program coldProgram = StartIdle(a, cold, home);
            if (coldProgram == null) return;
            Inflate(home);
            // zone_reclaim_mode 0 (the default): the new pages go to the remote node.
            ulong remote = RemoteLru(vm, home);
            Program spill = StartIdle(a, pages, home);
            a.True(RemoteLru(vm, home) >= remote + pages, "with zone_reclaim_mode 0 the pages went off node");
            Stop(spill);
            Deflate();
            Inflate(home);
            // zone_reclaim_mode 1|4: the home node is reclaimed (cold pages to swap) first.
            pa.ZoneReclaimMode = PageAllocator.ReclaimZone | PageAllocator.ReclaimUnmap;
            ulong zoneReclaims = pa.Stat.ZoneReclaim, swapped = pa.Stat.Pswpout;
            remote = RemoteLru(vm, home);
            Program local = StartIdle(a, pages, home);
            pa.ZoneReclaimMode = 0;
            a.True(pa.Stat.ZoneReclaim > zoneReclaims, "zone reclaim ran from the fast path");
            a.True(pa.Stat.Pswpout > swapped, "it swapped the home node's cold pages out");
            a.True(RemoteLru(vm, home) < remote + pages, "with zone_reclaim_mode on the pages stayed home (not all went off node)");
            Stop(local);
            Stop(coldProgram);
            Deflate();
        }

        /// <summary>Pages on the LRU lists of every node but <paramref name="home"/>.</summary>
        private static ulong RemoteLru(Vm vm, int home)
        {
            ulong n = 0;
            for (int i = 0; i < vm.Nodes.Count; i++) if (i != home) n += vm.Nodes[i].Lru.Total;
            return n;
        }

        /// <summary>An ITextSink that only looks for one text in what is written to it.</summary>
        private sealed class Finder : ITextSink
        {
            private readonly string _text;
            private int _matched;
            public bool Found;
            public Finder(string text) { _text = text; }
            public void Write(string s) { for (int i = 0; i < s.Length; i++) Write(s[i]); }
            public void Write(char c)
            {
                if (Found) return;
                if (c == _text[_matched]) _matched++;
                else _matched = c == _text[0] ? 1 : 0;
                if (_matched == _text.Length) Found = true;
            }
        }

        private static void Buddyinfo_and_zoneinfo_print_every_node(Assert a)
        {
            if (!MultiNode(a)) return;
            PageAllocator pa = BuddyHeap.Allocator;
            // Linux's "Node %d, zone %8s" for every populated zone of every node.
            for (int n = 0; n < Nodes; n++)
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    if (!pa.HasZone(n, (ZoneType)t)) continue;
                    string name = Zone.ZoneName((ZoneType)t);
                    string head = string.Concat("Node ", n.ToString(), ", zone ", name.PadLeft(8));
                    Finder b = new Finder(head);
                    pa.WriteBuddyInfo(b);
                    a.True(b.Found, string.Concat("buddyinfo has ", head));
                    Finder z = new Finder(head);
                    pa.WriteZoneInfo(z);
                    a.True(z.Found, string.Concat("zoneinfo has ", head));
                }
            Finder s = new Finder("numa_foreign");
            pa.WriteNumaStat(s);
            a.True(s.Found, "numastat has its numa_foreign row");
            Finder v = new Finder("numa_miss ");
            pa.WriteVmStat(v);
            a.True(v.Found, "vmstat has numa_miss");
        }
    }
}
