using MemoryManager.Reclaim;

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
}
