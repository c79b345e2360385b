using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Files;
using MemoryManager.Node;
using MemoryManager.Swap;

namespace MemoryManager.Processes
{
    /// <summary>
    /// A process's memory (mm/memory.c and exit_mm, reduced): anonymous pages behind a software
    /// page table (one entry per virtual page, see <see cref="Pte"/>), page-table pages charged to
    /// the process, faults that map a fresh page (do_anonymous_page) or bring a swapped-out page
    /// back (do_swap_page), munmap of a page, and the teardown on exit (exit_mmap).
    /// </summary>
    public sealed unsafe class ProcessMemory
    {
        private readonly PageAllocator _pa;
        private readonly ProcessTable _procs;
        private readonly Nodes _nodes;
        private readonly ISwapDevice _swap;
        private readonly UserPages _pages;
        private readonly PageCache _files;

        /// <summary>The memory of the processes of <paramref name="procs"/>; swap may be null (set-up only).</summary>
        public ProcessMemory(PageAllocator pa, ProcessTable procs, Nodes nodes, ISwapDevice swap, UserPages pages, PageCache files)
        {
            _pa = pa;
            _procs = procs;
            _nodes = nodes;
            _swap = swap;
            _pages = pages;
            _files = files;
        }

        /// <summary>Marks page-table pages in Page.Private so the census can tell them apart.</summary>
        internal const ulong PtPageMagic = 0x5054000000000000UL;

        /// <summary>
        /// handle_mm_fault() for an anonymous page: a present page is marked accessed; a
        /// swapped-out page is read back bit-exact (do_swap_page); an unmapped page gets a
        /// fresh zeroed page (do_anonymous_page). <paramref name="data"/> is the page's bytes
        /// (null when the allocator has no memory behind its pages).
        /// </summary>
        public ProcResult TouchAnon(int pid, int vpage, bool write, out byte* data)
        {
            data = null;
            if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
            ref Process t = ref _procs.Get(pid);
            if (t.State != ProcessState.Running && t.State != ProcessState.Sleeping) return ProcResult.Killed;
            if (vpage < 0 || vpage >= _procs.VpagesPerProcess) return ProcResult.AddressOutOfRange;
            ulong pte = _procs.PteOf(ref t, vpage);
            if (Pte.IsPresent(pte))
            {
                ulong pfn = Pte.Pfn(pte);
                _nodes.NodeOf(pfn).Lru.MarkPageAccessed(pfn);
                data = _pa.PageAddress(pfn);
                return ProcResult.Ok;
            }
            ProcResult r = EnsurePtPage(pid, vpage);
            if (r != ProcResult.Ok) return r;
            if (Pte.IsSwap(pte)) return DoSwapPage(pid, vpage, out data);
            return DoAnonymousPage(pid, vpage, out data);
        }

        /// <summary>__pte_alloc(): makes sure the page-table page covering <paramref name="vpage"/> exists, charged to the process.</summary>
        private ProcResult EnsurePtPage(int pid, int vpage)
        {
            if (_procs.PtPageOf(ref _procs.Get(pid), vpage) != PageAllocator.NoPfn) return ProcResult.Ok;
            ProcResult r = _pages.AllocUserPage(pid, Gfp.GFP_KERNEL, out ulong pfn);
            if (r != ProcResult.Ok) return r;
            ref Process t = ref _procs.Get(pid);
            _nodes.PageOf(pfn)->Private = PtPageMagic | (uint)(vpage / ProcessTable.PtrsPerPte);
            byte* bytes = _pa.PageAddress(pfn);
            if (bytes != null) PageBytes.Clear(bytes);
            _procs.PtPageOf(ref t, vpage) = pfn;
            t.NrPtes++;
            return ProcResult.Ok;
        }

        /// <summary>do_anonymous_page(): maps a zeroed page and puts it on the active anon list.</summary>
        private ProcResult DoAnonymousPage(int pid, int vpage, out byte* data)
        {
            data = null;
            ProcResult r = _pages.AllocUserPage(pid, Gfp.GFP_HIGHUSER_MOVABLE, out ulong pfn);
            if (r != ProcResult.Ok) return r;
            ref Process t = ref _procs.Get(pid);
            data = _pa.PageAddress(pfn);
            if (data != null) PageBytes.Clear(data);
            MapAnon(ref t, vpage, pfn);
            t.TotalVm++;
            return ProcResult.Ok;
        }

