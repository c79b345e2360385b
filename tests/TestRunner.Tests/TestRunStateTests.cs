using System.Text;
using TestRunner.Emulator;
using TestRunner.Protocol;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

public class TestRunStateTests
{
    readonly TestRunState state = new("all", "256M", TimeSpan.FromSeconds(120));
    readonly List<string> sent = new();
    TimeSpan clock;

    void Serial(params string[] lines)
    {
        var decoder = new SerialDecoder();
        foreach (var line in lines)
            foreach (var e in decoder.Feed(Encoding.UTF8.GetBytes(line + "\n")))
            {
                clock += TimeSpan.FromMilliseconds(10);
                if (state.OnSerial(e, clock) is string reply) sent.Add(reply);
            }
    }

    void Exit(int status) => state.OnEmulatorExited(status, clock);

    [Fact]
    public void The_test_command_is_sent_once_the_kernel_is_READY()
    {
        Serial("GRUB loading...", "memory map: 3 entries");
        Assert.Empty(sent);
        Serial(Kernel.Ready("CosmosKernel 0.1"));
        Assert.Equal(["test all"], sent);
        Assert.Equal("CosmosKernel 0.1", state.Result.KernelVersion);
    }

    [Fact]
    public void All_tests_passing_and_a_clean_exit_give_exit_code_0()
    {
        Serial(Kernel.Ready());
        Serial(Kernel.HealthyRun());
        Exit(EmulatorStatus.AllPassed);
        Assert.True(state.IsFinished);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        Assert.Equal(2, state.Result.Passed);
        Assert.Equal((2, 0, 0), state.Result.End);
    }

    [Fact]
    public void A_failed_test_gives_exit_code_1_with_its_message()
    {
        Serial([Kernel.Ready(), Kernel.Plan("selftest-fail", "passes", "fails"), Kernel.Suite("selftest-fail"), .. Kernel.Passing("selftest-fail", "passes"),
            .. Kernel.Failing("selftest-fail", "fails", "deliberate failure: expected 1 but was 2"),
            Kernel.EndSuite("selftest-fail", 1, 1), Kernel.End(1, 1, 0)]);
        Exit(EmulatorStatus.TestsFailed);
        Assert.Equal(RunExitCode.TestsFailed, state.Result.ExitCode);
        var failed = Assert.Single(state.Result.AllTests, t => t.Status == TestStatus.Failed);
        Assert.Equal("deliberate failure: expected 1 but was 2", failed.Message);
    }

    [Fact]
    public void A_panic_during_the_last_test_is_an_error_of_that_test_with_the_panic_summary_and_gives_exit_code_1()
    {
        Serial(Kernel.Ready(), Kernel.Plan("selftest-fault", "page_fault"), Kernel.Suite("selftest-fault"), Kernel.Test("selftest-fault", "page_fault"),
            "PANIC: CPU exception 14 (#PF) error=0x2 RIP=0x1000 CR2=0xdeadbeef",
            Kernel.Panic("CPU exception 14 (#PF) at RIP=0x1000 CR2=0xdeadbeef"));
        Assert.True(state.IsFinished);
        Assert.Equal(RunExitCode.TestsFailed, state.Result.ExitCode);
        var test = Assert.Single(state.Result.AllTests);
        Assert.Equal((TestStatus.Error, "KernelPanic"), (test.Status, test.ErrorType));
        Assert.Null(state.ResumeFrom);
        Assert.Contains("#PF", test.Message);
        Assert.Contains("PANIC: CPU exception 14", string.Join("\n", test.Output));
    }

