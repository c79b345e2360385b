using MemoryManager.Allocator;
using MemoryManager.Common;

namespace MemoryManager.Node
{
    /// <summary>
    /// struct pglist_data (pg_data_t): what one NUMA node shares among the memory manager's
    /// parts. Its zones (the page allocator keeps them; reached here by type), its LRU lists
    /// (the lruvec: what vmscan scans, what faults, the page cache and the oom_reaper add to and
    /// take from) and its kswapd's state (pgdat->kswapd_order, kswapd_classzone_idx,
    /// kswapd_failures and the thread's loop state, which Reclaim/Kswapd.cs drives).
    /// </summary>
    public sealed unsafe class PgData
    {
        /// <summary>node_id.</summary>
        public readonly int Nid;
        /// <summary>The node's lruvec: inactive/active x anon/file lists.</summary>
        public readonly LruVec Lru;
        /// <summary>The node's kswapd: its state and the pgdat->kswapd_* fields.</summary>
        public KswapdNode Kswapd;
        private readonly PageAllocator _pa;

        /// <summary>Node <paramref name="nid"/> of <paramref name="pa"/>, with empty LRU lists (set-up only).</summary>
        internal PgData(PageAllocator pa, int nid)
        {
            _pa = pa;
            Nid = nid;
            Lru = new LruVec(pa.PfnToPage(pa.MinPfn), pa.MinPfn);
        }

        /// <summary>populated_zone(pgdat->node_zones[t]): the node has present pages in zone <paramref name="t"/>.</summary>
        public bool HasZone(ZoneType t) => _pa.HasZone(Nid, t);

        /// <summary>pgdat->node_zones[t] (a zero-sized dummy for a zone type the node lacks).</summary>
        public ref Zone Zone(ZoneType t) => ref _pa.GetZone(Nid, t);
    }
}
