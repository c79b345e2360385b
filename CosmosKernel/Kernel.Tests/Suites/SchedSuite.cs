using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Sched;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// Interrupts, the tick and the cooperative scheduler. The tests run on the shell task
    /// (task 0); every task a test spawns is joined before it ends, so tests do not leak tasks
    /// into each other. At 100 Hz the whole suite sleeps about 25 ticks.
    /// </summary>
    public sealed unsafe class SchedSuite : TestSuite
    {
        public SchedSuite() : base("sched", AnyMemory, null)
        {
            Add("Interrupts_are_on_and_only_the_timer_line_is_unmasked", &Interrupts_are_on_and_only_the_timer_line_is_unmasked);
            Add("Jiffies_advance_with_IRQ0_at_vector_0x20", &Jiffies_advance_with_IRQ0_at_vector_0x20);
            Add("Two_tasks_and_the_shell_interleave_in_round_robin_order", &Two_tasks_and_the_shell_interleave_in_round_robin_order);
            Add("Sleep_lasts_at_least_the_ticks_asked_for_and_the_shorter_sleep_wakes_first", &Sleep_lasts_at_least_the_ticks_asked_for_and_the_shorter_sleep_wakes_first);
            Add("The_idle_task_halts_once_per_tick_while_every_task_sleeps", &The_idle_task_halts_once_per_tick_while_every_task_sleeps);
            Add("A_wait_queue_wakes_exactly_its_waiters_in_FIFO_order", &A_wait_queue_wakes_exactly_its_waiters_in_FIFO_order);
            Add("A_timed_wait_times_out_and_a_wake_up_beats_the_timeout", &A_timed_wait_times_out_and_a_wake_up_beats_the_timeout);
            Add("A_returned_task_is_reaped_and_its_stack_goes_back_to_the_heap", &A_returned_task_is_reaped_and_its_stack_goes_back_to_the_heap);
            Add("Spawning_beyond_capacity_returns_TableFull", &Spawning_beyond_capacity_returns_TableFull);
            Add("A_killed_task_notices_at_its_next_yield_or_sleep", &A_killed_task_notices_at_its_next_yield_or_sleep);
            Add("The_task_table_lists_id_name_state_ticks_and_stack", &The_task_table_lists_id_name_state_ticks_and_stack);
        }

        // ------------------------------------------------------------------ task bodies

        /// <summary>Letters in the order tasks wrote them.</summary>
        private sealed class Trace
        {
            private readonly char[] _chars = new char[64];
            private int _count;
            public void Add(char c) { if (_count < _chars.Length) _chars[_count++] = c; }
            public string Text { get { fixed (char* p = _chars) return string.FromChars(p, _count); } }
        }

        private sealed class Stepper : ITaskBody
        {
            private readonly Trace _trace; private readonly char _letter; private readonly int _steps;
            public Stepper(Trace trace, char letter, int steps) { _trace = trace; _letter = letter; _steps = steps; }
            public void Run(KTask self)
            {
                for (int i = 0; i < _steps; i++) { _trace.Add(_letter); Scheduler.Yield(); }
            }
        }

        private sealed class Sleeper : ITaskBody
        {
            private readonly Trace _trace; private readonly char _letter; private readonly ulong _ticks;
            public ulong Slept; public bool Result;
            public Sleeper(Trace trace, char letter, ulong ticks) { _trace = trace; _letter = letter; _ticks = ticks; }
            public void Run(KTask self)
            {
                ulong start = Timer.Jiffies;
                Result = Scheduler.Sleep(_ticks);
                Slept = Timer.Jiffies - start;
                _trace?.Add(_letter);
            }
        }

        private sealed class Waiter : ITaskBody
        {
            private readonly WaitQueue _queue; private readonly Trace _trace; private readonly char _letter; private readonly ulong _timeout;
            public WaitResult Result = (WaitResult)0xFF; public bool Done;
            public Waiter(WaitQueue queue, Trace trace, char letter, ulong timeout = 0) { _queue = queue; _trace = trace; _letter = letter; _timeout = timeout; }
            public void Run(KTask self)
            {
                Result = _timeout == 0 ? _queue.Wait() : _queue.Wait(_timeout);
                _trace?.Add(_letter);
                Done = true;
            }
        }

        private sealed class Looper : ITaskBody
        {
            public int Yields; public bool SawKill;
            public void Run(KTask self)
            {
                while (Scheduler.Yield()) Yields++;
                SawKill = self.ShouldExit;
            }
        }

        private sealed class Once : ITaskBody
        {
            public bool Ran; public KTask Self;
            public void Run(KTask self) { Ran = true; Self = self; }
        }

        // ------------------------------------------------------------------ tests

        private static void Interrupts_are_on_and_only_the_timer_line_is_unmasked(Assert a)
        {
            a.True(Interrupts.Initialised, "PICs remapped");
            a.True(Interrupts.Enabled, "IF set");
            a.Equal(0xFEL, (long)Interrupts.MasterMask, "master PIC mask (IRQ0 only)");
            a.Equal(0xFFL, (long)Interrupts.SlaveMask, "slave PIC mask (all masked)");
            a.Equal((ulong)Timer.DefaultTickHz, (ulong)Timer.TickHz, "tick rate");
            a.True(Scheduler.IsStarted, "scheduler started at boot");
        }

        private static void Jiffies_advance_with_IRQ0_at_vector_0x20(Assert a)
        {
            // Busy-wait (no halt): the ticks must interrupt running code. If the PIC were not
            // remapped, IRQ0 would arrive at vector 8 and panic as a double fault.
            ulong start = Timer.Jiffies;
            ulong deadline = Timer.Cycles + Timer.TscHz * 2;
            while (Timer.Jiffies < start + 3 && Timer.Cycles < deadline) Kernel.Core.Native.Pause();
            a.True(Timer.Jiffies >= start + 3, "three ticks within 2 s of TSC time");
            ulong before = Timer.Jiffies;
            ulong irq0 = Interrupts.Count(0);
            ulong after = Timer.Jiffies;
            a.InRange(irq0, before, after, "IRQ0 count equals jiffies (both counted by the IRQ0 stub)");
            for (int irq = 1; irq < Interrupts.LineCount; irq++)
                if (Interrupts.Count(irq) != 0) a.Fail(string.Concat("masked IRQ ", irq.ToString(), " was delivered"));
            a.Equal(0UL, Interrupts.Count(1), "keyboard IRQ1 (polled, masked)");
        }

        private static void Two_tasks_and_the_shell_interleave_in_round_robin_order(Assert a)
        {
            var trace = new Trace();
            KTask ta = Scheduler.Spawn("step-a", new Stepper(trace, 'A', 3));
            KTask tb = Scheduler.Spawn("step-b", new Stepper(trace, 'B', 3));
            a.NotNull(ta, "spawn A");
            a.NotNull(tb, "spawn B");
            a.Equal((long)TaskState.Runnable, (long)ta.State, "a new task is runnable");
            a.Equal("", trace.Text, "spawning does not run the task");
            for (int i = 0; i < 3; i++) { trace.Add('S'); a.True(Scheduler.Yield(), "the shell's yield returns true"); }
            a.True(Scheduler.Join(ta), "join A");
            a.True(Scheduler.Join(tb), "join B");
            a.Equal("SABSABSAB", trace.Text, "round-robin order");
        }

        private static void Sleep_lasts_at_least_the_ticks_asked_for_and_the_shorter_sleep_wakes_first(Assert a)
        {
            ulong start = Timer.Jiffies;
            a.True(Scheduler.Sleep(3), "Sleep(3) returns true");
            a.True(Timer.Jiffies - start >= 3, "the shell slept at least 3 ticks");

            var trace = new Trace();
            var slow = new Sleeper(trace, 'L', 6);
            var fast = new Sleeper(trace, 'S', 2);
            KTask tl = Scheduler.Spawn("sleep-6", slow);
            KTask ts = Scheduler.Spawn("sleep-2", fast);
            a.True(Scheduler.Join(tl) && Scheduler.Join(ts), "join both");
            a.Equal("SL", trace.Text, "the 2-tick sleeper wakes before the 6-tick one");
            a.True(fast.Result && slow.Result, "Sleep returns true when not killed");
            a.True(fast.Slept >= 2, "2-tick sleeper slept at least 2 ticks");
            a.True(slow.Slept >= 6, "6-tick sleeper slept at least 6 ticks");

            start = Timer.Jiffies;
            a.True(Scheduler.SleepMs(30), "SleepMs(30)");
            a.True(Timer.Jiffies - start >= Timer.MillisecondsToTicks(30), "SleepMs(30) covers 30 ms of ticks");
        }

        private static void The_idle_task_halts_once_per_tick_while_every_task_sleeps(Assert a)
        {
            KTask idle = Scheduler.IdleTask;
            ulong halts = Scheduler.IdleHalts, switches = idle.Switches, ran = idle.TicksRun;
            ulong start = Timer.Jiffies;
            Scheduler.Sleep(5);
            ulong elapsed = Timer.Jiffies - start;
            halts = Scheduler.IdleHalts - halts;
            a.True(elapsed >= 5, "ticks advanced while everything slept");
            a.True(idle.Switches > switches, "the idle task got the CPU");
            a.True(idle.TicksRun > ran, "the idle task's run time counts the ticks it waited");
            // Only IRQ0 is unmasked, so each hlt lasts until the next tick: a spinning idle loop
            // would count far more than one round per tick.
            a.InRange(halts, 1, elapsed + 1, "idle halts (at most one per tick)");
        }

        private static void A_wait_queue_wakes_exactly_its_waiters_in_FIFO_order(Assert a)
        {
            var queue = new WaitQueue();
            var other = new WaitQueue();
            var trace = new Trace();
            var w1 = new Waiter(queue, trace, '1');
            var w2 = new Waiter(queue, trace, '2');
            var w3 = new Waiter(queue, trace, '3');
            var wo = new Waiter(other, trace, 'o');
            KTask t1 = Scheduler.Spawn("wait-1", w1), t2 = Scheduler.Spawn("wait-2", w2), t3 = Scheduler.Spawn("wait-3", w3);
            KTask to = Scheduler.Spawn("wait-other", wo);
            Scheduler.Yield(); // each runs once and blocks
            a.Equal(3L, queue.Count, "waiters on the queue");
            a.Equal(1L, other.Count, "waiters on the other queue");
            a.Equal((long)TaskState.Blocked, (long)t2.State, "a waiter is blocked");

            a.True(queue.WakeUp(), "WakeUp finds a waiter");
            Scheduler.Yield();
            a.Equal("1", trace.Text, "WakeUp woke exactly the first waiter");
            a.Equal(2L, queue.Count, "two left on the queue");
            a.Equal((long)TaskState.Blocked, (long)t2.State, "the second waiter still blocks");

            a.Equal(2L, queue.WakeUpAll(), "WakeUpAll wakes the other two");
            a.True(Scheduler.Join(t1) && Scheduler.Join(t2) && Scheduler.Join(t3), "join the three");
            a.Equal("123", trace.Text, "FIFO order, and the other queue's waiter stayed");
            a.True(w1.Result == WaitResult.Woken && w2.Result == WaitResult.Woken && w3.Result == WaitResult.Woken, "Wait returned Woken");
            a.Equal((long)TaskState.Blocked, (long)to.State, "the other queue's waiter is still blocked");
            a.False(queue.WakeUp(), "WakeUp on an empty queue");
            a.Equal(0L, queue.WakeUpAll(), "WakeUpAll on an empty queue");

            a.True(other.WakeUp(), "wake the other waiter");
            a.True(Scheduler.Join(to), "join it");
            a.True(wo.Done, "it ran to the end");
        }

        private static void A_timed_wait_times_out_and_a_wake_up_beats_the_timeout(Assert a)
        {
            var queue = new WaitQueue();
            ulong start = Timer.Jiffies;
            a.Equal((long)WaitResult.TimedOut, (long)queue.Wait(3), "nobody wakes the shell: timed out");
            a.True(Timer.Jiffies - start >= 3, "the timeout lasted 3 ticks");
            a.Equal(0L, queue.Count, "a timed-out waiter leaves the queue");

            var w = new Waiter(queue, null, 'w', 100_000);
            KTask t = Scheduler.Spawn("timed-wait", w);
            Scheduler.Yield();
            a.Equal(1L, queue.Count, "the task waits");
            a.True(queue.WakeUp(), "wake it");
            a.True(Scheduler.Join(t), "join");
            a.Equal((long)WaitResult.Woken, (long)w.Result, "woken, not timed out");
        }

        private static void A_returned_task_is_reaped_and_its_stack_goes_back_to_the_heap(Assert a)
        {
            // Task objects are never freed (no GC): one more may take a new slab page of its own,
            // so the count is allowed to stay one page lower afterwards.
            ulong free = Heap.Stats.FreePages;
            ulong reaped = Scheduler.Reaped;
            int count = Scheduler.Count;
            var body = new Once();
            KTask t = Scheduler.Spawn("reap-me", body, 64 * 1024);
            a.NotNull(t, "spawn");
            a.Equal(64UL * 1024, t.StackSize, "stack size");
            a.InRange(free - Heap.Stats.FreePages, 16, 18, "a 64 KiB stack takes 16-17 heap pages (and the task object at most one)");
            a.True(Heap.Contains((void*)t.StackBase), "the stack is in the heap");
            a.Same(t, Scheduler.Find(t.Id), "Find by id");
            a.Equal((long)count + 1, Scheduler.Count, "one more task");

            a.True(Scheduler.Join(t), "join");
            a.True(body.Ran, "the body ran");
            a.Same(t, body.Self, "the body got its own task");
            a.Equal((long)TaskState.Dead, (long)t.State, "dead after returning");
            a.Equal(0UL, t.StackBase, "stack released");
            a.InRange(free - Heap.Stats.FreePages, 0, 1, "the stack's heap pages are back");
            a.Equal(reaped + 1, Scheduler.Reaped, "reaped once");
            a.Null(Scheduler.Find(t.Id), "gone from the table");
            a.Equal((long)count, Scheduler.Count, "task count back");
            a.Equal(-1L, t.Slot, "no slot");
        }

        private static void Spawning_beyond_capacity_returns_TableFull(Assert a)
        {
            var queue = new WaitQueue();
            int before = Scheduler.Count;
            var tasks = new KTask[Scheduler.Capacity];
            var bodies = new Waiter[Scheduler.Capacity];
            int spawned = 0;
            SpawnError error = SpawnError.None;
            KTask last = null;
            while (spawned < Scheduler.Capacity)
            {
                var body = new Waiter(queue, null, 'p');
                error = Scheduler.TrySpawn("parked", body, Scheduler.MinStackSize, out last);
                if (error != SpawnError.None) break;
                bodies[spawned] = body;
                tasks[spawned++] = last;
            }
            a.Equal((long)SpawnError.TableFull, (long)error, "the spawn past capacity");
            a.Null(last, "no task when the table is full");
            a.Equal((long)(Scheduler.Capacity - before), spawned, "spawned until every slot was taken");
            a.Equal((long)Scheduler.Capacity, Scheduler.Count, "table full");
            a.Null(Scheduler.Spawn("one-more", new Once()), "Spawn returns null when full");

            Scheduler.Yield();
            a.Equal((long)spawned, queue.Count, "all parked on the queue");
            int killed = 0;
            for (int i = 0; i < spawned; i++) if (Scheduler.Kill(tasks[i]) == KillResult.Ok) killed++;
            a.Equal((long)spawned, killed, "every parked task killed");
            bool joined = true, sawKill = true;
            for (int i = 0; i < spawned; i++)
            {
                joined &= Scheduler.Join(tasks[i]);
                sawKill &= bodies[i].Result == WaitResult.Killed;
            }
            a.True(joined, "all joined");
            a.True(sawKill, "their waits returned Killed");
            a.Equal((long)before, Scheduler.Count, "slots free again");

            a.Equal((long)SpawnError.InvalidStackSize, (long)Scheduler.TrySpawn("tiny", new Once(), 256, out _), "too small a stack");
            a.Equal((long)SpawnError.NullBody, (long)Scheduler.TrySpawn("empty", null, Scheduler.DefaultStackSize, out _), "no body");
            var again = new Once();
            KTask t = Scheduler.Spawn("again", again);
            a.True(Scheduler.Join(t) && again.Ran, "spawning works again");
        }

        private static void A_killed_task_notices_at_its_next_yield_or_sleep(Assert a)
        {
            var looper = new Looper();
            KTask t = Scheduler.Spawn("looper", looper);
            for (int i = 0; i < 3; i++) Scheduler.Yield();
            a.Equal((long)KillResult.Ok, (long)Scheduler.Kill(t), "kill");
            a.True(Scheduler.Join(t), "join");
            a.True(looper.SawKill, "Yield returned false and ShouldExit is set");
            a.True(looper.Yields >= 2, "it ran until killed");
            a.Equal((long)KillResult.NoSuchTask, (long)Scheduler.Kill(t), "killing a dead task");
            a.Equal((long)KillResult.Protected, (long)Scheduler.Kill(Scheduler.Current), "the shell cannot be killed");
            a.Equal((long)KillResult.Protected, (long)Scheduler.Kill(Scheduler.IdleTask), "the idle task cannot be killed");
            a.Equal((long)KillResult.NoSuchTask, (long)Scheduler.Kill(null), "null");

            var sleeper = new Sleeper(null, 'z', 1_000_000);
            KTask ts = Scheduler.Spawn("long-sleep", sleeper);
            Scheduler.Yield();
            a.Equal((long)TaskState.Sleeping, (long)ts.State, "asleep");
            Scheduler.Kill(ts);
            a.True(Scheduler.Join(ts), "join the sleeper");
            a.False(sleeper.Result, "Sleep returned false");
            a.True(sleeper.Slept < 1000, "it woke at the kill, not at its tick");
        }

        private static void The_task_table_lists_id_name_state_ticks_and_stack(Assert a)
        {
            var body = new Looper();
            KTask extra = Scheduler.Spawn("listed", body, 16 * 1024);
            KTask shell = null, idle = null, found = null;
            int listed = 0;
            for (int slot = 0; slot < Scheduler.Capacity; slot++)
            {
                KTask t = Scheduler.TaskAt(slot);
                if (t == null) continue;
                listed++;
                if (t.Id == 0) shell = t;
                if (t.Id == 1) idle = t;
                if (t == extra) found = t;
            }
            a.Equal((long)Scheduler.Count, listed, "TaskAt lists Count tasks");
            a.NotNull(shell, "task 0");
            a.NotNull(idle, "task 1");
            a.NotNull(found, "the spawned task");
            if (shell != null)
            {
                a.Equal("shell", shell.Name, "task 0 name");
                a.Equal("running", shell.StateName, "the shell runs the tests");
                a.Same(Scheduler.Current, shell, "current");
                a.True(shell.IsBootTask, "boot task");
                a.Equal(KernelStack.Top - KernelStack.Bottom, shell.StackSize, "the boot stack");
                a.True(shell.Switches > 0, "the shell was switched back to");
            }
            if (idle != null)
            {
                a.Equal("idle", idle.Name, "task 1 name");
                a.Equal("runnable", idle.StateName, "idle state");
                a.True(idle.TicksRun > 0, "idle ran some ticks (the idle test)");
            }
            if (found != null)
            {
                a.Equal("listed", found.Name, "name");
                a.Equal("runnable", found.StateName, "state");
                a.Equal(16UL * 1024, found.StackSize, "stack size");
                a.True(found.Id > 1, "spawned ids come after idle");
            }
            Scheduler.Kill(extra);
            a.True(Scheduler.Join(extra), "join");
        }
    }
}
