using System.Runtime;
using System.Runtime.CompilerServices;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using Kernel.Hal;

namespace Kernel.Sched
{
    /// <summary>
    /// The cooperative scheduler (docs/scheduler.md). Tasks run until they call
    /// <see cref="Yield"/>, <see cref="Sleep"/>, <see cref="WaitQueue.Wait()"/>, <see cref="Join"/>
    /// or return; nothing is preempted (IRQ0 only counts jiffies). The run queue is round-robin
    /// FIFO; the idle task runs only when it is empty and halts the CPU until the next interrupt.
    /// The boot thread (kmain, then the shell) becomes task 0 at <see cref="Start"/>.
    /// </summary>
    public static unsafe class Scheduler
    {
        /// <summary>Slots in the task table, the shell and idle tasks included.</summary>
        public const int Capacity = 32;
        public const ulong DefaultStackSize = 32 * 1024;
        public const ulong MinStackSize = 4 * 1024;
        public const ulong MaxStackSize = 1024 * 1024;
        /// <summary>Written at the lowest word of every task stack and checked at each switch away from the task.</summary>
        public const ulong StackCanary = 0x57AC_C0DE_DEAD_BEEF;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_switch_context")]
        private static extern void SwitchContext(ulong* saveRsp, ulong newRsp);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_task_trampoline_address")]
        private static extern ulong TrampolineAddress();

        private static KTask[] s_tasks;
        private static int s_count;
        private static KTask s_current, s_idle;
        private static KTask s_runHead, s_runTail;
        private static KTask s_deadPending;       // switched away from for the last time: reaped by the next task to run
        private static int s_nextId;
        private static bool s_started;
        private static ulong s_switchedInAt;      // jiffies when s_current got the CPU
        private static ulong s_idleHalts, s_reaped, s_switches;

        public static bool IsStarted => s_started;
        /// <summary>The running task (null before <see cref="Start"/>).</summary>
        public static KTask Current => s_current;
        public static KTask IdleTask => s_idle;
        /// <summary>Tasks in the table (alive, or dead and not yet reaped).</summary>
        public static int Count => s_count;
        /// <summary>Times the idle task halted the CPU.</summary>
        public static ulong IdleHalts => s_idleHalts;
        /// <summary>Dead tasks whose stacks went back to the heap.</summary>
        public static ulong Reaped => s_reaped;
        public static ulong ContextSwitches => s_switches;
        /// <summary>Tasks ended by an exception their body did not catch (since boot).</summary>
        public static ulong UncaughtExceptions { get; private set; }

        /// <summary>The task in table slot <paramref name="slot"/> (0 .. <see cref="Capacity"/>-1), or null: iterate for a `ps` listing.</summary>
        public static KTask TaskAt(int slot) => s_tasks == null || (uint)slot >= Capacity ? null : s_tasks[slot];

        /// <summary>
        /// The part of a parked task's stack in use, for the collector: from its saved stack
        /// pointer (the callee-saved registers pushed by the switch lie there) to its top. False
        /// for the running task, a dead one, or one without a stack.
        /// </summary>
        public static bool ParkedStack(KTask t, out ulong from, out ulong to)
        {
            from = 0; to = 0;
            if (t == null || t == s_current || t.State == TaskState.Dead || t.SavedRsp == 0) return false;
            from = t.SavedRsp;
            to = t.IsBootTask ? KernelStack.Top : t.StackBase + t.StackSize;
            return t.IsBootTask || t.StackBase != 0;
        }

        /// <summary>The live (not yet reaped) task with this id, or null.</summary>
        public static KTask Find(int id)
        {
            for (int i = 0; s_tasks != null && i < Capacity; i++)
                if (s_tasks[i] != null && s_tasks[i].Id == id) return s_tasks[i];
            return null;
        }