    [Fact]
    public void A_panic_outside_any_test_gives_exit_code_2()
    {
        Serial(Kernel.Ready(), Kernel.Plan("heap"), Kernel.Suite("heap"), Kernel.Panic("out of memory"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("outside any test", state.Result.Reason);
        Assert.Equal("out of memory", state.Result.Panic);
    }

    [Fact]
    public void A_panic_before_READY_is_a_boot_failure()
    {
        Serial("early boot", Kernel.Panic("CPU exception 13 (#GP)"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("boot failure", state.Result.Reason);
        Assert.Empty(sent);
    }

    [Fact]
    public void No_READY_before_the_timeout_gives_exit_code_2_and_keeps_the_serial_tail()
    {
        Serial("GRUB loading...", "kernel: stuck somewhere");
        state.OnTimeout(clock);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("no READY", state.Result.Reason);
        Assert.Equal(["GRUB loading...", "kernel: stuck somewhere"], state.Result.SerialTail);
    }

    [Fact]
    public void A_timeout_while_the_last_test_runs_is_an_error_of_that_test_and_gives_exit_code_1()
    {
        Serial(Kernel.Ready(), Kernel.Plan("heap", "endless"), Kernel.Suite("heap"), Kernel.Test("heap", "endless"));
        state.OnTimeout(clock);
        Assert.Equal(RunExitCode.TestsFailed, state.Result.ExitCode);
        Assert.Contains("heap/endless", state.Result.Reason);
        var test = Assert.Single(state.Result.AllTests);
        Assert.Equal((TestStatus.Error, "Timeout"), (test.Status, test.ErrorType));
        Assert.StartsWith("timed out after 120 s", test.Message);
    }

    [Fact]
    public void A_crash_with_tests_left_ends_the_boot_and_the_next_boot_asks_for_the_tests_after_it()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b", "c"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), Kernel.Test("heap", "b"),
            Kernel.Panic("CPU exception 14 (#PF) at address 0xea")]);
        Assert.True(state.IsFinished);
        Assert.Equal(TestRunState.Phase.BootEnded, state.Current);
        Assert.Equal(2, state.ResumeFrom);

        state.StartNextBoot(clock);
        sent.Clear();
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b", "c"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "c"), Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 0)]);
        Assert.Equal(["test all 2"], sent);
        Exit(EmulatorStatus.AllPassed);
        Assert.Equal(RunExitCode.TestsFailed, state.Result.ExitCode);
        Assert.Equal(2, state.Result.Boots);
        var heap = Assert.Single(state.Result.Suites);
        Assert.Equal([TestStatus.Passed, TestStatus.Error, TestStatus.Passed], heap.Tests.Select(t => t.Status));
        Assert.Equal("kernel panic: CPU exception 14 (#PF) at address 0xea", heap.Tests[1].Message);
    }

    [Fact]
    public void A_panic_between_two_tests_costs_the_plans_next_test_and_the_run_goes_on_after_it()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a"), Kernel.Plan("mm", "b", "c"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"),
            Kernel.EndSuite("heap", 1, 0), Kernel.Suite("mm"), Kernel.Panic("out of memory")]);
        Assert.Equal(2, state.ResumeFrom);
        var b = state.Result.AllTests.Single(t => t.Name == "b");
        Assert.Equal((TestStatus.Error, "KernelPanic"), (b.Status, b.ErrorType));
        Assert.Equal("kernel panic before this test started (in suite 'mm'): out of memory", b.Message);
    }

    [Fact]
    public void A_TEST_that_is_not_the_plans_next_test_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.Plan("heap", "a", "b"), Kernel.Suite("heap"), Kernel.Test("heap", "b"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Equal("protocol error: TEST 'heap/b' but the plan's next test is 'heap/a' (in suite 'heap')", state.Result.Reason);
    }

    [Fact]
    public void A_SUITE_before_any_PLAN_frame_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.Suite("heap"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.StartsWith("protocol error: SUITE frame before any PLAN frame", state.Result.Reason);
    }

    [Fact]
    public void END_before_every_planned_test_ran_is_a_protocol_error()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 0)]);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("ENDSUITE 'heap' before its planned test 'heap/b' ran", state.Result.Reason);
    }

    [Fact]
    public void A_later_boot_whose_plan_differs_from_the_first_is_a_protocol_error()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b"), Kernel.Suite("heap"), Kernel.Test("heap", "a"), Kernel.Panic("#PF")]);
        state.StartNextBoot(clock);
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b", "extra"), Kernel.Suite("heap")]);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("the kernel's plan in boot 2 (3 tests) is not the plan of boot 1 (2 tests)", state.Result.Reason);
    }

    [Fact]
    public void When_the_run_breaks_every_planned_test_that_did_not_run_is_an_error_so_the_totals_are_out_of_the_whole_plan()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "a", "b"), Kernel.Plan("mm", "c"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), Kernel.Test("heap", "b")]);
        state.OnInterrupted(clock);
        Assert.Equal(RunExitCode.Interrupted, state.Result.ExitCode);
        Assert.Equal(3, state.Result.AllTests.Count());
        var c = state.Result.AllTests.Single(t => t.Name == "c");
        Assert.Equal((TestStatus.Error, "NotRun"), (c.Status, c.ErrorType));
        Assert.Equal("not run: interrupted (in test 'heap/b'): QEMU was stopped", c.Message);
    }

    [Fact]
    public void QEMU_exiting_without_END_gives_exit_code_2()
    {
        Serial([Kernel.Ready(), Kernel.Plan("runtime", "strings"), Kernel.Suite("runtime"), .. Kernel.Passing("runtime", "strings"), Kernel.EndSuite("runtime", 1, 0)]);
        Exit(EmulatorStatus.AllPassed);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("before the END frame", state.Result.Reason);
    }

    [Fact]
    public void QEMU_exiting_before_READY_is_a_boot_failure_that_names_the_status()
    {
        Serial("qemu: could not load kernel");
        Exit(1);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("before the kernel was READY", state.Result.Reason);
        Assert.Contains("1: QEMU failed", state.Result.Reason);
    }

    [Fact]
    public void A_corrupted_frame_is_a_protocol_error_with_exit_code_2()
    {
        Serial(Kernel.Ready(), "#KT1 SUITE 99 runtime");
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("protocol error", state.Result.Reason);
        Assert.Contains("LEN mismatch", state.Result.Reason);
    }

    [Fact]
    public void An_unknown_frame_kind_is_a_protocol_error() 
    {
        Serial(Kernel.Ready(), "#KT1 HELLO 0 ");
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("unknown frame kind 'HELLO'", state.Result.Reason);
    }

    [Fact]
    public void A_frame_before_READY_is_a_protocol_error()
    {
        Serial(Kernel.Suite("runtime"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("SUITE frame before READY", state.Result.Reason);
    }

    [Fact]
    public void PASS_for_a_test_that_is_not_running_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.Plan("runtime", "a", "b"), Kernel.Suite("runtime"), Kernel.Test("runtime", "a"), Kernel.Pass("runtime", "b"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("not the running test", state.Result.Reason);
    }

    [Fact]
    public void A_second_TEST_before_PASS_or_FAIL_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.Plan("runtime", "a", "b"), Kernel.Suite("runtime"), Kernel.Test("runtime", "a"), Kernel.Test("runtime", "b"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("before test 'runtime/a' reported", state.Result.Reason);
    }

    [Fact]
    public void END_counts_that_disagree_with_the_frames_are_a_protocol_error()
    {
        Serial([Kernel.Ready(), Kernel.Plan("runtime", "a"), Kernel.Suite("runtime"), .. Kernel.Passing("runtime", "a"), Kernel.EndSuite("runtime", 1, 0), Kernel.End(5, 0, 0)]);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("END counts 5 passed", state.Result.Reason);
    }

    [Fact]
    public void ENDSUITE_counts_that_disagree_with_the_frames_are_a_protocol_error()
    {
        Serial([Kernel.Ready(), Kernel.Plan("runtime", "a"), Kernel.Suite("runtime"), .. Kernel.Passing("runtime", "a"), Kernel.EndSuite("runtime", 0, 1)]);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("ENDSUITE 'runtime' counts", state.Result.Reason);
    }

    [Fact]
    public void READY_again_before_END_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.Plan("runtime", "a"), Kernel.Suite("runtime"), Kernel.Ready());
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Single(sent);
    }

    [Fact]
    public void An_exit_status_that_contradicts_END_gives_exit_code_2()
    {
        Serial(Kernel.Ready());
        Serial(Kernel.HealthyRun());
        Exit(EmulatorStatus.TestsFailed);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("expected 33", state.Result.Reason);
    }

    [Fact]
    public void QEMU_still_running_after_END_keeps_the_verdict_with_a_warning()
    {
        Serial(Kernel.Ready());
        Serial(Kernel.HealthyRun());
        state.OnTimeout(clock);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        Assert.Contains(state.Result.Warnings, w => w.Contains("did not exit"));
    }

    [Fact]
    public void A_skipped_test_is_counted_as_skipped_and_does_not_fail_the_run()
    {
        Serial([Kernel.Ready(), Kernel.Plan("heap", "above_4g", "small"), Kernel.Suite("heap"), Kernel.Skip("heap", "above_4g", "needs -m 6G"), .. Kernel.Passing("heap", "small"),
            Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 1)]);
        Exit(EmulatorStatus.AllPassed);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        var skipped = Assert.Single(state.Result.AllTests, t => t.Status == TestStatus.Skipped);
        Assert.Equal("needs -m 6G", skipped.Message);
    }

    [Fact]
    public void Cycles_metrics_and_console_text_are_kept_with_their_test()
    {
        Serial(Kernel.Ready(), Kernel.Plan("bench", "alloc"), Kernel.Suite("bench"), Kernel.Test("bench", "alloc"), "allocating 1000 pages",
            Kernel.Metric("alloc_order0", "84.5", "ns"), Kernel.Pass("bench", "alloc", 4242), Kernel.EndSuite("bench", 1, 0),
            Kernel.Metric("boot_time", "0.9", "s"), Kernel.End(1, 0, 0));
        var test = Assert.Single(state.Result.AllTests);
        Assert.Equal(4242UL, test.Cycles);
        Assert.Equal(["allocating 1000 pages"], test.Output);
        Assert.Equal(new Metric("alloc_order0", 84.5, "ns"), Assert.Single(test.Metrics));
        Assert.Equal("boot_time", Assert.Single(state.Result.Metrics).Name);
    }

    [Fact]
    public void A_run_in_which_no_suite_ran_is_not_a_pass()
    {
        Serial(Kernel.Ready(), "unknown suite 'heapp'", Kernel.End(0, 0, 0));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("ran no suite for 'test all'", state.Result.Reason);
    }

    [Fact]
    public void An_interrupt_marks_the_running_test_interrupted_and_gives_exit_code_130()
    {
        Serial(Kernel.Ready(), Kernel.Plan("heap", "slow"), Kernel.Suite("heap"), Kernel.Test("heap", "slow"));
        state.OnInterrupted(clock);
        Assert.Equal(RunExitCode.Interrupted, state.Result.ExitCode);
        Assert.Equal(130, (int)state.Result.ExitCode);
        Assert.Equal("interrupted (in test 'heap/slow'): QEMU was stopped", state.Result.Reason);
        Assert.Equal(TestStatus.Error, Assert.Single(state.Result.AllTests).Status);
    }

    [Fact]
    public void The_kernels_NOSUITE_answer_ends_the_run_with_exit_code_2_and_lists_its_suites()
    {
        var nosuch = new TestRunState("nosuch", "256M", TimeSpan.FromSeconds(120));
        var decoder = new SerialDecoder();
        foreach (var line in new[] { Kernel.Ready(), "no suite named 'nosuch'; suites: all, heap, mm", Kernel.NoSuite("nosuch", "heap", "mm"), Kernel.Ready() })
            foreach (var e in decoder.Feed(Encoding.UTF8.GetBytes(line + "\n")))
                nosuch.OnSerial(e, clock);
        Assert.True(nosuch.IsFinished);
        Assert.Equal(RunExitCode.Broken, nosuch.Result.ExitCode);
        Assert.Equal("the kernel has no suite named 'nosuch'; use --suite all or one of: heap, mm", nosuch.Result.Reason);
        Assert.Equal(["heap", "mm"], nosuch.Result.KernelSuites);
    }

    [Fact]
    public void A_NOSUITE_for_another_name_than_the_one_asked_for_is_a_protocol_error()
    {
        Serial(Kernel.Ready(), Kernel.NoSuite("heap", "runtime", "mm"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Equal("protocol error: NOSUITE names 'heap' but the runner asked for 'all'", state.Result.Reason);
        Assert.Null(state.Result.KernelSuites);
    }

    [Fact]
    public void A_NOSUITE_after_a_suite_ran_is_a_protocol_error()
    {
        Serial([Kernel.Ready(), Kernel.Plan("runtime", "strings"), Kernel.Suite("runtime"), .. Kernel.Passing("runtime", "strings"), Kernel.EndSuite("runtime", 1, 0),
            Kernel.NoSuite("all", "runtime")]);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Equal("protocol error: NOSUITE 'all' after suites ran", state.Result.Reason);
    }

    [Fact]
    public void A_NOSUITE_before_READY_is_a_protocol_error()
    {
        Serial(Kernel.NoSuite("all", "runtime"));
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Equal("protocol error: NOSUITE frame before READY", state.Result.Reason);
    }

    [Fact]
    public void The_serial_tail_keeps_only_the_last_lines()
    {
        Serial(Enumerable.Range(0, 100).Select(i => $"line {i}").ToArray());
        Assert.Equal(RunOutcome.TailLines, state.Result.SerialTail.Count);
        Assert.Equal("line 99", state.Result.SerialTail[^1]);
    }
}
