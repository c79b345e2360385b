using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>Faults inside the kernel: a panic is the end of the machine, and failure reports do not flood.</summary>
public class FaultTests
{
    static string All(ScriptResult run) => string.Join("\n", run.Exchanges.SelectMany(e => e.Output));

    [Fact]
    public async Task Two_unkillable_memhogs_beyond_RAM_end_the_machine_with_the_OOM_panic_and_nothing_runs_after_it()
    {
        var run = await KernelImage.ScriptAsync(
        [
            "run memhog 128M 512 adj=-1000",
            "run memhog 128M 512 adj=-1000",
            "sleep 20000",
            "ps",
        ], memory: "128M", timeoutSeconds: 180);
        // The runner exits 1 and says why: the PANIC frame with the OOM killer's reason, QEMU status 37.
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, KernelImage.Describe(run));
        Assert.True(run.Panic == "Out of memory and no killable processes...", KernelImage.Describe(run));
        Assert.Equal("Out of memory and no killable processes...", run.Panic);
        Assert.Contains("kernel panic after 'sleep 20000'", run.Reason);
        string all = All(run);
        Assert.Contains("Kernel panic - not syncing: Out of memory and no killable processes...", all);
        Assert.Contains("================ KERNEL PANIC ================", all);
        // Nothing after the panic: the next command is never sent, no OOM kill happened, and the
        // allocation-failure reports stop at warn_alloc's burst.
        Assert.DoesNotContain(run.Exchanges, e => e.Command == "ps");
        Assert.DoesNotContain("Killed process", all);
        Assert.True(Regex.Matches(all, "page allocation failure").Count <= 10, all);
    }

    [Fact]
    public async Task Allocation_failure_reports_come_in_a_burst_of_ten_and_the_next_interval_says_how_many_were_suppressed()
    {
        // Order-10 blocks from ZONE_DMA without waiting (gfp 0x01): a few succeed, the rest fail at once.
        var commands = new List<string>();
        for (int i = 0; i < 20; i++) commands.Add("alloc 10 0x01");
        commands.Add("sleep 5100");
        commands.Add("alloc 10 0x01");
        commands.Add("vmstat");
        var run = await KernelImage.ScriptAsync(commands, memory: "128M", timeoutSeconds: 120);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        int failed = run.Exchanges.Take(20).Count(e => e.Output.Any(l => l.StartsWith("alloc: failed")));
        Assert.True(failed > 10, $"only {failed} of 20 DMA order-10 allocations failed:\n{All(run)}");
        string burst = string.Join("\n", run.Exchanges.Take(20).SelectMany(e => e.Output));
        Assert.Equal(10, Regex.Matches(burst, @"\w+: page allocation failure\. order:10, mode:0x1\b").Count);
        string after = string.Join("\n", run.Exchanges[21].Output.SkipWhile(l => l.Contains("kernel> ")));
        Assert.StartsWith($"warn_alloc: {failed - 10} callbacks suppressed\n", after);
        Assert.Contains("page allocation failure. order:10", after);
        string vmstat = string.Join("\n", run.Exchanges[22].Output);
        Assert.Contains($"alloc_fail {failed + 1}", vmstat.Split('\n'));
        Assert.Contains($"warn_alloc_suppressed {failed - 10}", vmstat.Split('\n'));
    }
}