        /// <summary>
        /// Makes the calling thread (kmain, on the boot stack) task 0 "shell", creates the idle task
        /// and routes the console's input wait through <see cref="Yield"/>. Needs the heap; Sleep
        /// needs the tick (<see cref="Timer.StartTick"/>) and interrupts enabled.
        /// </summary>
        public static void Start()
        {
            if (s_started) return;
            s_tasks = new KTask[Capacity];
            ulong bottom = KernelStack.Bottom, top = KernelStack.Top;
            var boot = new KTask(s_nextId++, "shell", null, bottom, top - bottom);
            boot.IsBootTask = true;
            boot.State = TaskState.Running;
            Insert(boot, 0);
            s_current = boot;
            s_started = true;
            s_switchedInAt = Timer.Jiffies;

            TrySpawn("idle", new IdleBody(), MinStackSize * 2, out s_idle);
            Dequeue();                          // the idle task is never in the run queue
            s_idle.IsIdle = true;
            s_idle.State = TaskState.Runnable;

            Console.SetInputWaitHook(&InputWait);
        }

        /// <summary>Spawns a task, or returns null (see <see cref="TrySpawn"/> for why it can fail).</summary>
        public static KTask Spawn(string name, ITaskBody body, ulong stackSize = DefaultStackSize)
        {
            TrySpawn(name, body, stackSize, out KTask task);
            return task;
        }

        /// <summary>
        /// Creates a runnable task at the tail of the run queue whose stack (<paramref name="stackSize"/>
        /// bytes from the kernel heap) starts in <see cref="ITaskBody.Run"/>. The caller keeps running.
        /// </summary>
        public static SpawnError TrySpawn(string name, ITaskBody body, ulong stackSize, out KTask task)
        {
            task = null;
            if (!s_started) return SpawnError.NotStarted;
            if (body == null) return SpawnError.NullBody;
            if (stackSize < MinStackSize || stackSize > MaxStackSize) return SpawnError.InvalidStackSize;
            int slot = FreeSlot();
            if (slot < 0) return SpawnError.TableFull;
            stackSize = (stackSize + 15) & ~15UL;

            ulong stack = (ulong)Heap.Alloc((nuint)stackSize);   // zero-filled; out of memory is a panic
            var t = new KTask(s_nextId++, name ?? "?", body, stack, stackSize);
            *(ulong*)((stack + 7) & ~7UL) = StackCanary;

            // The first switch into the task pops six callee-saved registers (all 0) and returns
            // into the trampoline, which calls TaskEntry (boot/switch.asm).
            ulong* sp = (ulong*)((stack + stackSize) & ~15UL);
            *--sp = 0;
            *--sp = TrampolineAddress();        // 16-byte aligned slot
            for (int i = 0; i < 6; i++) *--sp = 0;
            t.SavedRsp = (ulong)sp;

            Insert(t, slot);
            t.State = TaskState.Runnable;
            Enqueue(t);
            task = t;
            return SpawnError.None;
        }

        /// <summary>
        /// Gives the CPU to the next runnable task (round-robin); returns when this task's turn
        /// comes again. False once the task has been killed: it should return. Before
        /// <see cref="Start"/>, does nothing and returns true.
        /// </summary>
        public static bool Yield()
        {
            if (!s_started) return true;
            Schedule();
            return !s_current.ShouldExit;
        }

        /// <summary>
        /// Sleeps until <see cref="Timer.Jiffies"/> has advanced by at least <paramref name="ticks"/>
        /// (0 is a yield). False if killed (then it returns early). Before <see cref="Start"/> it
        /// halts until enough ticks passed (or returns at once when no tick runs).
        /// </summary>
        public static bool Sleep(ulong ticks)
        {
            ulong wake = Timer.Jiffies + ticks;
            if (!s_started)
            {
                while (Timer.TickHz != 0 && Interrupts.Enabled && Timer.Jiffies < wake) Interrupts.WaitForInterrupt();
                return true;
            }
            KTask t = s_current;
            if (t.ShouldExit) return false;
            if (ticks == 0) return Yield();
            if (t.IsIdle) Panic.Fail("scheduler: the idle task cannot sleep");
            t.WakeTick = wake;
            t.State = TaskState.Sleeping;
            Schedule();
            return !t.ShouldExit;
        }

        /// <summary>Sleeps at least <paramref name="ms"/> milliseconds: one tick more than they cover, since the current tick is partly gone.</summary>
        public static bool SleepMs(ulong ms) => Sleep(ms == 0 ? 0 : Timer.MillisecondsToTicks(ms) + 1);

