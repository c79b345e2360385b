using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Files;
using MemoryManager.Node;
using MemoryManager.Oom;
using MemoryManager.Processes;
using MemoryManager.Reclaim;
using MemoryManager.Swap;

namespace MemoryManager
{
    /// <summary>
    /// The memory manager above the page allocator, wired together: <see cref="Create"/> builds
    /// each part, hands each the few others it works with, installs kswapd, direct reclaim and the
    /// OOM killer as the allocator's slow-path partners, and creates init and the kswapd threads
    /// in the process table. Vm holds no state of its own beyond the parts; each part keeps its
    /// own (Node/, Processes/, Files/, Reclaim/, Oom/, Swap/: docs/memory-manager.md, "Rooms").
    /// Everything is sized here; after that nothing allocates managed memory.
    /// </summary>
    public sealed unsafe class Vm
    {
        /// <summary>The zoned buddy page allocator underneath.</summary>
        public readonly PageAllocator Pa;
        /// <summary>The swap device (null: no swap).</summary>
        public readonly ISwapDevice Swap;
        /// <summary>The options the parts were built with.</summary>
        public readonly VmOptions Options;
        /// <summary>The nodes (pglist_data): zones, LRU lists, kswapd state.</summary>
        public readonly Nodes Nodes;
        /// <summary>The process table with its software page tables.</summary>
        public readonly ProcessTable Procs;
        /// <summary>Order-0 pages charged to processes: allocated in their name, freed on their behalf.</summary>
        public readonly UserPages UserPages;
        /// <summary>In-memory files and their pages in the page cache.</summary>
        public readonly PageCache PageCache;
        /// <summary>Processes' memory: faults, munmap, exit.</summary>
        public readonly ProcessMemory Memory;
        /// <summary>The shrinker registry: caches asked to give memory back by shrink_slab (direct reclaim and kswapd).</summary>
        public readonly Shrinkers Shrinkers;
        /// <summary>Page reclaim: the LRU scans, shrink_node, shrink_slab, direct reclaim.</summary>
        public readonly Vmscan Vmscan;
        /// <summary>kswapd, one per node: woken by the allocator, stepped by a scheduler.</summary>
        public readonly Kswapd Kswapd;
        /// <summary>The oom_reaper: takes a victim's memory at once.</summary>
        public readonly OomReaper OomReaper;
        /// <summary>The OOM killer: chooses and kills a victim when reclaim made no progress.</summary>
        public readonly OomKiller Oom;
        /// <summary>The "no page is ever lost" check over all of the above.</summary>
        public readonly Census Census;

        /// <summary>Builds the parts over <paramref name="pa"/> (set-up only).</summary>
        private Vm(PageAllocator pa, ISwapDevice swap, VmOptions o, ProcessTable procs)
        {
            Pa = pa;
            Swap = swap;
            Options = o;
            Procs = procs;
            Nodes = new Nodes(pa, swap);
            UserPages = new UserPages(pa, procs, Nodes);
            PageCache = new PageCache(pa, procs, Nodes, UserPages, o.MaxFiles, o.MaxFilePages);
            Memory = new ProcessMemory(pa, procs, Nodes, swap, UserPages, PageCache);
            Shrinkers = new Shrinkers(pa);
            Vmscan = new Vmscan(pa, Nodes, swap, procs, UserPages, PageCache, Shrinkers);
            Kswapd = new Kswapd(pa, Nodes, Vmscan, o.KswapdBatch, o.PreLinux48Balance);
            OomReaper = new OomReaper(pa, procs, Memory);
            Oom = new OomKiller(pa, procs, swap, Memory, OomReaper, o.PanicOnOom, o.OomKillAllocatingTask, o.OomReaper);
            Census = new Census(pa, Nodes, procs, PageCache, swap, Vmscan);
        }

        /// <summary>
        /// Sets up reclaim over <paramref name="pa"/> (swap may be null), installs kswapd, direct
        /// reclaim and the OOM killer as the allocator's kswapd waker, direct reclaimer and OOM
        /// killer, and creates init (pid 1) and one kswapd kernel thread per node in the process table.
        /// </summary>
        public static MmResult Create(PageAllocator pa, ISwapDevice swap, VmOptions o, out Vm vm)
        {
            vm = null;
            if (pa == null || o.MaxFiles < 0 || o.MaxFilePages < 0 || o.KswapdBatch < 1) return MmResult.BadArgument;
            if (o.MaxProcesses < 1 + pa.NodeCount + 1) return MmResult.BadArgument;
            MmResult r = ProcessTable.Create(o.MaxProcesses, o.VpagesPerProcess, out ProcessTable procs);
            if (r != MmResult.Ok) return r;
            vm = new Vm(pa, swap, o, procs);
            procs.Spawn("init", TaskFlags.None, 0, out int initPid);
            for (int n = 0; n < pa.NodeCount; n++)
            {
                procs.Spawn(Kswapd.ThreadName(n), TaskFlags.KernelThread, 0, out int kpid);
                vm.Nodes[n].Kswapd.Pid = kpid;
            }
            pa.Kswapd = vm.Kswapd;
            pa.DirectReclaim = vm.Vmscan;
            pa.NodeReclaim = vm.Vmscan;
            pa.OomKiller = vm.Oom;
            vm.Nodes.UpdateStat();
            return MmResult.Ok;
        }

        /// <summary>Swap pages the device offers in all (total_swap_pages).</summary>
        public ulong TotalSwapPages => Swap == null ? 0 : Swap.Slots - 1;
    }
}
