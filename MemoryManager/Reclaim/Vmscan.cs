using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Files;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Swap;

namespace MemoryManager.Reclaim
{
    /// <summary>
    /// Page reclaim (mm/vmscan.c, reduced): shrink_node scans the file lists before the anon
    /// lists; for each type the inactive list is shrunk first (shrink_inactive_list +
    /// shrink_page_list: referenced pages are activated, dirty file pages written back, clean
    /// ones dropped from the page cache, anon pages swapped out) and then the active list is aged
    /// into it (shrink_active_list). The unit is one order-0 page; the page's owner is found from
    /// Page.Owner and Page.Private (the virtual page of an anon page, file id and index of a
    /// cache page). try_to_free_pages is the allocator's direct reclaim (IDirectReclaim); kswapd
    /// (Kswapd.cs) runs the same shrink_node in the background.
    /// </summary>
    public sealed unsafe class Vmscan : IDirectReclaim, INodeReclaim
    {
        /// <summary>ZONE_RECLAIM_PRIORITY: zone reclaim starts scanning at 1/16 of the lists.</summary>
        public const int ZoneReclaimPriority = 4;

        /// <summary>SWAP_CLUSTER_MAX: the unit of reclaim work.</summary>
        public const int SwapClusterMax = 32;
        /// <summary>DEF_PRIORITY: the first scan priority (scan size >> priority).</summary>
        public const int DefPriority = 12;

        /// <summary>Pages taken off the LRU by a scan and not yet freed or put back (in flight).</summary>
        public ulong NrIsolated;

        private readonly PageAllocator _pa;
        private readonly Nodes _nodes;
        private readonly ISwapDevice _swap;
        private readonly ProcessTable _procs;
        private readonly UserPages _pages;
        private readonly PageCache _files;
        private readonly Shrinkers _shrinkers;

        /// <summary>Reclaim over the nodes of <paramref name="pa"/>; swap and shrinkers may be null (set-up only).</summary>
        public Vmscan(PageAllocator pa, Nodes nodes, ISwapDevice swap, ProcessTable procs, UserPages pages, PageCache files, Shrinkers shrinkers = null)
        {
            _shrinkers = shrinkers;
            _pa = pa;
            _nodes = nodes;
            _swap = swap;
            _procs = procs;
            _pages = pages;
            _files = files;
        }

        /// <summary>
        /// try_to_free_pages(): direct reclaim by the allocating task. Scans every node from
        /// DEF_PRIORITY down until SWAP_CLUSTER_MAX pages are reclaimed; returns the pages
        /// reclaimed (0 = no progress, which leads the allocator towards the OOM killer).
        /// </summary>
        public ulong TryToFreePages(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx)
        {
            ScanControl sc = default;
            sc.NrToReclaim = SwapClusterMax;
            sc.MayWritepage = (gfp & Gfp.Fs) != 0;
            sc.MaySwap = (gfp & Gfp.Io) != 0;
            sc.IsKswapd = false;
            sc.GfpMask = gfp;
            sc.MayShrinkSlab = (current.Flags & TaskFlags.MemallocNoshrink) == 0;
            for (sc.Priority = DefPriority; sc.Priority >= 0; sc.Priority--)
            {
                for (int nid = 0; nid < _nodes.Count; nid++)
                {
                    ShrinkNode(nid, ref sc);
                    if (sc.NrReclaimed >= sc.NrToReclaim) break;
                }
                if (sc.NrReclaimed >= sc.NrToReclaim) break;
            }
            _nodes.UpdateStat();
            return sc.NrReclaimed;
        }