        /// <summary>
        /// Marks <paramref name="task"/> to exit. Cooperative: it notices at its next
        /// <see cref="Yield"/> (false), or at once if it sleeps or waits (they return false / <see cref="WaitResult.Killed"/>).
        /// </summary>
        public static KillResult Kill(KTask task)
        {
            if (task == null || task.State == TaskState.Dead) return KillResult.NoSuchTask;
            if (task.IsBootTask || task.IsIdle) return KillResult.Protected;
            task.ShouldExit = true;
            if (task.State == TaskState.Sleeping) Wake(task, WaitResult.Killed);
            else if (task.State == TaskState.Blocked) { task.WaitingOn.Remove(task); Wake(task, WaitResult.Killed); }
            return KillResult.Ok;
        }

        /// <summary>
        /// wake_up_process for a sleeper: a task in a timed <see cref="Sleep"/> runs again now
        /// (its Sleep returns true, as if the time had passed). A task blocked on a wait queue, or
        /// not sleeping, is left as it is. True if it was woken.
        /// </summary>
        public static bool WakeSleeper(KTask task)
        {
            if (task == null || task.State != TaskState.Sleeping) return false;
            Wake(task, WaitResult.Woken);
            return true;
        }

        /// <summary>
        /// Waits until <paramref name="task"/> is dead (and, since the next task to run reaps it,
        /// its stack is back in the heap). False if the caller was killed meanwhile or joins itself.
        /// </summary>
        public static bool Join(KTask task)
        {
            if (task == null) return true;
            if (task == s_current) return false;
            while (task.State != TaskState.Dead)
                if (task.ExitWaiters.Wait() == WaitResult.Killed) return false;
            return true;
        }

        /// <summary>Ends the current task now (what returning from the body does). Never returns.</summary>
        public static void Exit()
        {
            KTask t = s_current;
            if (!s_started || t.IsBootTask || t.IsIdle) Panic.Fail("scheduler: the shell and idle tasks cannot exit");
            t.State = TaskState.Dead;
            t.ExitWaiters.WakeUpAll();
            s_deadPending = t;
            Schedule();                         // a dead task is not queued: this never comes back
            Panic.Fail("scheduler: a dead task was switched back in");
        }

        // ------------------------------------------------------------------ internals

        /// <summary>Called by WaitQueue.Wait: blocks the current task on <paramref name="queue"/>.</summary>
        internal static WaitResult BlockOn(WaitQueue queue, ulong timeoutTicks)
        {
            if (!s_started) Panic.Fail("scheduler: WaitQueue.Wait before Scheduler.Start (nothing could wake the caller)");
            KTask t = s_current;
            if (t.IsIdle) Panic.Fail("scheduler: the idle task cannot wait");
            if (t.ShouldExit) return WaitResult.Killed;
            t.WakeTick = timeoutTicks == KTask.NoWakeTick ? KTask.NoWakeTick : Timer.Jiffies + timeoutTicks;
            t.WakeReason = WaitResult.Woken;
            t.State = TaskState.Blocked;
            queue.Append(t);
            Schedule();
            return t.WakeReason;
        }

        /// <summary>A sleeping or blocked task (already off its wait queue) becomes runnable at the run queue's tail.</summary>
        internal static void Wake(KTask t, WaitResult reason)
        {
            if (t.State != TaskState.Sleeping && t.State != TaskState.Blocked) return;
            t.WakeReason = reason;
            t.WakeTick = KTask.NoWakeTick;
            t.State = TaskState.Runnable;
            Enqueue(t);
        }

        /// <summary>Picks the next task and switches to it (or keeps the current one if it is the only runnable task).</summary>
        private static void Schedule()
        {
            KTask prev = s_current;
            WakeExpired();
            if (prev.State == TaskState.Running)
            {
                prev.State = TaskState.Runnable;
                if (!prev.IsIdle) Enqueue(prev);
            }
            KTask next = Dequeue() ?? s_idle;
            if (next == prev) { prev.State = TaskState.Running; return; }
            SwitchTo(prev, next);
        }