        /// <summary>do_swap_page(): reads the page back from its swap slot into a new page, drops the slot's reference and maps the page.</summary>
        private ProcResult DoSwapPage(int pid, int vpage, out byte* data)
        {
            data = null;
            ProcResult r = _pages.AllocUserPage(pid, Gfp.GFP_HIGHUSER_MOVABLE, out ulong pfn);
            if (r != ProcResult.Ok) return r;
            ref Process t = ref _procs.Get(pid);
            ref ulong pte = ref _procs.PteOf(ref t, vpage);
            ulong entry = Pte.SwapEntry(pte);
            data = _pa.PageAddress(pfn);
            if (_swap == null || _swap.ReadPage(entry, data) != MmResult.Ok)
            {
                _pa.FreePages(pfn, 0, pid);
                data = null;
                return ProcResult.SwapError;
            }
            _swap.SwapFree(entry);
            t.SwapEnts--;
            MapAnon(ref t, vpage, pfn);
            _pa.Stat.Pswpin++;
            return ProcResult.Ok;
        }

        /// <summary>page_add_new_anon_rmap + lru_cache_add_active: the page records its owner's virtual page and joins the active anon list.</summary>
        private void MapAnon(ref Process t, int vpage, ulong pfn)
        {
            Page* p = _nodes.PageOf(pfn);
            p->Private = (ulong)vpage;
            p->Flags |= PageFlags.SwapBacked | PageFlags.Active;
            _nodes[p->Nid].Lru.Add(pfn);
            _procs.PteOf(ref t, vpage) = Pte.MakePresent(pfn);
            t.RssAnon++;
        }

        /// <summary>munmap of one anonymous page: frees the page or its swap slot; only the process's own table is touched.</summary>
        public ProcResult Unmap(int pid, int vpage)
        {
            if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
            if (vpage < 0 || vpage >= _procs.VpagesPerProcess) return ProcResult.AddressOutOfRange;
            ref Process t = ref _procs.Get(pid);
            ref ulong pte = ref _procs.PteOf(ref t, vpage);
            if (Pte.IsPresent(pte))
            {
                ulong pfn = Pte.Pfn(pte);
                Page* p = _nodes.PageOf(pfn);
                if (p->Owner != pid) return ProcResult.NotOwner;
                if ((p->Flags & PageFlags.Lru) != 0) _nodes[p->Nid].Lru.Del(pfn);
                _pages.FreeUserPage(pfn);
                t.RssAnon--;
                t.TotalVm--;
            }
            else if (Pte.IsSwap(pte))
            {
                _swap.SwapFree(Pte.SwapEntry(pte));
                t.SwapEnts--;
                t.TotalVm--;
            }
            pte = Pte.None;
            return ProcResult.Ok;
        }

        /// <summary>
        /// unmap_page_range() as the oom_reaper calls it: frees every present anonymous page of
        /// <paramref name="t"/> that is on the LRU (one a reclaim scan has isolated is left for
        /// exit) and every swap slot, empties those entries of its software page table, and
        /// re-charges the page-cache pages it brought in to the kernel. total_vm, the page-table
        /// pages and the process slot stay (exit takes them). Returns the pages and slots freed.
        /// </summary>
        internal ulong ZapAnonymous(int pid, ref Process t)
        {
            ulong freed = ZapPtes(pid, ref t, true);
            _files.UnchargeFilePages(pid, ref t);
            _files.UnchargeFilePages(pid, ref t);
            _nodes.UpdateStat();
            return freed;
        }

        /// <summary>Ptes ahead of the teardown whose page descriptor is prefetched (half as far ahead: the descriptor is read and its LRU neighbours are prefetched).</summary>
        public const int ZapPrefetchDistance = 16;

