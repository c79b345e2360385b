using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// Every in-kernel suite passes on both heaps, whatever the memory size the machine boots with,
/// from the kernel's stated minimum up to 6 GiB: the default image (the buddy heap,
/// -p:KernelHeap=Buddy) and the Cosmos-style RAT heap's image (-p:KernelHeap=Rat). The heap suite
/// checks the seam's contract on each; mm checks the buddy allocator on the kernel's own memory
/// (on the RAT image, a guest buddy heap over RAT pages). Below a suite's or a test's own minimum
/// it is skipped, never failed. ./test.sh boots 32M, 64M, 128M and 6G (and the RAT image at 128M);
/// the minimum, 512M and 1G are the long run (<see cref="LongRunFactAttribute"/>).
/// </summary>
public class InKernelSuitesTests
{
    static async Task AllSuitesPass(string? memory, string? heap = null)
    {
        var run = await KernelImage.RunAsync("all", memory, timeoutSeconds: 240, heap: heap);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.True(run.Passed > 0, "the kernel ran no test at all:\n" + KernelImage.Describe(run));
        Assert.Equal(0, run.Failed);
    }

    [Fact]
    public Task All_suites_pass_on_the_buddy_heap_with_32M_where_DMA32_is_half_the_RAM() => AllSuitesPass("32M");

    [Fact]
    public Task All_suites_pass_on_the_buddy_heap_with_64M() => AllSuitesPass("64M");

    [Fact]
    public Task All_suites_pass_on_the_buddy_heap_with_128M() => AllSuitesPass("128M");

    [Fact]
    public Task All_suites_pass_on_the_RAT_heap_with_128M() => AllSuitesPass("128M", "rat");

    [LongRunFact, Trait("Category", "LongRun")]
    public async Task All_suites_pass_on_the_buddy_heap_at_the_kernels_stated_minimum() => await AllSuitesPass($"{await KernelMinimum.OfAsync()}M");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_buddy_heap_with_512M_as_boot_sh_boots() => AllSuitesPass("512M");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_buddy_heap_with_1G() => AllSuitesPass("1G");

    [Fact]
    public Task All_suites_pass_on_the_buddy_heap_with_6G_where_the_Normal_zone_exists() => AllSuitesPass("6G");

    [LongRunFact, Trait("Category", "LongRun")]
    public async Task All_suites_pass_on_the_RAT_heap_at_its_stated_minimum() => await AllSuitesPass($"{await KernelMinimum.OfAsync("rat")}M", "rat");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_RAT_heap_with_1G() => AllSuitesPass("1G", "rat");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_RAT_heap_with_6G_where_memory_lies_above_4GiB() => AllSuitesPass("6G", "rat");

    [Theory]
    [InlineData("mm")]
    [InlineData("heap")]
    public async Task A_Debug_image_poisons_free_pages_and_passes_the_suite_with_the_poison_checked(string suite)
    {
        var run = await KernelImage.RunAsync(suite, "128M", timeoutSeconds: 240, configuration: "Debug");
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Equal(0, run.Failed);
        // The poison is on (a Release image skips this test): a write after free is caught.
        if (suite == "mm")
            Assert.Contains(run.AllTests, t => t.Name == "A_write_after_free_is_caught_by_the_free_page_poison_of_a_Debug_image" && t.Status == TestStatus.Passed);
    }

    [Fact]
    public async Task The_scheduler_suite_passes_on_its_own_within_a_few_seconds()
    {
        var run = await KernelImage.RunAsync("sched", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.True(run.Passed >= 10, "the sched suite ran too few tests:\n" + KernelImage.Describe(run));
        Assert.Equal(0, run.Failed);
    }
}

/// <summary>The runner reports the kernel's deliberate failures with their messages: a failed assert as a failure, a panic as an error of its test.</summary>
public class FailureReportingTests
{
    [Fact]
    public async Task A_deliberately_failing_test_is_reported_as_exactly_one_failure_with_its_message()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-fail");
        Assert.Equal(TestStatus.Failed, failed.Status);
        Assert.Contains("deliberate failure", failed.Message);
        Assert.Equal("deliberate failure: expected 1 but was 2", failed.Message);
        Assert.True(run.Passed >= 1, KernelImage.Describe(run));
    }

