using MemoryManager.Common;

namespace MemoryManager.Allocator
{
    /// <summary>struct per_cpu_pages: one cpu's hot list of free order-0 pages of a zone.</summary>
    public struct PerCpuPages
    {
        /// <summary>Pages on the list.</summary>
        public int Count;
        /// <summary>When Count reaches High, Batch pages go back to the buddy lists.</summary>
        public int High;
        /// <summary>Pages moved to or from the buddy lists at once.</summary>
        public int Batch;
        /// <summary>Hot end (memmap index) and cold end of the list; Page.None when empty.</summary>
        public uint Head, Tail;
    }

    /// <summary>
    /// struct zone: a node's pages of one zone type, its free_area[0..MAX_ORDER-1], watermarks,
    /// lowmem_reserve ("protection") and per-cpu list. Free lists are threaded through the
    /// pages' Next/Prev by memmap index (pfn - MinPfn).
    /// </summary>
    public unsafe struct Zone
    {
        public ZoneType Type;
        public int Nid;
        public ulong ZoneStartPfn, SpannedPages, PresentPages, ManagedPages;
        public long WatermarkMin, WatermarkLow, WatermarkHigh;
        /// <summary>
        /// The order-0 per-cpu entry's watermark floor: WatermarkLow + LowmemReserve[Type], the
        /// sum zone_watermark_ok compares free pages with for an order-0 ALLOC_WMARK_LOW request
        /// whose preferred zone is this one. Kept by the allocator wherever either part changes
        /// (SetupPerZoneWmarks: min_free_kbytes, watermark_scale_factor; SetupPerZoneLowmemReserve).
        /// </summary>
        public long PcpFloor;
        /// <summary>NR_FREE_PAGES: pages on the buddy free lists (per-cpu pages not included).</summary>
        public long NrFree;
        /// <summary>lowmem_reserve[classzone]: pages kept back from allocations that could have used zone classzone.</summary>
        public fixed long LowmemReserve[MmConstants.MaxNrZones];
        /// <summary>free_area[order].nr_free: free blocks of each order.</summary>
        public fixed ulong FreeAreaNrFree[MmConstants.MaxOrder];
        /// <summary>free_area[order].free_list: memmap index of the first free block, Page.None if empty.</summary>
        public fixed uint FreeAreaHead[MmConstants.MaxOrder];
        /// <summary>The zone's per-cpu pageset (one cpu is modelled).</summary>
        public PerCpuPages Pcp;
        /// <summary>ZONE_OOM_LOCKED: an OOM kill for a zonelist containing this zone is in progress.</summary>
        public bool OomLocked;
        /// <summary>For reclaim: pages scanned since the last page was freed (zone->pages_scanned).</summary>
        public ulong PagesScanned;
        /// <summary>For reclaim: the zone is considered unreclaimable (zone->all_unreclaimable).</summary>
        public bool AllUnreclaimable;
        /// <summary>NR_ALLOC_BATCH (3.12+): pages the fair pass may still take from this zone (high - low when reset); each allocation subtracts its pages.</summary>
        public long AllocBatch;
        /// <summary>ZONE_FAIR_DEPLETED: the batch is used up; the fair pass skips the zone until the batches are reset.</summary>
        public bool FairDepleted;
        /// <summary>
        /// zone_statistics (per allocation, on the zone that served it): NUMA_HIT (the preferred
        /// node's zone served it), NUMA_MISS (another node's did), NUMA_LOCAL / NUMA_OTHER (the zone
        /// is / is not on the allocating task's node); NUMA_FOREIGN counts on the preferred zone
        /// the allocations meant for it that another node served.
        /// </summary>
        public ulong NumaHit, NumaMiss, NumaForeign, NumaLocal, NumaOther;

        /// <summary>populated_zone(): the zone has present pages.</summary>
        public bool IsPopulated => PresentPages != 0;

        /// <summary>free_area[order].nr_free.</summary>
        public ulong NrFreeBlocks(int order) => FreeAreaNrFree[order];

        /// <summary>lowmem_reserve[classzoneIdx].</summary>
        public long Protection(int classzoneIdx) => LowmemReserve[classzoneIdx];

        /// <summary>The zone's name as /proc prints it.</summary>
        public string Name => ZoneName(Type);

        /// <summary>The /proc name of a zone type.</summary>
        public static string ZoneName(ZoneType t)
        {
            if (t == ZoneType.Dma) return "DMA";
            if (t == ZoneType.Dma32) return "DMA32";
            return "Normal";
        }
    }
}
