using MemoryManager.Common;

namespace MemoryManager.Allocator
{
    /// <summary>
    /// Event counters of /proc/vmstat (and the LRU sizes /proc/meminfo reports). The page
    /// allocator counts pgalloc_*, pgfree and allocstall (one per direct reclaim it enters);
    /// reclaim, kswapd and the OOM killer add the rest.
    /// </summary>
    public unsafe struct VmStat
    {
        /// <summary>
        /// pgalloc_dma, pgalloc_dma32, pgalloc_normal: pages allocated from zones of each type,
        /// indexed by ZoneType as Linux's __count_zid_vm_events(PGALLOC, zone_idx, n) indexes
        /// PGALLOC_DMA + zone_idx (one add, no test of the type).
        /// </summary>
        public fixed ulong Pgalloc[MmConstants.MaxNrZones];
        public ulong PgallocDma => Pgalloc[(int)ZoneType.Dma];
        public ulong PgallocDma32 => Pgalloc[(int)ZoneType.Dma32];
        public ulong PgallocNormal => Pgalloc[(int)ZoneType.Normal];
        /// <summary>Pages freed (1 &lt;&lt; order per free).</summary>
        public ulong Pgfree;
        /// <summary>Direct reclaim entered by the allocator's slow path.</summary>
        public ulong Allocstall;
        public ulong PgscanKswapd, PgscanDirect, PgstealKswapd, PgstealDirect;
        /// <summary>slabs_scanned: objects the shrinkers were asked to scan; slabs_freed (ours): objects they freed.</summary>
        public ulong SlabsScanned, SlabsFreed;
        /// <summary>Congestion waits the slow path skipped because the task may not sleep (TaskFlags.MemallocNosleep).</summary>
        public ulong CongestionWaitSkipped;
        public ulong Pageoutrun, KswapdLowWmarkHitQuickly, KswapdHighWmarkHitQuickly;
        public ulong CompactStall, OomKill, Pswpin, Pswpout;
        /// <summary>Allocation attempts that failed (all ladder steps exhausted).</summary>
        public ulong AllocFail;
        /// <summary>Failure reports held back by warn_alloc's rate limit (<see cref="PageAllocator.WarnAllocLimit"/>).</summary>
        public ulong WarnAllocSuppressed;
        /// <summary>zone_reclaim runs from the fast path (vm.zone_reclaim_mode), and those that reclaimed nothing (zone_reclaim_failed).</summary>
        public ulong ZoneReclaim, ZoneReclaimFailed;
        /// <summary>Poison overwritten on free pages (seen on allocation or by the checker).</summary>
        public ulong PoisonCorrupted;
        // LRU and swap sizes in pages, kept by reclaim (for /proc/meminfo).
        public ulong NrActiveAnon, NrInactiveAnon, NrActiveFile, NrInactiveFile;
        public ulong SwapTotalPages, SwapFreePages;
    }
}
