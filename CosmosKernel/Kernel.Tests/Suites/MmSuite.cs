using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Tests.Framework;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Tests
{
    /// <summary>
    /// The buddy page allocator in the kernel (Kernel.Mm.BuddyHeap over MemoryManager.PageAllocator):
    /// invariants, watermarks for the real zone sizes, every order from every populated zone,
    /// bad frees, the memmap and the reservations. When the buddy is THE heap (the heap plug)
    /// the suite looks at the kernel heap itself; in a RAT image it sets a guest buddy heap up over
    /// a run of pages taken from the RAT and tests that (the layout tests of THE heap are skipped).
    /// </summary>
    public sealed unsafe class MmSuite : TestSuite
    {
        public MmSuite() : base("mm", AnyMemory, null)
        {
            Add("The_invariant_checker_is_green_after_boot", &The_invariant_checker_is_green_after_boot);
            Add("Zones_follow_the_memory_map", &Zones_follow_the_memory_map);
            Add("Watermarks_follow_min_free_kbytes_shared_by_managed_pages", &Watermarks_follow_min_free_kbytes_shared_by_managed_pages);
            Add("Every_order_comes_from_every_populated_zone_writable_and_goes_back", &Every_order_comes_from_every_populated_zone_writable_and_goes_back);
            Add("A_stress_of_mixed_orders_and_zones_leaves_the_checker_green", &A_stress_of_mixed_orders_and_zones_leaves_the_checker_green);
            Add("Objects_and_page_runs_come_back_zeroed_and_go_back", &Objects_and_page_runs_come_back_zeroed_and_go_back);
            Add("Double_foreign_interior_and_wrong_kind_frees_are_refused_with_a_message", &Double_foreign_interior_and_wrong_kind_frees_are_refused_with_a_message);
            Add("The_memmap_and_the_reservations_are_never_handed_out", &The_memmap_and_the_reservations_are_never_handed_out);
            Add("The_heap_layout_at_boot_reserves_the_kernel_the_boot_information_and_the_memmap", &The_heap_layout_at_boot_reserves_the_kernel_the_boot_information_and_the_memmap);
            Add("A_write_after_free_is_caught_by_the_free_page_poison_of_a_Debug_image", &A_write_after_free_is_caught_by_the_free_page_poison_of_a_Debug_image);
        }

        /// <summary>The buddy heap's allocator: THE heap's, or a guest's set up on first use.</summary>
        internal static PageAllocator Pa(Assert a)
        {
            if (!BuddyHeap.IsReady && Heap.Name != BuddyHeap.HeapName)
            {
                ulong pages = Heap.Stats.FreePages / 4;
                if (pages > 65536) pages = 65536;   // 256 MiB is plenty for the tests
                string error = BuddyHeap.InitGuest(pages);
                if ((object)error != null) a.Fail(string.Concat("guest buddy heap: ", error));
            }
            return BuddyHeap.Allocator;
        }

        private static void The_invariant_checker_is_green_after_boot(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants (its report is on the console)");
            a.True(pa.TotalManagedPages > 0, "managed pages");
        }

        private static void Zones_follow_the_memory_map(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            ulong managed = 0;
            for (int zi = 0; zi < 3 * pa.NodeCount; zi++)
            {
                int t = zi % 3;
                if (!pa.HasZone(zi / 3, (ZoneType)t)) continue;
                ref Zone z = ref pa.GetZone(zi / 3, (ZoneType)t);
                ulong lo = t == 0 ? 0 : t == 1 ? 4096UL : 1UL << 20;
                ulong hi = t == 0 ? 4096UL : t == 1 ? 1UL << 20 : 0xFFFFFFFFFFFFFFFFUL;
                a.True(z.ZoneStartPfn >= lo && z.ZoneStartPfn + z.SpannedPages <= hi, string.Concat(z.Name, " lies within its pfn limits"));
                a.True(z.ManagedPages <= z.PresentPages && z.PresentPages <= z.SpannedPages, string.Concat(z.Name, ": managed <= present <= spanned"));
                managed += z.ManagedPages;
            }
            a.Equal(pa.TotalManagedPages, managed, "zones' managed pages add up");
            if (BuddyHeap.Mode == BuddyHeapMode.Heap)
            {
                a.True(pa.HasZone(0, ZoneType.Dma), "a DMA zone below 16 MiB");
                ulong top = 0;
                for (int i = 0; i < BootInfo.RegionCount; i++)
                {
                    MemoryRegion r = BootInfo.Region(i);
                    if (r.Type == MemoryRegionType.Usable && r.End > top) top = r.End < Paging.MappedLimit ? r.End : Paging.MappedLimit;
                }
                a.Equal(top > 16UL << 20, pa.HasZone(0, ZoneType.Dma32), "a DMA32 zone exactly when usable RAM reaches above 16 MiB");
                a.Equal(Paging.MappedLimit > (4UL << 30) && BootInfo.HighestRamAddress > (4UL << 30), pa.HasZone(0, ZoneType.Normal), "a Normal zone exactly when RAM lies above 4 GiB");
                // Every usable page the loader reported (below the mapped limit) is present.
                ulong usable = 0;
                for (int i = 0; i < BootInfo.RegionCount; i++)
                {
                    MemoryRegion r = BootInfo.Region(i);
                    if (r.Type != MemoryRegionType.Usable) continue;
                    ulong s = (r.Base + 4095) >> 12, e = (r.End < Paging.MappedLimit ? r.End : Paging.MappedLimit) >> 12;
                    if (e > s + 1) usable += e - s;
                }
                ulong present = 0;
                for (int zi = 0; zi < 3 * pa.NodeCount; zi++) if (pa.HasZone(zi / 3, (ZoneType)(zi % 3))) present += pa.GetZone(zi / 3, (ZoneType)(zi % 3)).PresentPages;
                a.Equal(usable, present, "present pages (of every node) = usable pages of the memory map");
            }
        }

        /// <summary>int_sqrt, written again here (not the allocator's): the largest r with r*r &lt;= x.</summary>
        private static ulong Sqrt(ulong x)
        {
            ulong r = 0, step = 1UL << 31;
            while (step != 0)
            {
                ulong c = r + step;
                if (c * c <= x) r = c;
                step >>= 1;
            }
            return r;
        }

        private static void Watermarks_follow_min_free_kbytes_shared_by_managed_pages(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            ulong lowmemKb = pa.TotalManagedPages * 4;
            ulong minFree = Sqrt(lowmemKb * 16);
            if (minFree < 128) minFree = 128;
            if (minFree > 262144) minFree = 262144;
            a.Equal((long)minFree, (long)pa.MinFreeKbytes, "min_free_kbytes = sqrt(lowmem_kB * 16), clamped");
            ulong pagesMin = minFree / 4;
            for (int t = 0; t < 3; t++)
            {
                if (!pa.HasZone(0, (ZoneType)t)) continue;
                ref Zone z = ref pa.GetZone(0, (ZoneType)t);
                long min = (long)(pagesMin * z.ManagedPages / pa.TotalManagedPages);
                a.Equal(min, z.WatermarkMin, string.Concat(z.Name, " min"));
                a.Equal(min + min / 4, z.WatermarkLow, string.Concat(z.Name, " low"));
                a.Equal(min + min / 2, z.WatermarkHigh, string.Concat(z.Name, " high"));
            }
        }

        private static Gfp GfpOfZone(int t) => t == 0 ? Gfp.GFP_KERNEL | Gfp.Dma : t == 1 ? Gfp.GFP_KERNEL | Gfp.Dma32 : Gfp.GFP_KERNEL;

        /// <summary>Could zone t serve an order-o block at the low watermark (a free block of that order or above, and room above low)?</summary>
        private static bool CanServe(ref Zone z, int o)
        {
            bool block = false;
            for (int k = o; k < MmConstants.MaxOrder; k++) if (z.FreeAreaNrFree[k] != 0) block = true;
            return block && z.NrFree - (1L << o) > z.WatermarkLow + z.LowmemReserve[(int)z.Type] + 64;
        }

        /// <summary>
        /// Free pages above every zone's high watermark: what a test may hold without reaching
        /// reclaim or the OOM killer (with no process to kill, the OOM killer gives up for good:
        /// "Out of memory and no killable processes", and the suites after this one would find it dead).
        /// </summary>
        internal static ulong RoomAboveHigh(PageAllocator pa)
        {
            long room = (long)(pa.NrFreePages + pa.PcpPages);
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
                if (pa.HasZone(0, (ZoneType)t)) room -= pa.GetZone(0, (ZoneType)t).WatermarkHigh;
            return room < 0 ? 0 : (ulong)room;
        }

        private static bool Overlaps(ulong pfn, int order, out int which)
        {
            ulong s = pfn << 12, e = (pfn + (1UL << order)) << 12;
            for (int i = 0; i < BuddyHeap.ReservationCount; i++)
                if (s < BuddyHeap.ReservationEnd(i) && BuddyHeap.ReservationStart(i) < e) { which = i; return true; }
            which = -1;
            return false;
        }

        private static void Every_order_comes_from_every_populated_zone_writable_and_goes_back(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            TaskContext t = BuddyHeap.Current;
            ulong freeBefore = pa.NrFreePages + pa.PcpPages;
            // The largest free block of any zone: order 10 (4 MiB) unless RAM (or a RAT image's guest heap) is small.
            int largest = 0;
            for (int zt = 0; zt < 3; zt++)
                for (int o = 0; pa.HasZone(0, (ZoneType)zt) && o < MmConstants.MaxOrder; o++)
                    if (pa.GetZone(0, (ZoneType)zt).FreeAreaNrFree[o] != 0 && o > largest) largest = o;
            int zones = 0, blocks = 0, wrongZone = 0, failed = 0, corrupt = 0, refused = 0, reserved = 0;
            // Each allocation is aimed at one zone: the fair pass (which spreads the fast path over
            // the zones below the gfp's highest one, docs/memory-manager.md) is off meanwhile.
            bool fair = pa.Options.FairZoneAllocation;
            pa.Options.FairZoneAllocation = false;
            for (int zt = 0; zt < 3; zt++)
            {
                if (!pa.HasZone(0, (ZoneType)zt)) continue;
                zones++;
                for (int o = 0; o < MmConstants.MaxOrder; o++)
                {
                    if (!CanServe(ref pa.GetZone(0, (ZoneType)zt), o)) continue;
                    ulong pfn = pa.AllocPages(ref t, GfpOfZone(zt), o);
                    if (pfn == PageAllocator.NoPfn) { failed++; continue; }
                    blocks++;
                    if (pa.PfnToPage(pfn)->Zone != zt) wrongZone++;
                    if (Overlaps(pfn, o, out int _)) reserved++;
                    ulong* w = (ulong*)pa.PageAddress(pfn);
                    ulong words = (1UL << o) * 512;
                    for (ulong i = 0; i < words; i++) w[i] = pfn ^ i;
                    for (ulong i = 0; i < words; i++) if (w[i] != (pfn ^ i)) { corrupt++; break; }
                    if (pa.FreePages(pfn, o, 0) != MmResult.Ok) refused++;
                }
            }
            pa.Options.FairZoneAllocation = fair;
            a.True(zones >= 1, "at least one populated zone");
            a.True(blocks >= largest + 1, "at least every order up to the largest free block's of one zone was served");
            if (pa.TotalManagedPages >= 8192) a.Equal(MmConstants.MaxOrder - 1, largest, "from 32 MiB of buddy memory on, a 4 MiB block is free");
            a.Equal(0L, failed, "allocations refused although the zone could serve them");
            a.Equal(0L, wrongZone, "blocks from another zone than the gfp asked for");
            a.Equal(0L, reserved, "blocks overlapping a reservation");
            a.Equal(0L, corrupt, "blocks whose contents did not read back");
            a.Equal(0L, refused, "frees refused");
            a.Equal(freeBefore, pa.NrFreePages + pa.PcpPages, "free pages after the frees");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants after the round");
        }

        private static void A_stress_of_mixed_orders_and_zones_leaves_the_checker_green(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            const int maxWindow = 64, rounds = 4000;
            // At most 64 blocks of up to 32 pages held at once, fewer on a small machine: they fit above the high watermarks.
            int window = (int)(RoomAboveHigh(pa) / 32);
            if (window > maxWindow) window = maxWindow;
            if (window < 1) window = 1;
            // Each block is aimed at one zone, so the window must fit above the high watermark of
            // the zone it is aimed at, not only of all zones together: the fair pass leaves DMA
            // near its low watermark (docs/memory-manager.md), and a GFP_DMA request there would
            // reach the slow path, where reclaim (kswapd, the collector's shrinker) frees pages
            // that are not this test's. Zones without room for the window are not aimed at.
            ulong* zoneRoom = stackalloc ulong[MmConstants.MaxNrZones];
            int roomiest = 0;
            for (int z = 0; z < MmConstants.MaxNrZones; z++)
            {
                zoneRoom[z] = 0;
                if (!pa.HasZone(0, (ZoneType)z)) continue;
                ref Zone zone = ref pa.GetZone(0, (ZoneType)z);
                long r = zone.NrFree + zone.Pcp.Count - zone.WatermarkHigh;
                zoneRoom[z] = r < 0 ? 0 : (ulong)r;
                if (zoneRoom[z] > zoneRoom[roomiest]) roomiest = z;
            }
            if ((ulong)window * 32 > zoneRoom[roomiest]) window = (int)(zoneRoom[roomiest] / 32);
            if (window < 1) window = 1;
            ulong* pfns = stackalloc ulong[maxWindow];
            int* orders = stackalloc int[maxWindow];
            for (int i = 0; i < window; i++) pfns[i] = PageAllocator.NoPfn;
            TaskContext t = BuddyHeap.Current;
            // And the fair pass is off meanwhile, so a block comes from the zone it is aimed at.
            bool fair = pa.Options.FairZoneAllocation;
            pa.Options.FairZoneAllocation = false;
            ulong freeBefore = pa.NrFreePages + pa.PcpPages;
            ulong seed = 0x2545F4914F6CDD1DUL;
            int refused = 0, corrupt = 0, reserved = 0, served = 0;
            for (int n = 0; n < rounds; n++)
            {
                seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                int slot = (int)((seed >> 33) % (ulong)window);
                if (pfns[slot] != PageAllocator.NoPfn)
                {
                    ulong* w = (ulong*)pa.PageAddress(pfns[slot]);
                    if (w[0] != pfns[slot] || w[(1UL << orders[slot]) * 512 - 1] != ~pfns[slot]) corrupt++;
                    if (pa.FreePages(pfns[slot], orders[slot], 0) != MmResult.Ok) refused++;
                    pfns[slot] = PageAllocator.NoPfn;
                }
                int o = (int)((seed >> 20) % 6);
                int zt = (int)((seed >> 40) % 3);
                if (!pa.HasZone(0, (ZoneType)zt) || zoneRoom[zt] < (ulong)window * 32) zt = roomiest;
                ulong pfn = pa.AllocPages(ref t, GfpOfZone(zt) | Gfp.NoWarn, o);
                if (pfn == PageAllocator.NoPfn) continue;
                served++;
                if (Overlaps(pfn, o, out int _)) reserved++;
                ulong* q = (ulong*)pa.PageAddress(pfn);
                q[0] = pfn; q[(1UL << o) * 512 - 1] = ~pfn;
                pfns[slot] = pfn; orders[slot] = o;
            }
            bool midway = pa.CheckInvariants(BuddyHeap.Log);
            for (int i = 0; i < window; i++)
                if (pfns[i] != PageAllocator.NoPfn && pa.FreePages(pfns[i], orders[i], 0) != MmResult.Ok) refused++;
            pa.Options.FairZoneAllocation = fair;
            a.True(served > rounds / 2, "most allocations served");
            a.True(midway, "CheckInvariants with blocks held");
            a.Equal(0L, refused, "frees refused");
            a.Equal(0L, corrupt, "blocks whose contents changed");
            a.Equal(0L, reserved, "blocks overlapping a reservation");
            a.Equal(freeBefore, pa.NrFreePages + pa.PcpPages, "free pages after the stress");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants after the stress");
        }

        private static bool AllZero(byte* p, ulong n)
        {
            for (ulong i = 0; i < n; i++) if (p[i] != 0) return false;
            return true;
        }

        private static void Objects_and_page_runs_come_back_zeroed_and_go_back(Assert a)
        {
            if (Pa(a) == null) return;
            BuddyHeap.Slab.Shrink();   // empty slabs kept for reuse go back, before and after
            ulong before = BuddyHeap.Stats.FreePages;
            bool zero = true, aligned = true, freed = true;
            for (ulong size = 1; size <= 600000; size = size * 5 + 3)
            {
                byte* p = (byte*)BuddyHeap.Alloc((nuint)size);
                if (!AllZero(p, size)) zero = false;
                if (((ulong)p & 15) != 0) aligned = false;
                for (ulong i = 0; i < size; i++) p[i] = 0xC3;
                if (BuddyHeap.Free(p) != HeapFreeResult.Ok) freed = false;
                byte* r = (byte*)BuddyHeap.AllocPages(size / 4096 + 1);
                if (r == null || ((ulong)r & 4095) != 0 || !AllZero(r, (size / 4096 + 1) * 4096)) zero = false;
                for (ulong i = 0; i < size; i++) r[i] = 0x3C;
                if (BuddyHeap.FreePages(r) != HeapFreeResult.Ok) freed = false;
            }
            a.True(zero, "objects and runs come back zeroed");
            a.True(aligned, "objects are 16-byte aligned");
            a.True(freed, "every free accepted");
            BuddyHeap.Slab.Shrink();
            a.Equal(before, BuddyHeap.Stats.FreePages, "free pages (buddy lists + per-cpu lists) after the frees");
        }

        private static void Double_foreign_interior_and_wrong_kind_frees_are_refused_with_a_message(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            byte onStack = 0;
            byte* keep = (byte*)BuddyHeap.Alloc(100);
            byte* p = (byte*)BuddyHeap.Alloc(100);
            byte* big = (byte*)BuddyHeap.Alloc(30000);
            byte* run = (byte*)BuddyHeap.AllocPages(2);
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.Free(p), "first free");
            HeapStats before = BuddyHeap.Stats;
            ConsoleSink.ClearCapture();
            a.Equal((long)HeapFreeResult.AlreadyFree, (long)BuddyHeap.Free(p), "double free");
            a.True(ConsoleSink.Captured("BUG kmalloc-128: double free or corruption, object 0x"), "the double free printed the slab's BUG line");
            ConsoleSink.ClearCapture();
            a.Equal((long)HeapFreeResult.NotInHeap, (long)BuddyHeap.Free(&onStack), "a stack address");
            a.True(ConsoleSink.Captured("BUG: kfree: bad pointer 0x"), "the foreign free printed a kfree line");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)BuddyHeap.Free(big + 40), "inside a large object");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)BuddyHeap.Free(big + 4096), "inside an object, at a tail page");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)BuddyHeap.Free(run), "a page run is not an object");
            a.Equal((long)HeapFreeResult.NotAnAllocation, (long)BuddyHeap.Free(keep + 8), "inside a small object");
            a.True(BuddyHeap.FreePages(big) != HeapFreeResult.Ok, "an object is not a page run");
            a.True(BuddyHeap.FreePages(run + 4096) != HeapFreeResult.Ok, "the second page of a run");
            HeapStats after = BuddyHeap.Stats;
            a.Equal(before.FreePages, after.FreePages, "free pages unchanged");
            a.Equal(before.Frees, after.Frees, "no free counted");
            a.Equal(before.RejectedFrees + 8, after.RejectedFrees, "eight refusals counted");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants after the refusals");
            a.True(BuddyHeap.Slab.CheckInvariants(BuddyHeap.Log), "the slab's checker after the refusals");
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.Free(big), "the object itself");
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.FreePages(run), "the run itself");
            a.Equal((long)HeapFreeResult.Ok, (long)BuddyHeap.Free(keep), "the kept object");
        }

        private static void The_memmap_and_the_reservations_are_never_handed_out(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            BuddyHeapDetails d = BuddyHeap.Details;
            a.Equal(pa.MaxPfn - pa.MinPfn, d.MemmapBytes / 32, "the memmap holds one 32-byte descriptor per spanned page");
            bool sawMemmap = false;
            int notReserved = 0, contained = 0;
            for (int i = 0; i < BuddyHeap.ReservationCount; i++)
            {
                if (BuddyHeap.ReservationKindOf(i) == BuddyHeap.ReservationKind.Memmap)
                {
                    sawMemmap = true;
                    if (!Vmemmap.IsUsed) a.Equal(d.MemmapStart, BuddyHeap.ReservationStart(i), "the memmap reservation is where the memmap is");
                    else
                    {
                        // Several nodes: one reservation per node, each that node's block of the virtual memmap.
                        bool block = false;
                        for (int nid = 0; nid < Vmemmap.NodeCount; nid++)
                            block |= BuddyHeap.ReservationStart(i) == Vmemmap.BlockStart(nid) && BuddyHeap.ReservationEnd(i) == Vmemmap.BlockStart(nid) + Vmemmap.BlockPages(nid) * 4096;
                        a.True(block, "each memmap reservation is one node's block of the memmap");
                    }
                }
                for (ulong addr = BuddyHeap.ReservationStart(i); addr < BuddyHeap.ReservationEnd(i); addr += 16 * 4096)
                {
                    Page* pg = pa.PfnToPage(addr >> 12);
                    if (pg != null && (pg->Flags & PageFlags.Reserved) == 0) notReserved++;
                    if (BuddyHeap.Contains((void*)addr) && BuddyHeap.ReservationKindOf(i) != BuddyHeap.ReservationKind.BootArena) contained++;
                }
                ulong last = BuddyHeap.ReservationEnd(i) - 4096;
                Page* lp = pa.PfnToPage(last >> 12);
                if (lp != null && (lp->Flags & PageFlags.Reserved) == 0) notReserved++;
            }
            a.True(sawMemmap, "the memmap is reserved");
            a.Equal(0L, notReserved, "reserved pages without PG_reserved");
            a.Equal(0L, contained, "reserved addresses the heap says it hands out");
            // Drain a zone's worth of order-0 pages (up to 4096, and no deeper than the high watermarks) and look: none is reserved.
            TaskContext t = BuddyHeap.Current;
            ulong room = RoomAboveHigh(pa);
            int n = room < 4096 + 8 ? (int)room - 8 : 4096;   // the list of pfns takes 8 pages
            ulong* got = (ulong*)BuddyHeap.AllocPages(8);   // 8 pages hold 4096 pfns
            int taken = 0, bad = 0;
            for (; taken < n; taken++)
            {
                ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL | Gfp.NoWarn, 0);
                if (pfn == PageAllocator.NoPfn) break;
                if (Overlaps(pfn, 0, out int _)) bad++;
                got[taken] = pfn;
            }
            for (int i = 0; i < taken; i++) pa.FreePages(got[i], 0, 0);
            BuddyHeap.FreePages(got);
            a.Equal(0L, bad, "order-0 pages handed out from a reservation");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants");
        }

        private static void The_heap_layout_at_boot_reserves_the_kernel_the_boot_information_and_the_memmap(Assert a)
        {
            if (Heap.Name != BuddyHeap.HeapName) { a.Skip("the buddy is not the kernel heap in this image (build with -p:KernelHeap=Buddy)"); return; }
            PageAllocator pa = Pa(a);
            BuddyHeapDetails d = BuddyHeap.Details;
            bool kernel = false, info = false, arena = false, low = false;
            for (int i = 0; i < BuddyHeap.ReservationCount; i++)
            {
                BuddyHeap.ReservationKind k = BuddyHeap.ReservationKindOf(i);
                ulong s = BuddyHeap.ReservationStart(i), e = BuddyHeap.ReservationEnd(i);
                if (k == BuddyHeap.ReservationKind.KernelImage) kernel = s <= BootInfo.KernelStart && e >= BootInfo.KernelEnd;
                if (k == BuddyHeap.ReservationKind.BootInfo) info = s <= BootInfo.InfoStart && e >= BootInfo.InfoEnd;
                if (k == BuddyHeap.ReservationKind.BootArena) arena = s == d.ArenaStart && e == d.ArenaStart + d.ArenaBytes;
                if (k == BuddyHeap.ReservationKind.LowMemory) low = s == 0 && e >= 0x100000;
            }
            a.True(kernel, "the kernel image (with its stack and guard page) is reserved");
            a.True(info, "the boot information block is reserved");
            a.True(arena, "the boot arena is reserved");
            a.True(low, "the first MiB is reserved");
            a.True(d.ArenaStart >= BootInfo.KernelEnd && d.ArenaStart >= BootInfo.InfoEnd, "the arena lies above the kernel and the boot information");
            if (!Vmemmap.IsUsed) a.Equal(d.ArenaStart + d.ArenaBytes, d.MemmapStart, "the memmap follows the arena");
            else a.Equal(Paging.VmemmapStart, d.MemmapStart, "on several nodes the memmap is the virtual one (each node's part on the node: the numa suite)");
            a.True(d.ArenaUsed > 0 && d.ArenaUsed <= d.ArenaBytes, "the arena served the allocator's set-up objects");
            a.True(!Heap.Contains((void*)BootInfo.KernelStart) && !Heap.Contains((void*)(d.MemmapStart + 4096)), "the kernel and the memmap are not heap memory");
            a.True(Heap.Contains((void*)(d.ArenaStart + 16)), "early objects (in the arena) are heap objects");
            a.Equal(pa.TotalManagedPages, Heap.Stats.TotalPages, "the seam's total is the buddy's managed pages");
        }
    
        private static void A_write_after_free_is_caught_by_the_free_page_poison_of_a_Debug_image(Assert a)
        {
            PageAllocator pa = Pa(a);
            if (pa == null) return;
            if (!pa.Options.PoisonFreePages) { a.Skip("free pages are poisoned in Debug images only (dotnet build -c Debug)"); return; }
            TaskContext t = BuddyHeap.Current;
            // The fair pass is off meanwhile: when the zone's allocation batch runs out between the two
            // allocations it sends the second one to the next zone, not to the hot page's per-cpu list.
            bool fair = pa.Options.FairZoneAllocation;
            pa.Options.FairZoneAllocation = false;
            ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
            a.True(pfn != PageAllocator.NoPfn, "an order-0 page");
            if (pfn == PageAllocator.NoPfn) { pa.Options.FairZoneAllocation = fair; return; }
            byte* page = (byte*)(pfn * 4096);
            a.True(pa.FreePages(pfn, 0, t.Pid) == MmResult.Ok, "the page goes back");
            a.Equal((ulong)PageAllocator.PagePoison, (ulong)page[0x123], "a free page holds the poison");
            ulong before = pa.Stat.PoisonCorrupted;
            page[0x123] = 0x5A;                                   // the write after free
            // The per-cpu list hands the same page out again (LIFO): the allocation checks its poison.
            ulong again = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
            pa.Options.FairZoneAllocation = fair;
            a.Equal(pfn, again, "the hot page comes back first");
            a.Equal(before + 1, pa.Stat.PoisonCorrupted, "the overwritten poison is counted (and reported on the console)");
            if (again != PageAllocator.NoPfn) a.True(pa.FreePages(again, 0, t.Pid) == MmResult.Ok, "and the page goes back again");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "CheckInvariants, poison included");
        }
    }
}
