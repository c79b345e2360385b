using Kernel.Sched;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// Proves a task that runs off the bottom of its stack is caught: the task breaks its own
    /// stack canary (what an overflow reaching the lowest word does) and yields; the switch away
    /// checks the canary and panics naming the task.
    /// </summary>
    public sealed unsafe class SelfTestTaskStackSuite : TestSuite
    {
        public SelfTestTaskStackSuite() : base("selftest-taskstack", AnyMemory, null)
        {
            Add("A_broken_task_stack_canary_panics_naming_the_task", &A_broken_task_stack_canary_panics_naming_the_task);
        }

        public override bool IsSelfTest => true;

        private sealed class Smasher : ITaskBody
        {
            public void Run(KTask self)
            {
                *(ulong*)((self.StackBase + 7) & ~7UL) = 0;
                Scheduler.Yield();
            }
        }

        private static void A_broken_task_stack_canary_panics_naming_the_task(Assert a)
        {
            KTask t = Scheduler.Spawn("smasher", new Smasher(), Scheduler.MinStackSize);
            Scheduler.Join(t);
            a.Fail("the broken stack canary went unnoticed");
        }
    }

    /// <summary>
    /// Proves a CPU exception inside a task is reported like any other, with a backtrace that
    /// walks the task's own (heap) stack and names the task body's frame.
    /// </summary>
    public sealed unsafe class SelfTestTaskFaultSuite : TestSuite
    {
        public SelfTestTaskFaultSuite() : base("selftest-taskfault", AnyMemory, null)
        {
            Add("A_page_fault_in_a_task_panics_with_its_backtrace", &A_page_fault_in_a_task_panics_with_its_backtrace);
        }

        public override bool IsSelfTest => true;

        private sealed class Faulter : ITaskBody
        {
            public void Run(KTask self)
            {
                Touch(SelfTestFaultSuite.UnmappedAddress);
            }

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
            private static void Touch(ulong address) => *(ulong*)address = 0xDEAD;
        }

        private static void A_page_fault_in_a_task_panics_with_its_backtrace(Assert a)
        {
            KTask t = Scheduler.Spawn("faulter", new Faulter());
            Scheduler.Join(t);
            a.Fail("the write to an unmapped address in a task did not fault");
        }
    }
}