        /// <summary>
        /// zone_reclaim() / __node_reclaim(): the fast path's reclaim on the allocating task's own
        /// node when vm.zone_reclaim_mode has RECLAIM_ZONE: under PF_MEMALLOC, from
        /// ZONE_RECLAIM_PRIORITY down until max(2^order, SWAP_CLUSTER_MAX) pages are reclaimed;
        /// dirty pages are written only with RECLAIM_WRITE, anon pages unmapped to swap only with
        /// RECLAIM_UNMAP. Returns the pages reclaimed.
        /// </summary>
        public ulong NodeReclaim(ref TaskContext current, int nid, Gfp gfp, int order, int zoneReclaimMode)
        {
            if ((uint)nid >= (uint)_nodes.Count) return 0;
            gfp = MemallocScope.CurrentGfpContext(ref current, gfp);
            ScanControl sc = default;
            sc.NrToReclaim = 1UL << order;
            if (sc.NrToReclaim < SwapClusterMax) sc.NrToReclaim = SwapClusterMax;
            sc.MayWritepage = (zoneReclaimMode & PageAllocator.ReclaimWrite) != 0 && (gfp & Gfp.Fs) != 0;
            sc.MaySwap = (zoneReclaimMode & PageAllocator.ReclaimUnmap) != 0 && (gfp & Gfp.Io) != 0;
            sc.IsKswapd = false;
            sc.GfpMask = gfp;
            sc.MayShrinkSlab = (current.Flags & TaskFlags.MemallocNoshrink) == 0;
            TaskFlags saved = current.Flags & TaskFlags.MemAlloc;
            current.Flags |= TaskFlags.MemAlloc;
            for (sc.Priority = ZoneReclaimPriority; sc.Priority >= 0 && sc.NrReclaimed < sc.NrToReclaim; sc.Priority--)
                ShrinkNode(nid, ref sc);
            current.Flags = (current.Flags & ~TaskFlags.MemAlloc) | saved;
            _nodes.UpdateStat();
            return sc.NrReclaimed;
        }

        /// <summary>
        /// shrink_node(): reclaims from one node's lists: file (inactive, then active aged
        /// into inactive), then anon the same way if swap has room; then shrink_slab asks the
        /// registered shrinkers in proportion to the LRU pages this call scanned (unless the
        /// pass may not shrink slab). Pages the shrinkers give back count as reclaimed
        /// (reclaim_state). Progress (pages, or objects freed by a shrinker) resets the node's
        /// kswapd failure count.
        /// </summary>
        public void ShrinkNode(int nid, ref ScanControl sc)
        {
            ulong before = sc.NrReclaimed, scannedBefore = sc.NrScanned, slabBefore = sc.NrSlabFreed;
            ShrinkLruType(nid, false, ref sc);
            bool swapRoom = _swap != null && _swap.FreeSlots > 0 && sc.MaySwap;
            if (sc.NrReclaimed < sc.NrToReclaim && swapRoom) ShrinkLruType(nid, true, ref sc);
            if (sc.MayShrinkSlab && _shrinkers != null && _shrinkers.Count > 0)
            {
                sc.NrSlabFreed += _shrinkers.ShrinkSlab(sc.GfpMask, nid, sc.NrScanned - scannedBefore, _nodes[nid].Lru.Total,
                    sc.Priority, sc.IsKswapd, out ulong pagesFreed);
                sc.NrReclaimed += pagesFreed;
            }
            if (sc.NrReclaimed > before || sc.NrSlabFreed > slabBefore) _nodes[nid].Kswapd.Failures = 0;
        }

        /// <summary>Shrinks the inactive list of one type, then ages its active list when the inactive list is low.</summary>
        private void ShrinkLruType(int nid, bool anon, ref ScanControl sc)
        {
            LruVec lru = _nodes[nid].Lru;
            LruList inactive = anon ? LruList.InactiveAnon : LruList.InactiveFile;
            LruList active = anon ? LruList.ActiveAnon : LruList.ActiveFile;
            ShrinkInactiveList(nid, inactive, ScanTarget(lru.Size(inactive), sc.Priority), ref sc);
            if (sc.NrReclaimed < sc.NrToReclaim || InactiveIsLow(lru, inactive, active))
            {
                ShrinkActiveList(nid, active, ScanTarget(lru.Size(active), sc.Priority), ref sc);
                if (sc.NrReclaimed < sc.NrToReclaim)
                    ShrinkInactiveList(nid, inactive, ScanTarget(lru.Size(inactive), sc.Priority), ref sc);
            }
        }

        /// <summary>inactive_list_is_low(): the inactive list is smaller than the active one.</summary>
        private static bool InactiveIsLow(LruVec lru, LruList inactive, LruList active) => lru.Size(inactive) < lru.Size(active);

        /// <summary>Pages to scan on a list of <paramref name="size"/> pages: size >> priority, but at least a cluster (or the whole list).</summary>
        public static ulong ScanTarget(ulong size, int priority)
        {
            ulong n = size >> priority;
            ulong floor = size < SwapClusterMax ? size : SwapClusterMax;
            return n > floor ? n : floor;
        }

