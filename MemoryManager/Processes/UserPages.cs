using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Node;

namespace MemoryManager.Processes
{
    /// <summary>
    /// Order-0 pages charged to a process, as faults, the page cache, reclaim, exit and the
    /// oom_reaper take and give them: allocated in the process's name (and given back when the
    /// OOM killer chose it meanwhile: fatal_signal_pending after the allocation), and freed on
    /// its behalf once they are off every list (put_page's last reference, reduced).
    /// </summary>
    public sealed unsafe class UserPages
    {
        private readonly PageAllocator _pa;
        private readonly ProcessTable _procs;
        private readonly Nodes _nodes;

        /// <summary>Pages of <paramref name="pa"/> charged to the processes of <paramref name="procs"/> (set-up only).</summary>
        public UserPages(PageAllocator pa, ProcessTable procs, Nodes nodes)
        {
            _pa = pa;
            _procs = procs;
            _nodes = nodes;
        }

        /// <summary>Allocates an order-0 page charged to <paramref name="pid"/>; Killed when the OOM killer chose the process meanwhile (the page, if any, is given back).</summary>
        public ProcResult AllocUserPage(int pid, Gfp gfp, out ulong pfn)
        {
            TaskContext current = _procs.ContextOf(pid);
            pfn = _pa.AllocPages(ref current, gfp, 0);
            bool killed = !_procs.Exists(pid) || _procs.Get(pid).State == ProcessState.Exiting || _procs.Get(pid).State == ProcessState.Zombie;
            if (killed)
            {
                if (pfn != PageAllocator.NoPfn) _pa.FreePages(pfn, 0, pid);
                pfn = PageAllocator.NoPfn;
                return ProcResult.Killed;
            }
            return pfn == PageAllocator.NoPfn ? ProcResult.NoMemory : ProcResult.Ok;
        }

        /// <summary>Frees an order-0 page that reclaim or exit took off every list, on behalf of its owner.</summary>
        public MmResult FreeUserPage(ulong pfn)
        {
            Page* p = _nodes.PageOf(pfn);
            ClearForFree(p);
            return _pa.FreePages(pfn, 0, p->Owner);
        }

        /// <summary>
        /// FreeUserPage in a batch (release_pages' shape): the page, off every list, is readied
        /// for freeing and added to <paramref name="batch"/>; a full batch is freed first
        /// (<see cref="FreeBatch"/>). The pages are freed in the order they were queued.
        /// </summary>
        public void QueueUserPage(ref PageBatch batch, ulong pfn)
        {
            Page* p = _nodes.PageOf(pfn);
            ClearForFree(p);
            if (batch.IsFull) FreeBatch(ref batch);
            batch.Add(pfn, 0, p->Owner);
        }

        /// <summary>Frees every page of <paramref name="batch"/> in one bulk free (PageAllocator.FreePagesBulk) and empties it; returns the pages refused.</summary>
        public int FreeBatch(ref PageBatch batch)
        {
            _pa.FreePagesBulk(ref batch, out int refused);
            return refused;
        }

        // The flags and links a user page may still carry once it is off every list.
        private static void ClearForFree(Page* p)
        {
            p->Flags &= ~(PageFlags.Lru | PageFlags.Active | PageFlags.Referenced | PageFlags.Dirty |
                          PageFlags.Writeback | PageFlags.SwapBacked | PageFlags.SwapCache);
            p->Next = Page.None;
            p->Prev = Page.None;
            p->Private = 0;
        }
    }
}
