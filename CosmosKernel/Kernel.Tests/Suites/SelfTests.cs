using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>Proves the runner reports a failing test: one test passes, one fails on purpose.</summary>
    public sealed unsafe class SelfTestFailSuite : TestSuite
    {
        public SelfTestFailSuite() : base("selftest-fail", AnyMemory, null)
        {
            Add("A_passing_test_passes", &A_passing_test_passes);
            Add("A_deliberate_failure_is_reported", &A_deliberate_failure_is_reported);
        }

        public override bool IsSelfTest => true;

        private static void A_passing_test_passes(Assert a) => a.Equal(1, 1, "one");

        private static void A_deliberate_failure_is_reported(Assert a) => a.Equal(1, 2, "deliberate failure");
    }

    /// <summary>Proves a CPU exception is reported: a deliberate page fault, then the panic report and exit 0x12.</summary>
    public sealed unsafe class SelfTestFaultSuite : TestSuite
    {
        /// <summary>512 GiB: canonical, but PML4 entry 1 is never present.</summary>
        public const ulong UnmappedAddress = 0x80_0000_0000UL;

        public SelfTestFaultSuite() : base("selftest-fault", AnyMemory, null)
        {
            Add("A_deliberate_page_fault_panics", &A_deliberate_page_fault_panics);
        }

        public override bool IsSelfTest => true;

        private static void A_deliberate_page_fault_panics(Assert a)
        {
            *(ulong*)UnmappedAddress = 0xDEAD;
            a.Fail("the write to an unmapped address did not fault");
        }
    }

    /// <summary>
    /// Proves an exception a test does not catch fails that test (not the kernel): the FAIL names
    /// the exception's type, its message and the method that threw it (docs/exceptions.md).
    /// </summary>
    public sealed unsafe class SelfTestThrowSuite : TestSuite
    {
        public SelfTestThrowSuite() : base("selftest-throw", AnyMemory, null)
        {
            Add("An_uncaught_throw_fails_its_test_with_the_type_and_the_thrower", &An_uncaught_throw_fails_its_test_with_the_type_and_the_thrower);
        }

        public override bool IsSelfTest => true;

        private static void An_uncaught_throw_fails_its_test_with_the_type_and_the_thrower(Assert a)
        {
            Throw();
            a.Fail("the throw returned");
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void Throw() => throw new System.InvalidOperationException("deliberate throw");
    }
}

namespace Kernel.Tests
{
    using System;

    /// <summary>
    /// Proves that running out of heap is a panic with a clear message, not a hang, on either
    /// heap: the PANIC frame starts "out of memory: the kernel heap cannot allocate" (the RAT adds
    /// its page counts; the buddy heap first prints the page allocator's failure report
    /// "swapper: page allocation failure. order:8, mode:0xd0" and show_mem, then names the order).
    /// </summary>
    public sealed unsafe class SelfTestOutOfMemorySuite : Kernel.Tests.Framework.TestSuite
    {
        public SelfTestOutOfMemorySuite() : base("selftest-oom", AnyMemory, null)
        {
            Add("Exhausting_the_heap_with_1_MiB_objects_panics_with_out_of_memory", &Exhausting_the_heap_with_1_MiB_objects_panics_with_out_of_memory);
        }

        public override bool IsSelfTest => true;

        private static void Exhausting_the_heap_with_1_MiB_objects_panics_with_out_of_memory(Kernel.Tests.Framework.Assert a)
        {
            // 1 MiB objects, never freed, through the entry point every `new` uses, until the heap
            // gives up: a real exhaustion (the buddy's slow path runs and fails), not a request
            // no heap could ever serve. More rounds than the heap has room for.
            const ulong bytes = 1UL << 20;
            ulong rounds = Kernel.Core.Memory.Heap.Stats.TotalPages / 256 + 2;
            for (ulong i = 0; i < rounds; i++) Kernel.Core.Memory.Heap.Alloc((nuint)bytes);
            a.Fail(string.Concat(rounds.ToString(), " objects of 1 MiB fitted in a heap of ", Kernel.Core.Memory.Heap.Stats.TotalPages.ToString(), " pages"));
        }
    }
}

namespace Kernel.Tests
{
    /// <summary>Proves that a kernel stack overflow is a readable panic (guard page + double-fault stack), not a triple fault.</summary>
    public sealed unsafe class SelfTestStackOverflowSuite : Kernel.Tests.Framework.TestSuite
    {
        public SelfTestStackOverflowSuite() : base("selftest-stack", AnyMemory, null)
        {
            Add("Unbounded_recursion_panics_with_stack_overflow", &Unbounded_recursion_panics_with_stack_overflow);
        }

        public override bool IsSelfTest => true;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int Recurse(int depth)
        {
            byte* pad = stackalloc byte[512];
            pad[depth & 511] = (byte)depth;
            return Recurse(depth + 1) + pad[(depth * 7) & 511];
        }

        private static void Unbounded_recursion_panics_with_stack_overflow(Kernel.Tests.Framework.Assert a)
        {
            int r = Recurse(0);
            a.Fail(string.Concat("the recursion returned ", r.ToString()));
        }
    }

    /// <summary>
    /// Proves a suite below its memory minimum is reported skipped, not run: it asks for 2 TiB,
    /// twice what the runner can give a machine, so on every machine each of its tests is a SKIP
    /// with "needs at least 2097152 MiB of RAM (...); this machine has M MiB". Run, its tests fail.
    /// </summary>
    public sealed unsafe class SelfTestMemorySuite : TestSuite
    {
        public SelfTestMemorySuite() : base("selftest-memory", 2UL << 20, "a deliberately impossible minimum")
        {
            Add("A_suite_below_its_minimum_is_not_run", &Ran);
            Add("Each_of_its_tests_is_skipped_with_the_reason", &Ran);
        }

        public override bool IsSelfTest => true;

        private static void Ran(Assert a) => a.Fail("ran although the machine is smaller than the suite's minimum");
    }
}