        /// <summary>
        /// shrink_active_list(): takes up to <paramref name="nrToScan"/> pages from the tail;
        /// a referenced page loses PG_referenced and goes back to the active head, any other
        /// is deactivated to the inactive list's head.
        /// </summary>
        private void ShrinkActiveList(int nid, LruList list, ulong nrToScan, ref ScanControl sc)
        {
            LruVec lru = _nodes[nid].Lru;
            for (ulong i = 0; i < nrToScan; i++)
            {
                ulong pfn = lru.TailPfn(list);
                if (pfn == PageAllocator.NoPfn) break;
                Page* p = _nodes.PageOf(pfn);
                if ((p->Flags & PageFlags.Referenced) != 0)
                    lru.Rotate(pfn, PageFlags.Active);          // keep active, referenced cleared
                else
                    lru.Rotate(pfn, PageFlags.None);            // deactivate_page
            }
        }

        /// <summary>
        /// shrink_inactive_list() + shrink_page_list(): takes up to <paramref name="nrToScan"/>
        /// pages from the tail. Referenced pages are activated; dirty file pages are written
        /// back first (or kept when writeback is not allowed); clean file pages leave the page
        /// cache; anon pages go to swap while there is room (else they are activated). Each
        /// reclaimed page is freed on its owner's behalf.
        /// </summary>
        private void ShrinkInactiveList(int nid, LruList list, ulong nrToScan, ref ScanControl sc)
        {
            LruVec lru = _nodes[nid].Lru;
            PageBatch freeList = default;   // shrink_page_list's free_pages: given back a batch at a time
            for (ulong i = 0; i < nrToScan && sc.NrReclaimed < sc.NrToReclaim; i++)
            {
                ulong pfn = lru.TailPfn(list);
                if (pfn == PageAllocator.NoPfn) break;
                Page* p = _nodes.PageOf(pfn);
                sc.NrScanned++;
                if (sc.IsKswapd) _pa.Stat.PgscanKswapd++; else _pa.Stat.PgscanDirect++;
                if ((p->Flags & PageFlags.Referenced) != 0)
                {
                    lru.Rotate(pfn, PageFlags.Active);          // page_check_references: activate
                    continue;
                }
                bool anon = (p->Flags & PageFlags.SwapBacked) != 0;
                if (!anon && (p->Flags & PageFlags.Dirty) != 0)
                {
                    if (!sc.MayWritepage)
                    {
                        lru.Rotate(pfn, PageFlags.None);        // keep: rotate to the inactive head
                        continue;
                    }
                    _files.WritebackPage(pfn);
                    sc.NrWritten++;
                }
                if (anon && !sc.MaySwap)
                {
                    lru.Rotate(pfn, PageFlags.Active);
                    continue;
                }
                ulong entry = 0;
                if (anon && (_swap == null || !_swap.GetSwapPage(out entry)))
                {
                    lru.Rotate(pfn, PageFlags.Active);          // add_to_swap failed: activate_locked
                    continue;
                }
                // Isolated: off the LRU, not yet free ("in flight").
                lru.Del(pfn);
                NrIsolated++;
                if (anon) SwapOutPage(pfn, entry, ref sc);
                else _files.DeleteFromPageCache(pfn);
                if (freeList.IsFull) FreeIsolated(ref freeList);
                _pages.QueueUserPage(ref freeList, pfn);   // still isolated until its batch is freed
                sc.NrReclaimed++;
                if (sc.IsKswapd) _pa.Stat.PgstealKswapd++; else _pa.Stat.PgstealDirect++;
            }
            if (freeList.Count > 0) FreeIsolated(ref freeList);
        }

        /// <summary>free_unref_page_list for shrink_page_list: the reclaimed pages of <paramref name="freeList"/> in one bulk free; they stop counting as isolated.</summary>
        private void FreeIsolated(ref PageBatch freeList)
        {
            NrIsolated -= (ulong)freeList.Count;
            _pages.FreeBatch(ref freeList);
        }

        /// <summary>
        /// pageout() of an anon page: writes its bytes to the reserved swap slot and replaces
        /// the owner's page-table entry with the swap entry (try_to_unmap).
        /// </summary>
        private void SwapOutPage(ulong pfn, ulong entry, ref ScanControl sc)
        {
            Page* p = _nodes.PageOf(pfn);
            _swap.WritePage(entry, _pa.PageAddress(pfn));
            int owner = p->Owner;
            int vpage = (int)p->Private;
            if (owner > 0 && _procs.Exists(owner))
            {
                ref Process t = ref _procs.Get(owner);
                _procs.PteOf(ref t, vpage) = Pte.MakeSwap(entry);
                t.RssAnon--;
                t.SwapEnts++;
            }
            else
            {
                _swap.SwapFree(entry);                           // no owner left to fault it back
            }
            sc.NrSwapped++;
            _pa.Stat.Pswpout++;
        }
    }
}
