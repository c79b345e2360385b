using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    /// <summary>
    /// The zoned buddy page allocator: Linux's __alloc_pages / __free_pages over nodes, zones
    /// (DMA, DMA32, Normal), free_area[0..10], watermarks, zonelists and per-cpu lists.
    /// Descriptors (one 32-byte Page per pfn of the spanned range) and, optionally, the page
    /// contents are supplied from outside; nothing on the alloc/free paths allocates.
    ///
    /// Files: PageAllocator.cs (set-up), Buddy.cs (free lists, split, merge, pcp),
    /// Alloc.cs (__alloc_pages, get_page_from_freelist, __alloc_pages_slowpath),
    /// Free.cs (__free_pages and its bad-page checks), Watermarks.cs, ProcFs.cs, Checker.cs.
    /// </summary>
    public sealed unsafe partial class PageAllocator
    {
        /// <summary>Returned by AllocPages on failure.</summary>
        public const ulong NoPfn = 0xFFFFFFFFFFFFFFFFUL;
        /// <summary>Nodes a memory map may name (nid 0 .. MaxNodes-1).</summary>
        public const int MaxNodes = 8;

        // Partners of the slow path (null = not present; tests install doubles).
        public IKswapdWaker Kswapd;
        public IDirectReclaim DirectReclaim;
        public IOomKiller OomKiller;
        public ICongestionWait Congestion;
        public ITextSink Log;
        /// <summary>When set, the slow path narrates each ladder step it takes (for teaching and the simulator).</summary>
        public ITextSink Trace;
        public IClock Clock;
        /// <summary>panic(): called after the "Kernel panic - not syncing" line (the OOM killer's dead ends).</summary>
        public IPanicHandler PanicHandler;
        /// <summary>The host's event hook (kswapd woken and stopped, OOM kills, allocation stalls); null = counters only.</summary>
        public IMmEvents Events;
        /// <summary>warn_alloc's rate limit (nopage_rs): 10 failure reports per 5 s, then "warn_alloc: N callbacks suppressed".</summary>
        public RateLimit WarnAllocLimit = RateLimit.Default;

        /// <summary>Spanned pfn range [MinPfn, MaxPfn): one descriptor per pfn.</summary>
        public ulong MinPfn, MaxPfn;
        public int NodeCount;
        public ulong TotalManagedPages;
        /// <summary>Global NR_FREE_PAGES: pages on buddy free lists (per-cpu pages not included; see PcpPages).</summary>
        public ulong NrFreePages;
        /// <summary>/proc/vmstat counters.</summary>
        public VmStat Stat;
        /// <summary>min_free_kbytes in effect (computed or overridden); change with SetMinFreeKbytes.</summary>
        public int MinFreeKbytes;
        public AllocatorOptions Options;   // not readonly: SetWatermarkScaleFactor changes the watermark rule at run time

        private readonly Page* _memmap;
        private readonly byte* _phys;
        private readonly bool _hasPhys;          // real memory behind the pages (physBase given, or identity-mapped)
        private readonly Zone[] _zones;          // [nid * MaxNrZones + type]
        private int[] _zonelists;                // -1-terminated lists of zone indices, see ZonelistOffset
        private int _zonelistStride;
        // Usable memory in pfns, sorted (for the checker and poisoning): start, end, nid.
        private readonly ulong[] _rangeStart, _rangeEnd;
        private readonly int _rangeCount;
        private Zone _noZone;                    // returned by GetZone for a bad nid
        private readonly int[] _distance;        // node_distance, [from * NodeCount + to]

        // The order-0 fast paths' precomputed state (SetupPcpEntry, Create): each node's preferred
        // zone for an order-0 ZONE_NORMAL request (-1: the per-cpu entry is closed), whether the
        // entries are closed (per-cpu lists off, or poisoning on: fixed at Create), the spanned
        // pfns, and the pfns page_address answers for (0 without real memory behind the pages).
        private struct PcpEntryTable { public fixed int Zone[MaxNodes]; }
        private PcpEntryTable _pcpEntry;
        private int _pcpClosed;
        private ulong _spannedPages, _physPages;

        /// <summary>RECLAIM_DISTANCE: zone reclaim runs only on zones at most this far from the allocating node.</summary>
        public const int ReclaimDistance = 30;
        /// <summary>zone_reclaim_mode bits: RECLAIM_ZONE (1) reclaim before going off node, RECLAIM_WRITE (2) may write dirty pages, RECLAIM_UNMAP (4) may unmap and swap.</summary>
        public const int ReclaimZone = 1, ReclaimWrite = 2, ReclaimUnmap = 4;
        /// <summary>vm.zone_reclaim_mode (0: spill to a remote node before reclaiming locally, the seed's preference; see SetZoneReclaimMode).</summary>
        public int ZoneReclaimMode;
        /// <summary>zone_reclaim's partner: reclaims on one node (null = no zone reclaim even when the mode asks for it).</summary>
        public INodeReclaim NodeReclaim;

        /// <summary>Allocates the set-up tables; Create fills them.</summary>
        private PageAllocator(AllocatorOptions o, Page* memmap, byte* phys, int ranges, int nodes)
        {
            Options = o;
            _memmap = memmap;
            _phys = phys;
            _hasPhys = phys != null || o.IdentityMapped;
            NodeCount = nodes;
            _zones = new Zone[nodes * MmConstants.MaxNrZones];
            _rangeStart = new ulong[ranges];
            _rangeEnd = new ulong[ranges];
            _rangeCount = ranges;
            _distance = new int[nodes * nodes];
        }

        /// <summary>First whole pfn at or above a byte address.</summary>
        public static ulong PfnUp(ulong addr) => (addr + MmConstants.PageSize - 1) >> MmConstants.PageShift;
        /// <summary>Pfn of the page holding a byte address (partial page at a range's end excluded).</summary>
        public static ulong PfnDown(ulong addr) => addr >> MmConstants.PageShift;

        /// <summary>The zone type a pfn falls in on x86-64 (DMA below 16 MiB, DMA32 below 4 GiB, Normal above).</summary>
        public static ZoneType ZoneOfPfn(ulong pfn)
        {
            if (pfn < MmConstants.DmaLimitPfn) return ZoneType.Dma;
            if (pfn < MmConstants.Dma32LimitPfn) return ZoneType.Dma32;
            return ZoneType.Normal;
        }

        /// <summary>First pfn above zone type t (no limit for Normal).</summary>
        private static ulong ZoneEndPfn(ZoneType t)
        {
            if (t == ZoneType.Dma) return MmConstants.DmaLimitPfn;
            if (t == ZoneType.Dma32) return MmConstants.Dma32LimitPfn;
            return 0xFFFFFFFFFFFFFFFFUL;
        }

        /// <summary>The lowest and highest+1 whole pfn of the map's usable ranges; false when there are none.</summary>
        private static bool SpannedRange(MemoryMap map, out ulong minPfn, out ulong maxPfn)
        {
            minPfn = 0xFFFFFFFFFFFFFFFFUL; maxPfn = 0;
            for (int i = 0; i < map.Count; i++)
            {
                ulong s = PfnUp(map[i].Start), e = PfnDown(map[i].End);
                if (e <= s) continue;
                if (s < minPfn) minPfn = s;
                if (e > maxPfn) maxPfn = e;
            }
            return maxPfn > minPfn;
        }

        /// <summary>Bytes of descriptor array (memmap) the map needs: one Page per pfn of the spanned range.</summary>
        public static ulong MemmapBytes(MemoryMap map)
        {
            if (map == null || !SpannedRange(map, out ulong lo, out ulong hi)) return 0;
            return (hi - lo) * (ulong)sizeof(Page);
        }

        /// <summary>
        /// free_area_init + memblock_free_all: builds nodes and zones from the map, writes every
        /// descriptor once (holes and reserved pages PG_reserved), frees the managed pages in
        /// the largest aligned blocks, builds the zonelists and sets watermarks, lowmem_reserve
        /// and per-cpu lists. <paramref name="memmap"/> must hold MemmapBytes(map) bytes;
        /// <paramref name="physBase"/> is the address of pfn 0's bytes, or null for descriptors only
        /// (unless AllocatorOptions.IdentityMapped says pfn 0's bytes really are at address 0).
        /// </summary>
        public static MmResult Create(MemoryMap map, Page* memmap, byte* physBase, AllocatorOptions o, out PageAllocator pa)
        {
            pa = null;
            if (map == null || memmap == null) return MmResult.BadArgument;
            if (!SpannedRange(map, out ulong minPfn, out ulong maxPfn)) return MmResult.BadArgument;
            if (maxPfn - minPfn >= Page.None) return MmResult.BadArgument;
            if (o.WatermarkScaleFactor == 0) o.WatermarkScaleFactor = 10;
            if (o.WatermarkScaleFactor < 1 || o.WatermarkScaleFactor > 3000) return MmResult.BadArgument;
            if (o.MinFreeKbytesOverride < 0) return MmResult.BadArgument;
            if (o.PoisonFreePages && physBase == null && !o.IdentityMapped) return MmResult.BadArgument;

            int ranges = 0, nodes = 0;
            for (int i = 0; i < map.Count; i++)
            {
                if (PfnDown(map[i].End) <= PfnUp(map[i].Start)) continue;
                ranges++;
                if (map[i].Nid + 1 > nodes) nodes = map[i].Nid + 1;
            }
            var a = new PageAllocator(o, memmap, physBase, ranges, nodes);
            a.MinPfn = minPfn;
            a.MaxPfn = maxPfn;
            a._spannedPages = maxPfn - minPfn;
            a._physPages = a._hasPhys ? maxPfn - minPfn : 0;
            a._pcpClosed = o.PerCpuLists && !o.PoisonFreePages ? 0 : 1;
            int r = 0;
            for (int i = 0; i < map.Count; i++)
            {
                ulong s = PfnUp(map[i].Start), e = PfnDown(map[i].End);
                if (e <= s) continue;
                a._rangeStart[r] = s; a._rangeEnd[r] = e; r++;
            }
            for (int nid = 0; nid < nodes; nid++)
                for (int t = 0; t < MmConstants.MaxNrZones; t++)
                {
                    ref Zone z = ref a._zones[nid * MmConstants.MaxNrZones + t];
                    z.Type = (ZoneType)t;
                    z.Nid = nid;
                    for (int k = 0; k < MmConstants.MaxOrder; k++) z.FreeAreaHead[k] = Page.None;
                    z.Pcp.Head = Page.None; z.Pcp.Tail = Page.None;
                }
            for (int f = 0; f < nodes; f++)
                for (int t = 0; t < nodes; t++) a._distance[f * nodes + t] = map.Distance(f, t);
            a.InitMemmapAndFree(map);
            a.BuildZonelists();
            a.MinFreeKbytes = o.MinFreeKbytesOverride != 0 ? o.MinFreeKbytesOverride
                : CalculateMinFreeKbytes(a.TotalManagedPages << (MmConstants.PageShift - 10));
            a.SetupPerZoneWmarks();
            a.SetupPerZoneLowmemReserve();
            a.SetupPagesets();
            pa = a;
            return MmResult.Ok;
        }

        // Reserved ranges in pfns, sorted and merged (set-up only).
        private static int MergedReserved(MemoryMap map, out ulong[] start, out ulong[] end)
        {
            int n = map.ReservedCount;
            start = new ulong[n]; end = new ulong[n];
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                ulong s = PfnDown(map.Reserved(i).Start), e = PfnUp(map.Reserved(i).End);
                int at = m;
                while (at > 0 && start[at - 1] > s) { start[at] = start[at - 1]; end[at] = end[at - 1]; at--; }
                start[at] = s; end[at] = e; m++;
            }
            int k = 0;
            for (int i = 0; i < m; i++)
            {
                if (k > 0 && start[i] <= end[k - 1]) { if (end[i] > end[k - 1]) end[k - 1] = end[i]; }
                else { start[k] = start[i]; end[k] = end[i]; k++; }
            }
            return k;
        }

        // Writes every descriptor exactly once and frees the managed runs into the buddy lists.
        private void InitMemmapAndFree(MemoryMap map)
        {
            Page hole = default;
            hole.Flags = PageFlags.Reserved; hole.RefCount = 1; hole.Owner = 0;
            hole.Next = Page.None; hole.Prev = Page.None;
            int nres = MergedReserved(map, out ulong[] resStart, out ulong[] resEnd);

            ulong cursor = MinPfn;
            for (int i = 0; i < map.Count; i++)
            {
                ulong s = PfnUp(map[i].Start), e = PfnDown(map[i].End);
                if (e <= s) continue;
                int nid = map[i].Nid;
                if (s > cursor) FillRange(cursor, s, hole, ZoneOfPfn(cursor), 0);   // hole before the range
                // Split the range at zone limits, then at reserved ranges.
                ulong p = s;
                while (p < e)
                {
                    ZoneType t = ZoneOfPfn(p);
                    ulong ze = ZoneEndPfn(t);
                    ulong q = e < ze ? e : ze;
                    AddPresent(nid, t, p, q);
                    InitZoneRun(nid, t, p, q, hole, resStart, resEnd, nres);
                    p = q;
                }
                cursor = e;
            }
        }

        /// <summary>Counts [s, e) as present pages of the node's zone t and widens its span.</summary>
        private void AddPresent(int nid, ZoneType t, ulong s, ulong e)
        {
            ref Zone z = ref _zones[nid * MmConstants.MaxNrZones + (int)t];
            if (z.PresentPages == 0) { z.ZoneStartPfn = s; z.SpannedPages = e - s; }
            else
            {
                ulong end = z.ZoneStartPfn + z.SpannedPages;
                if (s < z.ZoneStartPfn) z.ZoneStartPfn = s;
                if (e > end) end = e;
                z.SpannedPages = end - z.ZoneStartPfn;
            }
            z.PresentPages += e - s;
        }

        // One run of present pages inside one zone: reserved parts get PG_reserved, the rest is freed.
        private void InitZoneRun(int nid, ZoneType t, ulong s, ulong e, Page hole, ulong[] resStart, ulong[] resEnd, int nres)
        {
            Page free = default;
            free.Owner = -1; free.Next = Page.None; free.Prev = Page.None;
            ulong p = s;
            for (int k = 0; k < nres && p < e; k++)
            {
                if (resEnd[k] <= p || resStart[k] >= e) continue;
                ulong rs = resStart[k] > p ? resStart[k] : p;
                ulong re = resEnd[k] < e ? resEnd[k] : e;
                if (rs > p) { FillRange(p, rs, free, t, nid); FreeRunAtInit(nid, t, p, rs); }
                FillRange(rs, re, hole, t, nid);
                p = re;
            }
            if (p < e) { FillRange(p, e, free, t, nid); FreeRunAtInit(nid, t, p, e); }
        }

        /// <summary>Writes the template descriptor (with zone t and node nid) to every pfn of [s, e).</summary>
        private void FillRange(ulong s, ulong e, Page template, ZoneType t, int nid)
        {
            template.Zone = (byte)t;
            template.Nid = (ushort)nid;
            template.ZoneId = (ushort)ZoneIndex(nid, (int)t);
            Page* p = _memmap + (s - MinPfn);
            Page* end = _memmap + (e - MinPfn);
            while (p < end) *p++ = template;
        }

        // memblock_free_all for one managed run: the largest aligned blocks go straight to the free lists.
        private void FreeRunAtInit(int nid, ZoneType t, ulong s, ulong e)
        {
            ref Zone z = ref _zones[nid * MmConstants.MaxNrZones + (int)t];
            z.ManagedPages += e - s;
            TotalManagedPages += e - s;
            if (Options.PoisonFreePages) PoisonPages(s, e - s);
            while (s < e)
            {
                int order = MmConstants.LargestOrder;
                while (order > 0 && (((s & ((1UL << order) - 1)) != 0) || s + (1UL << order) > e)) order--;
                FreeOneBlock(ref z, s, order);
                s += 1UL << order;
            }
        }

        /// <summary>Zone index in the zone table: nid * MAX_NR_ZONES + type.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int ZoneIndex(int nid, int type) => nid * MmConstants.MaxNrZones + type;

        /// <summary>
        /// build_zonelists: for each node and highest zone, the populated zones from that zone down
        /// to DMA, nodes taken nearest first (node_distance from the SLIT; equally distant nodes in
        /// the order after the local node, as find_next_best_node's "n &lt; node" penalty gives). Node
        /// order: all of a node's zones before the next node's; zone order: each zone type across
        /// the nodes, then the next lower type. A second list per node holds only its own zones
        /// (__GFP_THISNODE).
        /// </summary>
        private void BuildZonelists()
        {
            _zonelistStride = NodeCount * MmConstants.MaxNrZones + 1;
            _zonelists = new int[NodeCount * MmConstants.MaxNrZones * 2 * _zonelistStride];
            int[] byDistance = new int[NodeCount];
            for (int nid = 0; nid < NodeCount; nid++)
            {
                NodesByDistance(nid, byDistance);
                for (int high = 0; high < MmConstants.MaxNrZones; high++)
                    for (int thisNode = 0; thisNode < 2; thisNode++)
                    {
                        int at = ZonelistOffset(nid, high, thisNode != 0);
                        int nodes = thisNode != 0 ? 1 : NodeCount;
                        if (Options.ZonelistOrder == ZonelistOrder.Zone)
                        {
                            for (int t = high; t >= 0; t--)
                                for (int k = 0; k < nodes; k++)
                                    if (_zones[ZoneIndex(byDistance[k], t)].PresentPages != 0) _zonelists[at++] = ZoneIndex(byDistance[k], t);
                        }
                        else
                        {
                            for (int k = 0; k < nodes; k++)
                                for (int t = high; t >= 0; t--)
                                    if (_zones[ZoneIndex(byDistance[k], t)].PresentPages != 0) _zonelists[at++] = ZoneIndex(byDistance[k], t);
                        }
                        _zonelists[at] = -1;
                    }
            }
            SetupPcpEntry();
        }

        /// <summary>
        /// The per-cpu entry of AllocPages, per node: the first zone of the node's ZONE_NORMAL
        /// zonelist (ZonelistOffset(nid, Normal, false)), or -1 when the node has none or the entry
        /// is closed (per-cpu lists off, poisoning on). Follows every zonelist rebuild.
        /// </summary>
        private void SetupPcpEntry()
        {
            for (int nid = 0; nid < MaxNodes; nid++)
                _pcpEntry.Zone[nid] = nid < NodeCount && _pcpClosed == 0 ? _zonelists[ZonelistOffset(nid, (int)ZoneType.Normal, false)] : -1;
        }

        /// <summary>The zone AllocPages' per-cpu entry serves an order-0 GFP_KERNEL request of a task on <paramref name="nid"/> from (its preferred zone), or -1 when the entry is closed.</summary>
        public int PcpEntryZone(int nid) => (uint)nid < (uint)NodeCount ? _pcpEntry.Zone[nid] : -1;

        /// <summary>The nodes ordered by node_distance from <paramref name="nid"/> (itself first), ties in the order after nid (nid+1, ..., wrapping).</summary>
        private void NodesByDistance(int nid, int[] order)
        {
            for (int k = 0; k < NodeCount; k++) order[k] = (nid + k) % NodeCount;
            // Insertion sort by distance; stable, so equal distances keep the cyclic order.
            for (int i = 1; i < NodeCount; i++)
            {
                int n = order[i], d = NodeDistance(nid, n), j = i;
                while (j > 0 && NodeDistance(nid, order[j - 1]) > d) { order[j] = order[j - 1]; j--; }
                order[j] = n;
            }
        }

        /// <summary>node_distance(a, b) from the memory map's SLIT (10 to itself, 20 between nodes by default); 0 for a nid that does not exist.</summary>
        public int NodeDistance(int a, int b)
            => (uint)a < (uint)NodeCount && (uint)b < (uint)NodeCount ? _distance[a * NodeCount + b] : 0;

        /// <summary>Rebuilds every zonelist in the given order (sysctl numa_zonelist_order).</summary>
        public void SetZonelistOrder(ZonelistOrder order)
        {
            Options.ZonelistOrder = order;
            BuildZonelists();
        }

        /// <summary>Where the zonelist of (node, highest zone, __GFP_THISNODE) starts in the zonelist table.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int ZonelistOffset(int nid, int highZoneIdx, bool thisNode)
            => ((nid * MmConstants.MaxNrZones + highZoneIdx) * 2 + (thisNode ? 1 : 0)) * _zonelistStride;

        /// <summary>Copies the zonelist (node, zone type pairs as zone indices nid*3+type) for a node and gfp into <paramref name="buf"/>; returns its length.</summary>
        public int GetZonelist(int nid, Gfp gfp, int* buf, int capacity)
        {
            int high = GfpZone(gfp);
            if (high < 0 || (uint)nid >= (uint)NodeCount) return 0;
            int at = ZonelistOffset(nid, high, (gfp & Gfp.ThisNode) != 0);
            int n = 0;
            while (_zonelists[at + n] >= 0 && n < capacity) { buf[n] = _zonelists[at + n]; n++; }
            return n;
        }

        /// <summary>The zone of a node (a zero-sized dummy for a nid that does not exist).</summary>
        public ref Zone GetZone(int nid, ZoneType t)
        {
            if ((uint)nid >= (uint)NodeCount || (uint)t >= MmConstants.MaxNrZones) { _noZone = default; return ref _noZone; }
            return ref _zones[ZoneIndex(nid, (int)t)];
        }

        /// <summary>populated_zone(): the node has present pages in zone t.</summary>
        public bool HasZone(int nid, ZoneType t)
            => (uint)nid < (uint)NodeCount && (uint)t < MmConstants.MaxNrZones && _zones[ZoneIndex(nid, (int)t)].PresentPages != 0;

        /// <summary>pfn_to_page: the descriptor of a pfn, null outside the spanned range.</summary>
        public Page* PfnToPage(ulong pfn) => pfn >= MinPfn && pfn < MaxPfn ? _memmap + (pfn - MinPfn) : null;

        /// <summary>page_to_pfn: the pfn a descriptor stands for.</summary>
        public ulong PageToPfn(Page* page) => MinPfn + (ulong)(page - _memmap);

        /// <summary>page_address: where the page's bytes are, null when there is no real memory behind the pages.</summary>
        public byte* PageAddress(ulong pfn)
            => pfn - MinPfn >= _physPages ? null : _phys + (pfn << MmConstants.PageShift);   // (_physPages: 0 without real memory)

        /// <summary>True when real memory is behind the pages.</summary>
        public bool HasPhysicalMemory => _hasPhys;

        /// <summary>Pages on all per-cpu lists (free, but not counted in NR_FREE_PAGES).</summary>
        public ulong PcpPages
        {
            get
            {
                ulong n = 0;
                for (int i = 0; i < _zones.Length; i++) n += (ulong)_zones[i].Pcp.Count;
                return n;
            }
        }

        /// <summary>Number of entries in the zone table (NodeCount * 3); zones by index for walkers like kswapd.</summary>
        public int ZoneCount => _zones.Length;
        /// <summary>The zone at index nid * 3 + type (0 .. ZoneCount-1).</summary>
        public ref Zone ZoneAt(int index) => ref _zones[index];
    }
}