        /// <summary>
        /// zap_pte_range with tlb_finish_mmu's batched free: empties the process's page-table
        /// entries in order and gives back their pages in batches of PageBatch.Capacity (one
        /// bulk free each, PageAllocator.FreePagesBulk) and their swap slots one by one. Each page
        /// is freed in the same order, with the same LRU removals, as Unmap page by page would:
        /// only later, a batch at a time. While it walks, it prefetches the descriptors of the
        /// pages ZapPrefetchDistance entries ahead and the LRU neighbours of those half as far
        /// ahead (what the LRU removal touches), where prefetching is real (MemoryManager.Core.Cpu).
        /// <paramref name="reaper"/>: the oom_reaper's rules (a page off the LRU, isolated by a
        /// running scan, is left for exit; total_vm stays); otherwise exit's (every page goes,
        /// total_vm counts down). A page charged to another pid is never touched. Returns the
        /// pages and swap slots given back.
        /// </summary>
        private ulong ZapPtes(int pid, ref Process t, bool reaper)
        {
            PageBatch batch = default;
            ulong freed = 0;
            int n = _procs.VpagesPerProcess;
            for (int v = 0; v < n; v++)
            {
                if (Cpu.PrefetchesForReal) PrefetchAhead(ref t, v, n);
                ref ulong pte = ref _procs.PteOf(ref t, v);
                if (pte == Pte.None) continue;
                if (Pte.IsPresent(pte))
                {
                    ulong pfn = Pte.Pfn(pte);
                    Page* p = _nodes.PageOf(pfn);
                    if (p->Owner != pid) continue;
                    bool onLru = (p->Flags & PageFlags.Lru) != 0;
                    if (reaper && !onLru) continue;   // isolated by a scan: exit frees it
                    if (onLru) _nodes[p->Nid].Lru.Del(pfn);
                    _pages.QueueUserPage(ref batch, pfn);
                    t.RssAnon--;
                    if (!reaper) t.TotalVm--;
                    freed++;
                }
                else if (Pte.IsSwap(pte))
                {
                    if (_swap == null) continue;
                    _swap.SwapFree(Pte.SwapEntry(pte));
                    t.SwapEnts--;
                    if (!reaper) t.TotalVm--;
                    freed++;
                }
                else continue;
                pte = Pte.None;
            }
            if (batch.Count > 0) _pages.FreeBatch(ref batch);
            return freed;
        }

        // The teardown's look-ahead: the page descriptor ZapPrefetchDistance ptes ahead, and the LRU
        // neighbours of the page half as far ahead (its descriptor requested earlier).
        private void PrefetchAhead(ref Process t, int v, int n)
        {
            int far = v + ZapPrefetchDistance, near = v + ZapPrefetchDistance / 2;
            if (far < n)
            {
                ulong pte = _procs.PteOf(ref t, far);
                if (Pte.IsPresent(pte)) Cpu.Prefetch(_nodes.PageOf(Pte.Pfn(pte)));
            }
            if (near < n)
            {
                ulong pte = _procs.PteOf(ref t, near);
                if (Pte.IsPresent(pte)) _nodes.PrefetchLruNeighbours(Pte.Pfn(pte));
            }
        }

        /// <summary>The bytes of a process's present anonymous page without faulting (null if not present or no memory behind pages).</summary>
        public byte* PeekAnon(int pid, int vpage)
        {
            ulong pte = _procs.ReadPte(pid, vpage);
            return Pte.IsPresent(pte) ? _pa.PageAddress(Pte.Pfn(pte)) : null;
        }

        /// <summary>Marks a process as exiting (PF_EXITING): it still holds its memory until <see cref="ExitProcess"/>.</summary>
        public ProcResult BeginExit(int pid)
        {
            if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
            ref Process t = ref _procs.Get(pid);
            t.Flags |= TaskFlags.Exiting;
            t.State = ProcessState.Exiting;
            return ProcResult.Ok;
        }

        /// <summary>
        /// do_exit → exit_mm: frees every anonymous page and swap slot of the process, its
        /// page-table pages (both in bulk frees, ZapPtes), re-charges its page-cache pages to the kernel (they stay
        /// cached), then frees the process-table slot. Init and kernel threads may not exit.
        /// </summary>
        public ProcResult ExitProcess(int pid)
        {
            if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
            ref Process t = ref _procs.Get(pid);
            if (pid == ProcessTable.InitPid || (t.Flags & TaskFlags.KernelThread) != 0) return ProcResult.NotOwner;
            ZapPtes(pid, ref t, false);
            _files.UnchargeFilePages(pid, ref t);
            // free_pgtables: the page-table pages, in one batch after another.
            PageBatch batch = default;
            for (int i = 0; i < _procs.PtPagesPerProcess; i++)
            {
                ref ulong pt = ref _procs.PtPageAt(ref t, i);
                if (pt == PageAllocator.NoPfn) continue;
                _nodes.PageOf(pt)->Private = 0;
                if (batch.IsFull) _pa.FreePagesBulk(ref batch, out _);
                batch.Add(pt, 0, pid);
                pt = PageAllocator.NoPfn;
                t.NrPtes--;
            }
            if (batch.Count > 0) _pa.FreePagesBulk(ref batch, out _);
            t.Flags &= ~TaskFlags.MemDie;
            t.State = ProcessState.Zombie;
            _nodes.UpdateStat();
            return _procs.Release(pid);
        }
    }
}
