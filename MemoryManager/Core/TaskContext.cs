namespace MemoryManager.Core
{
    /// <summary>Per-task flags the allocator reads and writes (PF_* and TIF_* in Linux).</summary>
    [System.Flags]
    public enum TaskFlags : uint
    {
        None = 0,
        /// <summary>PF_MEMALLOC: the task is reclaiming memory (or is in a memalloc_noreclaim_save scope): may use the reserves, never enters direct reclaim.</summary>
        MemAlloc = 0x0800,
        /// <summary>PF_MEMALLOC_NOFS (memalloc_nofs_save): the slow path drops __GFP_FS (no writeback, no OOM killer, no __GFP_FS shrinker).</summary>
        MemallocNofs = 0x00040000,
        /// <summary>PF_MEMALLOC_NOIO (memalloc_noio_save): the slow path drops __GFP_IO and __GFP_FS (no swap-out either).</summary>
        MemallocNoio = 0x00080000,
        /// <summary>
        /// Ours (memalloc_nosleep_save): the task may reclaim but may not sleep. The slow path
        /// never calls the congestion wait (it climbs on at once) and adds __GFP_HIGH, as an
        /// allocation that cannot wait for others to free memory does in Linux (GFP_ATOMIC).
        /// </summary>
        MemallocNosleep = 0x01000000,
        /// <summary>Ours (memalloc_noshrink_save): the task may not run the shrinkers (e.g. the heap allocator, where the collector cannot run): reclaim skips shrink_slab.</summary>
        MemallocNoshrink = 0x02000000,
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

    /// <summary>
    /// Allocation scopes (include/linux/sched/mm.h): a task that may not reclaim, do I/O, call
    /// the filesystem, sleep or run the shrinkers says so on its context for a stretch of code;
    /// every allocation inside obeys it. Save returns the scope's previous state, Restore puts it
    /// back, so scopes nest.
    /// </summary>
    public static class MemallocScope
    {
        /// <summary>The scope flags.</summary>
        public const TaskFlags All = TaskFlags.MemAlloc | TaskFlags.MemallocNofs | TaskFlags.MemallocNoio
                                   | TaskFlags.MemallocNosleep | TaskFlags.MemallocNoshrink;

        /// <summary>Enters the scopes <paramref name="scope"/>; returns what they were before.</summary>
        public static TaskFlags Save(ref TaskContext t, TaskFlags scope)
        {
            TaskFlags old = t.Flags & scope;
            t.Flags |= scope;
            return old;
        }

        /// <summary>Leaves the scopes <paramref name="scope"/>, back to <paramref name="saved"/> (from Save).</summary>
        public static void Restore(ref TaskContext t, TaskFlags scope, TaskFlags saved) => t.Flags = (t.Flags & ~scope) | (saved & scope);

        /// <summary>memalloc_noreclaim_save(): PF_MEMALLOC.</summary>
        public static TaskFlags NoreclaimSave(ref TaskContext t) => Save(ref t, TaskFlags.MemAlloc);
        /// <summary>memalloc_nofs_save().</summary>
        public static TaskFlags NofsSave(ref TaskContext t) => Save(ref t, TaskFlags.MemallocNofs);
        /// <summary>memalloc_noio_save().</summary>
        public static TaskFlags NoioSave(ref TaskContext t) => Save(ref t, TaskFlags.MemallocNoio);
        /// <summary>Ours: may reclaim, may not sleep.</summary>
        public static TaskFlags NosleepSave(ref TaskContext t) => Save(ref t, TaskFlags.MemallocNosleep);
        /// <summary>Ours: may not run the shrinkers.</summary>
        public static TaskFlags NoshrinkSave(ref TaskContext t) => Save(ref t, TaskFlags.MemallocNoshrink);

        /// <summary>
        /// current_gfp_context(): the gfp mask an allocation really has inside the task's scopes:
        /// NOIO drops __GFP_IO and __GFP_FS, NOFS drops __GFP_FS, NOSLEEP adds __GFP_HIGH.
        /// </summary>
        public static Gfp CurrentGfpContext(ref TaskContext t, Gfp gfp)
        {
            if ((t.Flags & TaskFlags.MemallocNoio) != 0) gfp &= ~(Gfp.Io | Gfp.Fs);
            else if ((t.Flags & TaskFlags.MemallocNofs) != 0) gfp &= ~Gfp.Fs;
            if ((t.Flags & TaskFlags.MemallocNosleep) != 0 && (gfp & Gfp.Wait) != 0) gfp |= Gfp.High;
            return gfp;
        }
    }
}
