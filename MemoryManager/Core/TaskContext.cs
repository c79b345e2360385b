namespace MemoryManager.Core
{
    /// <summary>Per-task flags the allocator reads and writes (PF_* and TIF_* in Linux).</summary>
    [System.Flags]
    public enum TaskFlags : uint
    {
        None = 0,
        /// <summary>PF_MEMALLOC: the task is reclaiming memory; may use the reserves.</summary>
        MemAlloc = 0x0800,
        /// <summary>PF_KTHREAD: a kernel thread (never an OOM victim).</summary>
        KernelThread = 0x00200000,
        /// <summary>PF_EXITING: the task is exiting.</summary>
        Exiting = 0x0004,
        /// <summary>TIF_MEMDIE: the OOM victim; may use the reserves to exit.</summary>
        MemDie = 0x10000000,
        /// <summary>rt_task(): real-time scheduling policy.</summary>
        RealTime = 0x20000000,
        /// <summary>MMF_OOM_SKIP (an mm flag in Linux): the oom_reaper has reaped this victim's memory; the OOM killer skips it from now on.</summary>
        OomSkip = 0x40000000,
    }

    /// <summary>
    /// "current" as the allocator sees it: who is allocating and in which context.
    /// Supplied by the caller (the kernel's scheduler, the host simulator or a test);
    /// passed by reference because direct reclaim sets and clears PF_MEMALLOC on it.
    /// </summary>
    public struct TaskContext
    {
        public int Pid;
        /// <summary>task->comm, for the failure report.</summary>
        public string Comm;
        public TaskFlags Flags;
        /// <summary>in_interrupt(): allocating from an interrupt handler.</summary>
        public bool InInterrupt;
        /// <summary>numa_node_id() of the cpu the task runs on: its zonelist starts with this node.</summary>
        public int Nid;

        public TaskContext(int pid, string comm, TaskFlags flags)
        {
            Pid = pid; Comm = comm; Flags = flags; InInterrupt = false; Nid = 0;
        }

        public static TaskContext Kernel => new TaskContext(0, "swapper", TaskFlags.KernelThread);
    }
}
