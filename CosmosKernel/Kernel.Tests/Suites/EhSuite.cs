using System;
using System.Runtime.CompilerServices;
using Kernel.Core.Runtime;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// Exception handling over ilc's output (docs/exceptions.md): two-pass dispatch, typed catch
    /// with inheritance, finally and fault order, filters, rethrow, nesting, deep stacks, the
    /// throw helpers and CPU faults that become exceptions, and that nothing leaks.
    /// </summary>
    public sealed unsafe class EhSuite : TestSuite
    {
        public EhSuite() : base("eh", AnyMemory, null)
        {
            Add("Finally_and_catch_run_in_order_across_three_frames", &Finally_and_catch_run_in_order_across_three_frames);
            Add("A_typed_catch_that_does_not_match_is_skipped", &A_typed_catch_that_does_not_match_is_skipped);
            Add("A_catch_of_a_base_type_catches_a_derived_exception", &A_catch_of_a_base_type_catches_a_derived_exception);
            Add("A_filter_runs_once_in_the_first_pass_before_any_finally", &A_filter_runs_once_in_the_first_pass_before_any_finally);
            Add("A_filter_that_says_no_passes_the_exception_on", &A_filter_that_says_no_passes_the_exception_on);
            Add("A_filter_that_throws_counts_as_no", &A_filter_that_throws_counts_as_no);
            Add("Rethrow_keeps_the_same_object", &Rethrow_keeps_the_same_object);
            Add("Nested_try_blocks_catch_at_the_innermost_match", &Nested_try_blocks_catch_at_the_innermost_match);
            Add("A_throw_inside_a_catch_is_caught_by_an_outer_try", &A_throw_inside_a_catch_is_caught_by_an_outer_try);
            Add("A_throw_inside_a_finally_replaces_the_exception", &A_throw_inside_a_finally_replaces_the_exception);
            Add("A_throw_through_50_frames_is_caught", &A_throw_through_50_frames_is_caught);
            Add("The_stack_trace_names_the_throwing_method", &The_stack_trace_names_the_throwing_method);
            Add("An_array_index_out_of_range_throws_IndexOutOfRangeException", &An_array_index_out_of_range_throws_IndexOutOfRangeException);
            Add("A_bad_cast_throws_InvalidCastException", &A_bad_cast_throws_InvalidCastException);
            Add("Checked_overflow_throws_OverflowException", &Checked_overflow_throws_OverflowException);
            Add("A_null_dereference_is_caught_as_NullReferenceException", &A_null_dereference_is_caught_as_NullReferenceException);
            Add("Integer_division_by_zero_is_caught_as_DivideByZeroException", &Integer_division_by_zero_is_caught_as_DivideByZeroException);
            Add("A_hundred_thousand_throws_leave_the_stack_and_heap_as_they_were", &A_hundred_thousand_throws_leave_the_stack_and_heap_as_they_were);
            Add("An_uncaught_exception_ends_only_its_task", &An_uncaught_exception_ends_only_its_task);
            Add("New_beyond_RAM_in_a_task_throws_OutOfMemoryException_and_MemFree_comes_back", &New_beyond_RAM_in_a_task_throws_OutOfMemoryException_and_MemFree_comes_back);
        }

        // ------------------------------------------------------------ an order log in a static array

        private static readonly int[] s_log = new int[32];
        private static int s_logCount;
        private static void ClearLog() { s_logCount = 0; for (int i = 0; i < s_log.Length; i++) s_log[i] = 0; }
        private static void Log(int step) { if (s_logCount < s_log.Length) s_log[s_logCount++] = step; }
        private static string LogText()
        {
            string s = "";
            for (int i = 0; i < s_logCount; i++) s = string.Concat(s, i == 0 ? "" : ",", s_log[i].ToString());
            return s;
        }

        private sealed class TestException : Exception
        {
            public readonly int Code;
            public TestException(int code) : base("test exception") { Code = code; }
            public override string TypeName => "Kernel.Tests.EhSuite.TestException";
        }

        private sealed class OtherException : Exception
        {
            public OtherException() : base("other") { }
            public override string TypeName => "Kernel.Tests.EhSuite.OtherException";
        }

        // ------------------------------------------------------------ order across frames

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Frame3()
        {
            try { Log(1); throw new TestException(3); }
            finally { Log(2); }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Frame2()
        {
            try { Frame3(); Log(99); }
            finally { Log(3); }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Frame1()
        {
            try { Frame2(); Log(99); }
            catch (TestException e) { Log(4); Log(e.Code * 10); }
            finally { Log(5); }
            Log(6);
        }

        private static void Finally_and_catch_run_in_order_across_three_frames(Assert a)
        {
            ClearLog();
            Frame1();
            a.Equal("1,2,3,4,30,5,6", LogText(), "order: throw, finally (frame 3), finally (frame 2), catch (frame 1), its finally, after");
        }

        // ------------------------------------------------------------ typed catch

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowOther() => throw new OtherException();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int CatchOnlyTest()
        {
            try { ThrowOther(); return 0; }
            catch (TestException) { return 1; }
        }

        private static void A_typed_catch_that_does_not_match_is_skipped(Assert a)
        {
            int r = -1;
            try { r = CatchOnlyTest(); }
            catch (OtherException) { r = 2; }
            a.Equal(2, r, "the OtherException passed catch (TestException) and reached catch (OtherException)");
        }

        private static void A_catch_of_a_base_type_catches_a_derived_exception(Assert a)
        {
            string caught = "none";
            try { int[] x = new int[2]; Index(x, 5); }
            catch (InvalidCastException) { caught = "InvalidCast"; }
            catch (SystemException e) { caught = e.TypeName; }
            a.Equal("System.IndexOutOfRangeException", caught, "catch (SystemException) caught an IndexOutOfRangeException");
        }

        // ------------------------------------------------------------ filters

        private static int s_filterRuns;

        private static bool CountingFilter(Exception e, bool answer)
        {
            s_filterRuns++;
            Log(2);
            return answer;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowUnderFinally()
        {
            try { Log(1); throw new TestException(7); }
            finally { Log(3); }
        }

        private static void A_filter_runs_once_in_the_first_pass_before_any_finally(Assert a)
        {
            ClearLog();
            s_filterRuns = 0;
            try { ThrowUnderFinally(); }
            catch (TestException e) when (CountingFilter(e, true)) { Log(4); }
            a.Equal(1, s_filterRuns, "the filter ran once");
            a.Equal("1,2,3,4", LogText(), "filter (first pass) before the inner finally (second pass), then the catch");
        }

        private static void A_filter_that_says_no_passes_the_exception_on(Assert a)
        {
            ClearLog();
            s_filterRuns = 0;
            int r = 0;
            try
            {
                try { ThrowUnderFinally(); }
                catch (TestException e) when (CountingFilter(e, false)) { r = 1; }
            }
            catch (TestException e) { r = e.Code; }
            a.Equal(7, r, "the outer catch got it");
            a.Equal(1, s_filterRuns, "the filter ran once");
        }

        private static bool ThrowingFilter() => throw new OtherException();

        private static void A_filter_that_throws_counts_as_no(Assert a)
        {
            int r = 0;
            try
            {
                try { throw new TestException(5); }
                catch (TestException) when (ThrowingFilter()) { r = 1; }
            }
            catch (TestException e) { r = e.Code; }
            catch (OtherException) { r = 2; }
            a.Equal(5, r, "the filter's own exception was swallowed and the first one went on");
        }

        // ------------------------------------------------------------ rethrow, nesting

        private static Exception s_first;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CatchAndRethrow()
        {
            try { throw new TestException(1); }
            catch (TestException e) { s_first = e; throw; }
        }

        private static void Rethrow_keeps_the_same_object(Assert a)
        {
            Exception second = null;
            try { CatchAndRethrow(); }
            catch (Exception e) { second = e; }
            a.True(second != null, "the rethrown exception was caught");
            a.True((object)second == (object)s_first, "throw; rethrew the very object the inner catch had");
            s_first = null;
        }

        private static void Nested_try_blocks_catch_at_the_innermost_match(Assert a)
        {
            ClearLog();
            try
            {
                try
                {
                    try { throw new TestException(1); }
                    catch (OtherException) { Log(90); }
                    finally { Log(1); }
                }
                catch (TestException) { Log(2); }
                finally { Log(3); }
            }
            catch (TestException) { Log(91); }
            a.Equal("1,2,3", LogText(), "innermost finally, the matching middle catch, its finally; the outer catch saw nothing");
        }

        private static void A_throw_inside_a_catch_is_caught_by_an_outer_try(Assert a)
        {
            int r = 0;
            try
            {
                try { throw new TestException(1); }
                catch (TestException) { throw new OtherException(); }
                catch (OtherException) { r = 99; }   // a sibling catch of the same try must not see it
            }
            catch (OtherException) { r = 2; }
            a.Equal(2, r, "the outer try caught the exception thrown by the catch");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowInFinally()
        {
            try { throw new TestException(1); }
            finally { throw new OtherException(); }
        }

        private static void A_throw_inside_a_finally_replaces_the_exception(Assert a)
        {
            string caught = "none";
            try { ThrowInFinally(); }
            catch (TestException) { caught = "first"; }
            catch (OtherException) { caught = "second"; }
            a.Equal("second", caught, "the finally's exception is the one that travels on");
        }

        // ------------------------------------------------------------ depth, traces

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Deep(int n)
        {
            if (n == 0) throw new TestException(50);
            return Deep(n - 1) + 1;     // no EH here: frames without a try between thrower and catcher
        }

        private static void A_throw_through_50_frames_is_caught(Assert a)
        {
            int code = 0;
            try { Deep(50); }
            catch (TestException e) { code = e.Code; }
            a.Equal(50, code, "caught after 50 frames");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void NamedThrower() => throw new TestException(1);

        private static void The_stack_trace_names_the_throwing_method(Assert a)
        {
            Exception caught = null;
            try { NamedThrower(); }
            catch (Exception e) { caught = e; }
            a.True(caught != null && caught.StackFrameCount >= 2, "frames recorded");
            if (caught == null) return;
            a.Equal("Kernel_Tests_Kernel_Tests_EhSuite__NamedThrower", Symbols.NameOf(caught.StackFrame(0)), "frame 0");
            a.Equal("Kernel_Tests_Kernel_Tests_EhSuite__The_stack_trace_names_the_throwing_method", Symbols.NameOf(caught.StackFrame(1)), "frame 1");
        }

        // ------------------------------------------------------------ throw helpers and CPU faults

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Index(int[] array, int i) => array[i];

        private static void An_array_index_out_of_range_throws_IndexOutOfRangeException(Assert a)
        {
            string caught = "none";
            try { Index(new int[3], 3); }
            catch (IndexOutOfRangeException e) { caught = e.Message; }
            a.Equal("Index was outside the bounds of the array.", caught, "message");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static TestException Cast(object o) => (TestException)o;

        private static void A_bad_cast_throws_InvalidCastException(Assert a)
        {
            bool caught = false;
            try { Cast(new OtherException()); }
            catch (InvalidCastException) { caught = true; }
            a.True(caught, "InvalidCastException");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int AddChecked(int x, int y) => checked(x + y);

        private static void Checked_overflow_throws_OverflowException(Assert a)
        {
            bool caught = false;
            try { AddChecked(int.MaxValue, 1); }
            catch (OverflowException) { caught = true; }
            a.True(caught, "OverflowException");
        }

        private sealed class Node { public int Value; }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int ReadValue(Node n) => n.Value;

        private static void A_null_dereference_is_caught_as_NullReferenceException(Assert a)
        {
            string caught = "none";
            try { ReadValue(null); }
            catch (NullReferenceException e) { caught = e.TypeName; }
            a.Equal("System.NullReferenceException", caught, "the #PF at a null-ish address came back as an exception");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Divide(int x, int y) => x / y;

        private static void Integer_division_by_zero_is_caught_as_DivideByZeroException(Assert a)
        {
            string caught = "none";
            try { Divide(1, 0); }
            catch (DivideByZeroException e) { caught = e.TypeName; }
            a.Equal("System.DivideByZeroException", caught, "#DE came back as an exception");
        }

        // ------------------------------------------------------------ nothing leaks

        private static TestException s_reused;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Thrower10(int n, bool fresh)
        {
            if (n == 0) throw fresh ? new TestException(n) : s_reused;
            Thrower10(n - 1, fresh);
        }

        private static void A_hundred_thousand_throws_leave_the_stack_and_heap_as_they_were(Assert a)
        {
            // With a collector each round throws a new exception (garbage, collected); on a heap
            // without one (the RAT image) the rounds rethrow one object, so any byte the
            // dispatcher itself allocated would show.
            bool collector = Kernel.Mm.KernelGc.IsReady;
            s_reused ??= new TestException(0);
            GC.Collect();
            ulong heapBefore = Kernel.Core.Memory.Heap.Stats.BytesInUse;
            ulong spBefore = Kernel.Core.Native.ReadStackPointer();
            ulong spMoved = 0;
            int caught = 0;
            for (int i = 0; i < 100_000; i++)
            {
                try { Thrower10(3, collector); }
                catch (TestException) { caught++; }
                if (Kernel.Core.Native.ReadStackPointer() != spBefore) spMoved++;
                // Each round leaves its exception as garbage, and a `new` never runs the collector
                // itself (the heap's allocations may not shrink): collect as a long loop must.
                if (collector && i % 2000 == 1999) GC.Collect();
            }
            GC.Collect();
            ulong heapAfter = Kernel.Core.Memory.Heap.Stats.BytesInUse;
            a.Equal(100_000, caught, "every throw was caught");
            a.Equal(0UL, spMoved, "rounds after which the stack pointer differed");
            ulong slack = collector ? 4096UL : 0UL;
            a.True(heapAfter <= heapBefore + slack, string.Concat("heap in use: ", heapBefore.ToString(), " bytes before, ", heapAfter.ToString(), " after", collector ? " a collection" : " (no collector: one exception object rethrown)"));
        }

        // ------------------------------------------------------------ tasks and out of memory

        private sealed class ThrowingBody : Kernel.Sched.ITaskBody
        {
            public bool Started;
            public void Run(Kernel.Sched.KTask self) { Started = true; throw new InvalidOperationException("deliberately uncaught in a task"); }
        }

        private static void An_uncaught_exception_ends_only_its_task(Assert a)
        {
            ulong uncaughtBefore = Kernel.Sched.Scheduler.UncaughtExceptions;
            var body = new ThrowingBody();
            Kernel.Sched.KTask t = Kernel.Sched.Scheduler.Spawn("thrower", body);
            a.True(Kernel.Sched.Scheduler.Join(t), "joined the task");
            a.True(body.Started, "the task ran");
            a.Equal("dead", t.StateName, "the task ended");
            a.Equal(uncaughtBefore + 1, Kernel.Sched.Scheduler.UncaughtExceptions, "one task ended by an unhandled exception");
            a.Equal(4L, (long)(2 + 2), "and this task (the caller) goes on");
        }

        private sealed class Chunk
        {
            public byte[] Data;
            public Chunk Next;
        }

        private sealed class OomBody : Kernel.Sched.ITaskBody
        {
            public int Chunks, ChunkBytes;
            public bool Caught;
            public string Message;
            public void Run(Kernel.Sched.KTask self)
            {
                Chunk head = null;
                try
                {
                    while (true)
                    {
                        var c = new Chunk();
                        c.Data = new byte[ChunkBytes - 64];   // with its header, one buddy block
                        c.Next = head;
                        head = c;
                        Chunks++;
                    }
                }
                catch (OutOfMemoryException e)
                {
                    Caught = true;
                    Message = e.Message;
                }
                // Free what it holds: unlink every chunk, so that a stale word naming one of them
                // (the collector scans stacks conservatively, docs/gc.md) keeps only that one alive.
                while (head != null) { Chunk next = head.Next; head.Next = null; head.Data = null; head = next; }   // free what it holds: the collector takes it all
            }
        }

        /// <summary>
        /// A collection, in a frame of its own: the figures it returns (bytes freed, pause cycles)
        /// read as heap addresses, and in the caller's frame they pinned a chunk each in the next
        /// collection (the collector scans stacks conservatively, docs/gc.md).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Collect() => Kernel.Proc.GcRoots.Collect();

        /// <summary>Free pages, in a frame of its own for the same reason (the heap's statistics hold byte counts).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong FreePages() => Kernel.Core.Memory.Heap.Stats.FreePages;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong TotalPages() => Kernel.Core.Memory.Heap.Stats.TotalPages;

        /// <summary>One task that fills memory until `new` throws; the free pages before and after it (after a collection).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static OomBody FillOnce(int chunk, out ulong freeBefore, out ulong freeAfter)
        {
            Collect();
            freeBefore = FreePages();
            var body = new OomBody { ChunkBytes = chunk };
            Kernel.Sched.KTask t = Kernel.Sched.Scheduler.Spawn("oomcatch", body);
            Kernel.Sched.Scheduler.Join(t);
            Collect();
            freeAfter = FreePages();
            return body;
        }

        private static void New_beyond_RAM_in_a_task_throws_OutOfMemoryException_and_MemFree_comes_back(Assert a)
        {
            if (Kernel.Core.Memory.Heap.Name != "buddy") { a.Skip("needs the buddy heap (the RAT heap panics out of memory)"); return; }
            ulong totalPages = TotalPages();
            // 64 KiB chunks (one order-4 block each), bigger on big machines so that the fill stays
            // near 4096 allocations.
            int chunk = 64 << 10;
            while ((ulong)chunk * 4096 < totalPages * 4096 && chunk < (4 << 20)) chunk *= 2;
            ulong chunkPages = (ulong)chunk / 4096;

            OomBody first = FillOnce(chunk, out ulong before1, out ulong after1);
            a.True(first.Caught, "the task's catch (OutOfMemoryException) ran");
            a.Equal("Insufficient memory to continue the execution of the program.", first.Message ?? "", "message");
            a.True((ulong)first.Chunks * chunkPages >= before1 / 2, string.Concat(((ulong)first.Chunks * (ulong)chunk >> 20).ToString(), " MiB held before the failure, of ", (before1 / 256).ToString(), " MiB free"));
            // Every chunk is given back: no plain static, page table or string literal is read as
            // a root any more (docs/gc.md, "Conservative versus precise"). Not fewer free pages than
            // before; in `test all` at 6G the collection after the fill also took 512 kB an earlier
            // suite had left (its garbage, pinned by a stale word at the first collection): more.
            a.True(after1 >= before1, string.Concat("free pages after the first fill and a collection: ", after1.ToString(), ", before it ", before1.ToString()));

            OomBody second = FillOnce(chunk, out ulong before2, out ulong after2);
            a.True(second.Caught, "a second fill is caught too");
            a.True(after2 >= before2, string.Concat("free pages after the second fill and a collection: ", after2.ToString(), ", before it ", before2.ToString()));
        }
    }
}
