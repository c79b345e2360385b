using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Swap;

namespace MemoryManager.Node
{
    /// <summary>
    /// Every node's <see cref="PgData"/> (NODE_DATA(nid)) and the lookups all of the memory
    /// manager's parts make: a pfn's descriptor (pfn_to_page over the allocator's memmap), the
    /// node a page belongs to, and the LRU and swap sizes that vmstat and meminfo show.
    /// </summary>
    public sealed unsafe class Nodes
    {
        private readonly PgData[] _nodes;
        private readonly PageAllocator _pa;
        private readonly ISwapDevice _swap;
        private readonly Page* _memmap;
        private readonly ulong _minPfn;

        /// <summary>One <see cref="PgData"/> per node of <paramref name="pa"/>; swap may be null (set-up only).</summary>
        public Nodes(PageAllocator pa, ISwapDevice swap)
        {
            _pa = pa;
            _swap = swap;
            _memmap = pa.PfnToPage(pa.MinPfn);
            _minPfn = pa.MinPfn;
            _nodes = new PgData[pa.NodeCount];
            for (int n = 0; n < pa.NodeCount; n++) _nodes[n] = new PgData(pa, n);
        }

        /// <summary>Nodes in all (the allocator's NodeCount).</summary>
        public int Count => _nodes.Length;

        /// <summary>NODE_DATA(nid).</summary>
        public PgData this[int nid] => _nodes[nid];

        /// <summary>The descriptor of a pfn (callers pass pfns the allocator handed out).</summary>
        public Page* PageOf(ulong pfn) => _memmap + (pfn - _minPfn);

        /// <summary>When the page of <paramref name="pfn"/> is on an LRU list, prefetches its neighbours there (what LruVec.Del writes); see MemoryManager.Core.Cpu.</summary>
        public void PrefetchLruNeighbours(ulong pfn)
        {
            Page* p = PageOf(pfn);
            if ((p->Flags & PageFlags.Lru) == 0) return;
            if (p->Next != Page.None) Cpu.Prefetch(_memmap + p->Next);
            if (p->Prev != Page.None) Cpu.Prefetch(_memmap + p->Prev);
        }

        /// <summary>The node a page belongs to (page_pgdat).</summary>
        public PgData NodeOf(ulong pfn) => _nodes[PageOf(pfn)->Nid];

        /// <summary>Copies the LRU sizes of every node and the swap sizes into the allocator's vmstat/meminfo counters.</summary>
        public void UpdateStat()
        {
            ulong aa = 0, ia = 0, af = 0, inf = 0;
            for (int n = 0; n < _nodes.Length; n++)
            {
                LruVec lru = _nodes[n].Lru;
                aa += lru.Size(LruList.ActiveAnon);
                ia += lru.Size(LruList.InactiveAnon);
                af += lru.Size(LruList.ActiveFile);
                inf += lru.Size(LruList.InactiveFile);
            }
            _pa.Stat.NrActiveAnon = aa;
            _pa.Stat.NrInactiveAnon = ia;
            _pa.Stat.NrActiveFile = af;
            _pa.Stat.NrInactiveFile = inf;
            _pa.Stat.SwapTotalPages = _swap == null ? 0 : _swap.Slots - 1;
            _pa.Stat.SwapFreePages = _swap == null ? 0 : _swap.FreeSlots;
        }
    }
}