        private static void SwitchTo(KTask prev, KTask next)
        {
            CheckStack(prev);
            ulong now = Timer.Jiffies;
            prev.TicksRun += now - s_switchedInAt;
            s_switchedInAt = now;
            next.State = TaskState.Running;
            next.Switches++;
            s_switches++;
            s_current = next;
            if (next.IsBootTask) KernelStack.SetCurrent(0, 0);
            else KernelStack.SetCurrent(next.StackBase, next.StackBase + next.StackSize);
            fixed (ulong* save = &prev.SavedRsp) SwitchContext(save, next.SavedRsp);
            // Back on prev's stack: some other task switched to us.
            FinishSwitch();
        }

        /// <summary>Runs first in every task that gets the CPU: frees the stack of a task that just died.</summary>
        private static void FinishSwitch()
        {
            KTask dead = s_deadPending;
            if (dead == null || dead == s_current) return;
            s_deadPending = null;
            CheckStack(dead);
            if (Heap.Free((void*)dead.StackBase) != HeapFreeResult.Ok) Panic.Fail("scheduler: the heap refused to free a dead task's stack");
            dead.StackBase = 0;
            dead.Body = null;
            dead.RunNext = null;    // a reaped task keeps no other task alive for the collector
            dead.WaitNext = null;
            s_tasks[dead.Slot] = null;
            dead.Slot = -1;
            s_count--;
            s_reaped++;
        }

        /// <summary>Moves sleepers and timed waiters whose tick has come to the run queue, in table order.</summary>
        private static void WakeExpired()
        {
            ulong now = Timer.Jiffies;
            for (int i = 0; i < Capacity; i++)
            {
                KTask t = s_tasks[i];
                if (t == null || t.WakeTick > now) continue;
                if (t.State == TaskState.Sleeping) Wake(t, WaitResult.TimedOut);
                else if (t.State == TaskState.Blocked) { t.WaitingOn.Remove(t); Wake(t, WaitResult.TimedOut); }
            }
        }

        private static void CheckStack(KTask t)
        {
            if (t.IsBootTask || t.StackBase == 0) return;   // the boot stack has a guard page instead
            if (*(ulong*)((t.StackBase + 7) & ~7UL) == StackCanary) return;
            PanicText.Begin();
            PanicText.Append("scheduler: task ");
            PanicText.AppendDecimal((ulong)t.Id);
            PanicText.Append(" '");
            PanicText.Append(t.Name);
            PanicText.Append("' overflowed its stack of ");
            PanicText.AppendDecimal(t.StackSize);
            PanicText.Append(" bytes");
            Panic.Fail(PanicText.Finish());
        }

        private static void Enqueue(KTask t)
        {
            t.RunNext = null;
            if (s_runTail == null) s_runHead = t; else s_runTail.RunNext = t;
            s_runTail = t;
        }

        private static KTask Dequeue()
        {
            KTask t = s_runHead;
            if (t == null) return null;
            s_runHead = t.RunNext;
            if (s_runHead == null) s_runTail = null;
            t.RunNext = null;
            return t;
        }

        private static int FreeSlot()
        {
            for (int i = 0; i < Capacity; i++) if (s_tasks[i] == null) return i;
            return -1;
        }

        private static void Insert(KTask t, int slot)
        {
            s_tasks[slot] = t;
            t.Slot = slot;
            s_count++;
        }

        /// <summary>The console's wait for input: let the other tasks run.</summary>
        private static void InputWait() => Schedule();

        /// <summary>First managed frame of every task (called by the trampoline in boot/switch.asm).</summary>
        [RuntimeExport("kernel_task_entry")]
        private static void TaskEntry()
        {
            FinishSwitch();
            KTask t = s_current;
            // An exception no frame of the task catches ends the task (with a report), not the kernel.
            try { t.Body.Run(t); }
            catch (System.Exception e)
            {
                UncaughtExceptions++;
                ExceptionReport.Print(string.Concat("task ", t.Id.ToString(), " '", t.Name, "' ended by an unhandled exception"), e);
            }
            Exit();
        }

        /// <summary>Runs when nothing else can: halts until the next interrupt, then looks again.</summary>
        private sealed class IdleBody : ITaskBody
        {
            public void Run(KTask self)
            {
                while (true)
                {
                    WakeExpired();
                    if (s_runHead != null) { Schedule(); continue; }
                    s_idleHalts++;
                    Interrupts.WaitForInterrupt();
                }
            }
        }
    }
}
