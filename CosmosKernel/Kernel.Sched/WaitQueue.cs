namespace Kernel.Sched
{
    /// <summary>
    /// Tasks blocked until someone wakes them, in FIFO order (Linux's wait_queue_head_t).
    /// No delegates, so no wait_event(condition): wait in a loop that re-checks the condition,
    /// <code>while (!ready) if (queue.Wait() == WaitResult.Killed) return;</code>
    /// Cooperative scheduling makes the check-then-wait safe: nothing runs between the two.
    /// Wake-ups come from tasks only (never from interrupt context).
    /// </summary>
    public sealed class WaitQueue
    {
        private KTask _head, _tail;
        private int _count;

        /// <summary>Tasks waiting now.</summary>
        public int Count => _count;

        /// <summary>Blocks the current task until <see cref="WakeUp"/>/<see cref="WakeUpAll"/> or a kill.</summary>
        public WaitResult Wait() => Scheduler.BlockOn(this, KTask.NoWakeTick);

        /// <summary>As <see cref="Wait()"/>, but gives up after <paramref name="timeoutTicks"/> jiffies (<see cref="WaitResult.TimedOut"/>).</summary>
        public WaitResult Wait(ulong timeoutTicks)
        {
            if (timeoutTicks == 0) return WaitResult.TimedOut;
            return Scheduler.BlockOn(this, timeoutTicks);
        }

        /// <summary>Wakes the task that has waited longest. False if none waits.</summary>
        public bool WakeUp()
        {
            KTask t = _head;
            if (t == null) return false;
            Remove(t);
            Scheduler.Wake(t, WaitResult.Woken);
            return true;
        }

        /// <summary>Wakes every waiting task, in the order they came; returns how many.</summary>
        public int WakeUpAll()
        {
            int woken = 0;
            while (WakeUp()) woken++;
            return woken;
        }

        internal void Append(KTask t)
        {
            t.WaitNext = null;
            t.WaitingOn = this;
            if (_tail == null) _head = t; else _tail.WaitNext = t;
            _tail = t;
            _count++;
        }

        internal void Remove(KTask t)
        {
            KTask previous = null;
            for (KTask p = _head; p != null; previous = p, p = p.WaitNext)
            {
                if (p != t) continue;
                if (previous == null) _head = p.WaitNext; else previous.WaitNext = p.WaitNext;
                if (_tail == p) _tail = previous;
                _count--;
                break;
            }
            t.WaitNext = null;
            t.WaitingOn = null;
        }
    }
}
