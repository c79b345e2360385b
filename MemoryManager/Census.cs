using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Files;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Reclaim;
using MemoryManager.Swap;

namespace MemoryManager
{
    /// <summary>Where every managed page is, counted by walking the page descriptors.</summary>
    public struct PageCensus
    {
        /// <summary>Free pages: on the buddy free lists or on per-cpu lists.</summary>
        public ulong Free;
        /// <summary>Allocated pages (all pages of allocated blocks).</summary>
        public ulong InUse;
        /// <summary>Allocated pages isolated from the LRU by a scan and not yet freed or put back.</summary>
        public ulong InFlight;
        /// <summary>Of InUse: on the anon / file LRU lists, page-table pages, anything else (kernel).</summary>
        public ulong LruAnon, LruFile, PageTables, Other;
        /// <summary>The allocator's managed page count the sum must match.</summary>
        public ulong Managed;
    }

    /// <summary>
    /// The "no page is ever lost" check: free + in use + in flight = managed, and the counters
    /// of every part (the processes' rss, swap entries and page-table pages, the page cache's
    /// size, the LRU lists, the swap map) agree with what the page descriptors say. It reads
    /// every part and changes none (CONFIG_DEBUG_VM in spirit; no Linux counterpart).
    /// </summary>
    public sealed unsafe class Census
    {
        private readonly PageAllocator _pa;
        private readonly Nodes _nodes;
        private readonly ProcessTable _procs;
        private readonly PageCache _files;
        private readonly ISwapDevice _swap;
        private readonly Vmscan _vmscan;

        /// <summary>A census over the given parts; swap may be null (set-up only).</summary>
        public Census(PageAllocator pa, Nodes nodes, ProcessTable procs, PageCache files, ISwapDevice swap, Vmscan vmscan)
        {
            _pa = pa;
            _nodes = nodes;
            _procs = procs;
            _files = files;
            _swap = swap;
            _vmscan = vmscan;
        }

        /// <summary>Counts every managed page by its descriptor's state.</summary>
        public PageCensus TakeCensus()
        {
            PageCensus c = default;
            c.Managed = _pa.TotalManagedPages;
            c.InFlight = _vmscan.NrIsolated;
            ulong pfn = _pa.MinPfn;
            while (pfn < _pa.MaxPfn)
            {
                Page* p = _nodes.PageOf(pfn);
                if ((p->Flags & PageFlags.Reserved) != 0) { pfn++; continue; }
                if ((p->Flags & PageFlags.Buddy) != 0) { c.Free += 1UL << p->Order; pfn += 1UL << p->Order; continue; }
                if ((p->Flags & PageFlags.Pcp) != 0) { c.Free++; pfn++; continue; }
                if ((p->Flags & PageFlags.Tail) != 0) { pfn++; continue; }   // counted with its head
                if (p->RefCount > 0)
                {
                    ulong n = 1UL << p->Order;
                    c.InUse += n;
                    if ((p->Flags & PageFlags.Lru) != 0)
                    {
                        if ((p->Flags & PageFlags.SwapBacked) != 0) c.LruAnon++; else c.LruFile++;
                    }
                    else if ((p->Private & 0xFFFF000000000000UL) == ProcessMemory.PtPageMagic) c.PageTables++;
                    else c.Other += n;
                    pfn += n;
                    continue;
                }
                pfn++;
            }
            return c;
        }

        /// <summary>
        /// True when no page is lost: free + in use + in flight = managed, the LRU lists are
        /// consistent, and the process table's rss, swap-entry and page-table counts and the
        /// page cache's size agree with the descriptors and the swap map. Reports each mismatch.
        /// </summary>
        public bool CheckNoPageLost(ITextSink report)
        {
            bool ok = true;
            PageCensus c = TakeCensus();
            if (c.Free + c.InUse + c.InFlight != c.Managed)
            {
                ok = false;
                TextFormat.Write(report, "census: free ");
                TextFormat.Dec(report, c.Free);
                TextFormat.Write(report, " + in use ");
                TextFormat.Dec(report, c.InUse);
                TextFormat.Write(report, " + in flight ");
                TextFormat.Dec(report, c.InFlight);
                TextFormat.Write(report, " != managed ");
                TextFormat.Dec(report, c.Managed);
                TextFormat.Write(report, "\n");
            }
            ulong lruTotal = 0;
            for (int n = 0; n < _nodes.Count; n++)
            {
                if (!_nodes[n].Lru.Check(report)) ok = false;
                lruTotal += _nodes[n].Lru.Total;
            }
            if (lruTotal != c.LruAnon + c.LruFile) ok = Fail(report, "census: LRU list sizes disagree with PG_lru pages\n");
            ulong rssAnon = 0, swapEnts = 0, ptes = 0;
            for (int s = 0; s < _procs.Capacity; s++)
            {
                ref Process t = ref _procs.At(s);
                if (t.State == ProcessState.Unused) continue;
                rssAnon += t.RssAnon;
                swapEnts += t.SwapEnts;
                ptes += t.NrPtes;
            }
            if (rssAnon != c.LruAnon) ok = Fail(report, "census: sum of anon rss != anon pages on the LRU\n");
            if (ptes != c.PageTables) ok = Fail(report, "census: sum of page-table pages != page-table pages found\n");
            if (_files.NrFilePages != c.LruFile) ok = Fail(report, "census: page cache size != file pages on the LRU\n");
            if (_swap != null && swapEnts != _swap.Slots - 1 - _swap.FreeSlots)
                ok = Fail(report, "census: sum of swap entries != swap slots in use\n");
            return ok;
        }

        /// <summary>Reports one mismatch and returns false.</summary>
        private static bool Fail(ITextSink report, string msg)
        {
            TextFormat.Write(report, msg);
            return false;
        }
    }
}
