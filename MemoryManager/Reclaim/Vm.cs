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
    /// <summary>Policy knobs of reclaim and the OOM killer (the vm.* sysctls and a few teaching switches).</summary>
    public struct VmOptions
    {
        /// <summary>Process-table slots.</summary>
        public int MaxProcesses;
        /// <summary>Virtual pages per process (size of each software page table).</summary>
        public int VpagesPerProcess;
        /// <summary>In-memory files the page cache can hold, and their total pages.</summary>
        public int MaxFiles;
        public int MaxFilePages;
        /// <summary>kswapd balances by the pre-4.8 rule (every zone at high for order 0; 25 % of the node for higher orders) instead of the 4.8+ rule (any eligible zone at high).</summary>
        public bool PreLinux48Balance;
        /// <summary>vm.panic_on_oom: panic instead of killing.</summary>
        public bool PanicOnOom;
        /// <summary>vm.oom_kill_allocating_task: kill the task that is allocating, if it is killable.</summary>
        public bool OomKillAllocatingTask;
        /// <summary>Pages kswapd tries to reclaim per Step() (SWAP_CLUSTER_MAX by default): how fast background reclaim is per tick.</summary>
        public int KswapdBatch;
        /// <summary>
        /// The oom_reaper (Linux 4.6+): right after a kill the victim's anonymous pages and swap
        /// slots are freed and it is marked MMF_OOM_SKIP, so the next OOM kill chooses another
        /// process instead of waiting for this one; the killer does not sleep after the kill.
        /// Off: the pre-4.6 rules (wait a tick for the victim, never choose another while it lives).
        /// </summary>
        public bool OomReaper;

        /// <summary>Defaults: 64 processes of up to 16 MiB each, 16 files of up to 4096 pages in all, 4.8+ balance, kill the worst task, oom_reaper on.</summary>
        public static VmOptions Default => new VmOptions
        {
            MaxProcesses = 64,
            VpagesPerProcess = 4096,
            MaxFiles = 16,
            MaxFilePages = 4096,
            KswapdBatch = Vmscan.SwapClusterMax,
            OomReaper = true,
        };
    }

    /// <summary>
    /// The reclaim side of the memory manager, wired to a <see cref="PageAllocator"/>: the
    /// process table with its software page tables, per-node LRU lists, the page cache,
    /// swap, direct reclaim, one cooperative kswapd per node and the OOM killer. Everything
    /// is sized in <see cref="Create"/>; after that nothing here allocates managed memory.
    /// The parts live in Process/, Reclaim/, Swap/ and Oom/ as partial files of this class.
    /// </summary>
    public sealed unsafe partial class Vm
    {

        public readonly PageAllocator Pa;
        public readonly ProcessTable Procs;
        public readonly ISwapDevice Swap;
        public VmOptions Options;
        /// <summary>The nodes (pglist_data): zones, LRU lists, kswapd state.</summary>
        public readonly Nodes Nodes;
        /// <summary>Order-0 pages charged to processes: allocated in their name, freed on their behalf.</summary>
        public readonly UserPages UserPages;
        /// <summary>In-memory files and their pages in the page cache.</summary>
        public readonly PageCache PageCache;
        /// <summary>Processes' memory: faults, munmap, exit.</summary>
        public readonly ProcessMemory Memory;
        /// <summary>Page reclaim: the LRU scans, shrink_node, direct reclaim.</summary>
        public readonly Vmscan Vmscan;
        /// <summary>kswapd, one per node: woken by the allocator, stepped by a scheduler.</summary>
        public readonly Kswapd Kswapd;
        /// <summary>The oom_reaper: takes a victim's memory at once.</summary>
        public readonly OomReaper OomReaper;
        /// <summary>The OOM killer: chooses and kills a victim when reclaim made no progress.</summary>
        public readonly OomKiller Oom;

        /// <summary>Sizes the per-node lists, kswapd states and page-cache tables (set-up only).</summary>
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
            Vmscan = new Vmscan(pa, Nodes, swap, procs, UserPages, PageCache);
            Kswapd = new Kswapd(pa, Nodes, Vmscan, o.KswapdBatch, o.PreLinux48Balance);
            OomReaper = new OomReaper(pa, procs, Nodes, swap, UserPages, PageCache);
            Oom = new OomKiller(pa, procs, swap, Memory, OomReaper, o.PanicOnOom, o.OomKillAllocatingTask, o.OomReaper);
        }

        /// <summary>
        /// Sets up reclaim over <paramref name="pa"/> (swap may be null), installs itself as
        /// the allocator's kswapd waker, direct reclaimer and OOM killer, and creates init
        /// (pid 1) and one kswapd kernel thread per node in the process table.
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
            pa.OomKiller = vm.Oom;
            vm.Nodes.UpdateStat();
            return MmResult.Ok;
        }

        /// <summary>The descriptor of a pfn (callers pass pfns the allocator handed out).</summary>
        internal Page* PageOf(ulong pfn) => Nodes.PageOf(pfn);

        /// <summary>Swap pages the device offers in all (total_swap_pages).</summary>
        public ulong TotalSwapPages => Swap == null ? 0 : Swap.Slots - 1;
    }
}
