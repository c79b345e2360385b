namespace MemoryManager.Reclaim
{
    /// <summary>struct scan_control: what one reclaim pass may do and what it achieved.</summary>
    public struct ScanControl
    {
        /// <summary>Stop once this many pages are reclaimed.</summary>
        public ulong NrToReclaim;
        /// <summary>Scan priority: each list is scanned size >> Priority pages (at least SWAP_CLUSTER_MAX).</summary>
        public int Priority;
        /// <summary>May write dirty file pages back (__GFP_FS for direct reclaim).</summary>
        public bool MayWritepage;
        /// <summary>May move anonymous pages to swap (__GFP_IO for direct reclaim).</summary>
        public bool MaySwap;
        /// <summary>kswapd (counts pgscan_kswapd/pgsteal_kswapd) or direct reclaim (pgscan_direct/pgsteal_direct).</summary>
        public bool IsKswapd;
        /// <summary>The reclaim's gfp mask, handed to the shrinkers (GFP_KERNEL for kswapd).</summary>
        public MemoryManager.Core.Gfp GfpMask;
        /// <summary>shrink_slab may run: false under the task's no-shrink scope (TaskFlags.MemallocNoshrink).</summary>
        public bool MayShrinkSlab;
        /// <summary>Objects the shrinkers freed in this pass (their pages are in NrReclaimed).</summary>
        public ulong NrSlabFreed;
        public ulong NrScanned, NrReclaimed;
        /// <summary>Dirty file pages written back and anon pages swapped out by this pass.</summary>
        public ulong NrWritten, NrSwapped;
    }
}
