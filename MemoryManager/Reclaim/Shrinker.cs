using MemoryManager.Core;

namespace MemoryManager.Reclaim
{
    /// <summary>
    /// struct shrink_control: what shrink_slab asks of one shrinker call. The shrinker reads
    /// GfpMask, Nid and NrToScan; it may lower NrScanned to what it really looked at, and it adds
    /// the pages it gave back to the page allocator to PagesFreed (current->reclaim_state's
    /// reclaimed_slab in Linux): those pages count as reclaim progress.
    /// </summary>
    public struct ShrinkControl
    {
        /// <summary>The reclaim's gfp mask (after the task's scope flags): a shrinker that needs __GFP_FS checks it.</summary>
        public Gfp GfpMask;
        /// <summary>The node being reclaimed.</summary>
        public int Nid;
        /// <summary>Objects to scan in this call (at most the shrinker's batch).</summary>
        public ulong NrToScan;
        /// <summary>Objects scanned by this call: NrToScan unless the shrinker says otherwise.</summary>
        public ulong NrScanned;
        /// <summary>Pages the shrinker gave back to the page allocator in this call.</summary>
        public ulong PagesFreed;
        /// <summary>kswapd's balance (true) or direct reclaim (false).</summary>
        public bool IsKswapd;
    }

    /// <summary>
    /// struct shrinker (include/linux/shrinker.h): a cache that can give memory back under
    /// pressure. CountObjects says how many objects could be freed (0: nothing to do);
    /// ScanObjects tries to free up to NrToScan of them and returns how many it freed, or
    /// <see cref="Shrinkers.ShrinkStop"/> when it cannot make progress in this context. Neither
    /// may allocate. Seeks is the cost of re-creating an object (DEFAULT_SEEKS = 2; a higher
    /// value means the cache is asked less); Batch is the objects per ScanObjects call (0: SHRINK_BATCH).
    /// </summary>
    public interface IShrinker
    {
        ulong CountObjects(ref ShrinkControl sc);
        ulong ScanObjects(ref ShrinkControl sc);
        int Seeks { get; }
        ulong Batch { get; }
    }
}