    [Theory]
    [InlineData("rat")]
    [InlineData("buddy")]
    public async Task Exhausting_the_heap_is_a_panic_that_says_out_of_memory(string heap)
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-oom", timeoutSeconds: 120, heap: heap == "buddy" ? null : heap);
        Assert.StartsWith("out of memory: the kernel heap cannot allocate 1048576 bytes", run.Panic);
        Assert.Contains("out of memory", failed.Message);
        // The RAT names its page counts; the buddy heap the order, after the allocator's failure report.
        if (heap == "buddy") Assert.Contains("(buddy, order:8, mode:", run.Panic);
        else Assert.Contains("heap pages free", run.Panic);
    }

    [Fact]
    public async Task An_exception_a_test_does_not_catch_fails_that_test_with_its_type_message_and_thrower()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-throw");
        Assert.Null(run.Panic);
        Assert.Equal("threw System.InvalidOperationException: deliberate throw at Kernel_Tests_Kernel_Tests_SelfTestThrowSuite__Throw", failed.Message);
    }

    [Fact]
    public async Task A_deliberate_page_fault_is_reported_as_an_error_of_its_test_that_names_PF()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-fault");
        Assert.Equal(TestStatus.Error, failed.Status);
        Assert.Contains("#PF", failed.Message);
        Assert.StartsWith("CPU exception 14 (#PF)", run.Panic);
    }

    [Fact]
    public async Task A_task_that_breaks_its_stack_canary_is_reported_by_name()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-taskstack");
        Assert.Matches(@"^scheduler: task \d+ 'smasher' overflowed its stack of 4096 bytes$", run.Panic);
        Assert.Contains("overflowed its stack", failed.Message);
    }

    [Fact]
    public async Task A_page_fault_in_a_task_is_reported_with_a_backtrace_through_the_task_stack()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-taskfault");
        Assert.StartsWith("CPU exception 14 (#PF)", run.Panic);
        string output = string.Join("\n", failed.Output);
        Assert.Contains("Faulter__Touch", output);          // the faulting frame, on the task's heap stack
        Assert.Contains("kernel_task_trampoline", output);  // the walk reached the task's first frame
    }
}

/// <summary>The collector never crashes silently on a corrupt heap: it panics and says where.</summary>
public class GcCorruptionTests
{
    [Fact]
    public async Task A_corrupt_object_header_met_by_the_marker_panics_with_the_objects_address_its_MethodTable_and_the_root()
    {
        var (run, failed) = await KernelImage.RunDeliberateFailureAsync("selftest-gccorrupt");
        // The suite names the object it corrupts before the collection; the panic names the same one.
        string output = string.Join("\n", failed.Output);
        var victim = System.Text.RegularExpressions.Regex.Match(output, @"gc selftest: object (0x[0-9a-f]+) gets MethodTable 0xbad0bad0bad0");
        Assert.True(victim.Success, "the suite did not name its victim:\n" + KernelImage.Describe(run));
        Assert.Matches(@"^gc: corrupt object header at 0x[0-9a-f]+: MethodTable 0xbad0bad0bad0 is not in the kernel image \(or its descriptor runs past the object\); reached from root 0x[0-9a-f]+ \(GC static\)$", run.Panic);
        Assert.StartsWith($"gc: corrupt object header at {victim.Groups[1].Value}: ", run.Panic);
    }
}

/// <summary>The kernel's answer to a suite it does not have reaches the runner as a NOSUITE frame.</summary>
public class UnknownSuiteTests
{
    [Fact]
    public async Task An_unknown_suite_is_answered_with_every_suite_in_the_image_and_the_run_breaks_with_exit_2()
    {
        var run = await KernelImage.RunAsync("nosuch", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Broken, KernelImage.Describe(run));
        Assert.NotNull(run.KernelSuites);
        // Every suite, the deliberate-failure ones too (they can be asked for by name), once each.
        foreach (var suite in new[] { "runtime", "memmap", "heap", "mm", "sched", "selftest-fail", "selftest-taskfault" })
            Assert.Contains(suite, run.KernelSuites);
        Assert.Equal(run.KernelSuites.Count, run.KernelSuites.Distinct().Count());
        Assert.Equal($"the kernel has no suite named 'nosuch'; use --suite all or one of: {string.Join(", ", run.KernelSuites)}", run.Reason);
        Assert.Empty(run.Suites);
        // The console line a person sees says the same.
        Assert.Contains(run.SerialTail, l => l.StartsWith("no suite named 'nosuch'; suites: all, runtime"));
    }
}
