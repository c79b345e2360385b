using TestRunner.Running;
using Xunit;

namespace Kernel.Tests;

/// <summary>
/// Every in-kernel suite passes on both heaps, whatever the memory size the machine boots with,
/// from the kernel's stated minimum up to 6 GiB: the default image (the buddy heap,
/// -p:KernelHeap=Buddy) and the Cosmos-style RAT heap's image (-p:KernelHeap=Rat). The heap suite
/// checks the seam's contract on each; mm checks the buddy allocator on the kernel's own memory
/// (on the RAT image, a guest buddy heap over RAT pages). Below a suite's or a test's own minimum
/// it is skipped, never failed. ./test.sh boots 32M, 64M and 128M (and the RAT image at 128M);
/// the minimum, 512M, 1G and 6G are the long run (<see cref="LongRunFactAttribute"/>).
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

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_buddy_heap_with_6G_where_the_Normal_zone_exists() => AllSuitesPass("6G");

    [LongRunFact, Trait("Category", "LongRun")]
    public async Task All_suites_pass_on_the_RAT_heap_at_its_stated_minimum() => await AllSuitesPass($"{await KernelMinimum.OfAsync("rat")}M", "rat");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_RAT_heap_with_1G() => AllSuitesPass("1G", "rat");

    [LongRunFact, Trait("Category", "LongRun")]
    public Task All_suites_pass_on_the_RAT_heap_with_6G_where_memory_lies_above_4GiB() => AllSuitesPass("6G", "rat");

    [Fact]
    public async Task The_scheduler_suite_passes_on_its_own_within_a_few_seconds()
    {
        var run = await KernelImage.RunAsync("sched", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.True(run.Passed >= 10, "the sched suite ran too few tests:\n" + KernelImage.Describe(run));
        Assert.Equal(0, run.Failed);
    }
}

/// <summary>The runner reports the kernel's deliberate failures as failures, with their messages.</summary>
public class FailureReportingTests
{
    [Fact]
    public async Task A_deliberately_failing_test_is_reported_as_exactly_one_failure_with_its_message()
    {
        var run = await KernelImage.RunAsync("selftest-fail", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        var failed = Assert.Single(run.AllTests, t => t.Status == TestStatus.Failed);
        Assert.Contains("deliberate failure", failed.Message);
        Assert.Equal("deliberate failure: expected 1 but was 2", failed.Message);
        Assert.True(run.Passed >= 1, KernelImage.Describe(run));
    }

    [Theory]
    [InlineData("rat")]
    [InlineData("buddy")]
    public async Task Exhausting_the_heap_is_a_panic_that_says_out_of_memory(string heap)
    {
        var run = await KernelImage.RunAsync("selftest-oom", timeoutSeconds: 120, heap: heap == "buddy" ? null : heap);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        var failed = Assert.Single(run.AllTests, t => t.Status == TestStatus.Failed);
        Assert.StartsWith("out of memory: the kernel heap cannot allocate 1048576 bytes", run.Panic);
        Assert.Contains("out of memory", failed.Message);
        // The RAT names its page counts; the buddy heap the order, after the allocator's failure report.
        if (heap == "buddy") Assert.Contains("(buddy, order:8, mode:", run.Panic);
        else Assert.Contains("heap pages free", run.Panic);
    }

    [Fact]
    public async Task A_deliberate_page_fault_is_reported_as_a_failure_that_names_PF()
    {
        var run = await KernelImage.RunAsync("selftest-fault", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        var failed = Assert.Single(run.AllTests, t => t.Status == TestStatus.Failed);
        Assert.Contains("#PF", failed.Message);
        Assert.StartsWith("CPU exception 14 (#PF)", run.Panic);
    }

    [Fact]
    public async Task A_task_that_breaks_its_stack_canary_is_reported_by_name()
    {
        var run = await KernelImage.RunAsync("selftest-taskstack", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        var failed = Assert.Single(run.AllTests, t => t.Status == TestStatus.Failed);
        Assert.Matches(@"^scheduler: task \d+ 'smasher' overflowed its stack of 4096 bytes$", run.Panic);
        Assert.Contains("overflowed its stack", failed.Message);
    }

    [Fact]
    public async Task A_page_fault_in_a_task_is_reported_with_a_backtrace_through_the_task_stack()
    {
        var run = await KernelImage.RunAsync("selftest-taskfault", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        var failed = Assert.Single(run.AllTests, t => t.Status == TestStatus.Failed);
        Assert.StartsWith("CPU exception 14 (#PF)", run.Panic);
        string output = string.Join("\n", failed.Output);
        Assert.Contains("Faulter__Touch", output);          // the faulting frame, on the task's heap stack
        Assert.Contains("kernel_task_trampoline", output);  // the walk reached the task's first frame
    }
}
