namespace Kernel.Sched
{
    /// <summary>
    /// What a task runs. The kernel has no delegates, so a task's code is an object: <see cref="Run"/>
    /// runs on the task's own stack until it returns, and then the task is dead and reaped.
    /// A long-running body should check <see cref="KTask.ShouldExit"/> (or the false that
    /// <see cref="Scheduler.Yield"/>, <see cref="Scheduler.Sleep"/> and waits return after a
    /// <see cref="Scheduler.Kill"/>) and return.
    /// </summary>
    public interface ITaskBody
    {
        void Run(KTask self);
    }

    /// <summary>A task's state (docs/scheduler.md has the diagram).</summary>
    public enum TaskState : byte
    {
        /// <summary>In the run queue, waiting for the CPU.</summary>
        Runnable,
        /// <summary>On the CPU: <see cref="Scheduler.Current"/>.</summary>
        Running,
        /// <summary>Off the run queue until <see cref="KTask.WakeTick"/>.</summary>
        Sleeping,
        /// <summary>On a <see cref="WaitQueue"/> (with a timeout if <see cref="KTask.WakeTick"/> is not <see cref="KTask.NoWakeTick"/>).</summary>
        Blocked,
        /// <summary>Returned (or exited); its stack is freed and its table slot released at the next switch.</summary>
        Dead,
    }

    /// <summary>Why <see cref="Scheduler.TrySpawn"/> refused.</summary>
    public enum SpawnError : byte
    {
        None,
        /// <summary>All <see cref="Scheduler.Capacity"/> slots of the task table are taken.</summary>
        TableFull,
        /// <summary>Outside <see cref="Scheduler.MinStackSize"/> .. <see cref="Scheduler.MaxStackSize"/>.</summary>
        InvalidStackSize,
        NullBody,
        /// <summary><see cref="Scheduler.Start"/> has not run.</summary>
        NotStarted,
    }

    public enum KillResult : byte
    {
        /// <summary>The task is marked to exit and, if it slept or waited, woken.</summary>
        Ok,
        /// <summary>Null or already dead.</summary>
        NoSuchTask,
        /// <summary>The shell (boot) task and the idle task cannot be killed.</summary>
        Protected,
    }

    public enum WaitResult : byte
    {
        /// <summary>A WakeUp/WakeUpAll (or the task's exit, for a join) woke it.</summary>
        Woken,
        /// <summary>The timeout passed first.</summary>
        TimedOut,
        /// <summary>The task was killed (<see cref="Scheduler.Kill"/>): it should return.</summary>
        Killed,
    }

    /// <summary>
    /// A kernel task: its own stack, its saved stack pointer, and its place in the run queue or
    /// a wait queue. Read-only outside the scheduler; enough for a `ps` listing.
    /// Task objects are not freed when the task is reaped (no GC: a holder may still look at it),
    /// only its stack and its table slot are.
    /// </summary>
    public sealed class KTask
    {
        /// <summary><see cref="WakeTick"/> of a task without a deadline.</summary>
        public const ulong NoWakeTick = ulong.MaxValue;

        internal KTask(int id, string name, ITaskBody body, ulong stackBase, ulong stackSize)
        {
            Id = id;
            Name = name;
            Body = body;
            StackBase = stackBase;
            StackSize = stackSize;
            WakeTick = NoWakeTick;
            ExitWaiters = new WaitQueue();
        }

        /// <summary>pid-like and never reused: 0 the shell (boot) task, 1 idle, then 2, 3, ...</summary>
        public int Id { get; }
        public string Name { get; }
        public TaskState State { get; internal set; }
        /// <summary>Jiffies that passed while this task was on the CPU.</summary>
        public ulong TicksRun { get; internal set; }
        /// <summary>Times the scheduler switched to this task.</summary>
        public ulong Switches { get; internal set; }
        /// <summary>Lowest address of the stack (0 once the stack has been freed).</summary>
        public ulong StackBase { get; internal set; }
        /// <summary>Bytes of stack.</summary>
        public ulong StackSize { get; }
        /// <summary>Set by <see cref="Scheduler.Kill"/>: the body should return.</summary>
        public bool ShouldExit { get; internal set; }
        /// <summary>The jiffy at which a sleeping or timed-waiting task becomes runnable.</summary>
        public ulong WakeTick { get; internal set; }
        public bool IsIdle { get; internal set; }
        /// <summary>The boot thread: kmain and the shell, task 0, on the boot stack.</summary>
        public bool IsBootTask { get; internal set; }
        /// <summary>Slot in the task table (<see cref="Scheduler.TaskAt"/>), -1 once reaped.</summary>
        public int Slot { get; internal set; }

        /// <summary>"running", "runnable", "sleeping", "blocked", "dead".</summary>
        public string StateName => State switch
        {
            TaskState.Runnable => "runnable",
            TaskState.Running => "running",
            TaskState.Sleeping => "sleeping",
            TaskState.Blocked => "blocked",
            _ => "dead",
        };

        internal ITaskBody Body;
        internal ulong SavedRsp;
        internal KTask RunNext;                 // run queue link
        internal KTask WaitNext;                // wait queue link
        internal WaitQueue WaitingOn;
        internal WaitResult WakeReason;
        internal readonly WaitQueue ExitWaiters;  // joiners
    }
}
