using MemoryManager.Core;

namespace MemoryManager.Processes
{
    /// <summary>
    /// One entry of the process table: a process as the memory manager sees it (a slice of
    /// Linux's task_struct and mm_struct): identity, the flags the allocator reads,
    /// oom_score_adj and the mm counters (MM_ANONPAGES, MM_FILEPAGES, MM_SWAPENTS, page-table
    /// pages). Not called a task: in this project a task is what the scheduler runs (the
    /// kernel's KTask), and a process is what owns memory, whichever task runs it.
    /// </summary>
    public struct Process
    {
        public int Pid;
        /// <summary>task->comm.</summary>
        public string Comm;
        public ProcessState State;
        public TaskFlags Flags;
        /// <summary>signal->oom_score_adj, -1000..1000.</summary>
        public int OomScoreAdj;
        /// <summary>MM_ANONPAGES: anonymous pages mapped by the process.</summary>
        public ulong RssAnon;
        /// <summary>MM_FILEPAGES: page-cache pages charged to the process.</summary>
        public ulong RssFile;
        /// <summary>MM_SWAPENTS: software page-table entries that hold a swap entry.</summary>
        public ulong SwapEnts;
        /// <summary>Page-table pages (mm_pgtables_bytes / PAGE_SIZE).</summary>
        public ulong NrPtes;
        /// <summary>Virtual pages in use: mapped, swapped or file-backed (total_vm).</summary>
        public ulong TotalVm;
        /// <summary>The process's home node (numa_node_id() of the cpu it runs on): its allocations start with this node's zonelist.</summary>
        public int HomeNid;
        /// <summary>First index of this slot's entries in the table's shared page-table arrays.</summary>
        internal int PteBase;
        internal int PtPageBase;
    }

    /// <summary>Lifecycle of a process-table slot (task->state / exit_state, reduced).</summary>
    public enum ProcessState : byte
    {
        /// <summary>The slot holds no process.</summary>
        Unused = 0,
        /// <summary>Alive and schedulable.</summary>
        Running,
        /// <summary>Alive, waiting for something (not scheduled by the simulation).</summary>
        Sleeping,
        /// <summary>Killed or exiting: still holds memory until it is reaped (exit_mm).</summary>
        Exiting,
        /// <summary>EXIT_ZOMBIE: memory released, pid still reserved until it is reaped.</summary>
        Zombie,
    }
}
