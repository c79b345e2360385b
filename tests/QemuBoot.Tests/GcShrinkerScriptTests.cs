using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>The collector is a shrinker: under memory pressure reclaim runs it before the OOM killer is considered (docs/gc.md, docs/reclaim-and-oom.md).</summary>
public class GcShrinkerScriptTests
{
    static IEnumerable<string> AllOutput(ScriptResult run) => run.Exchanges.SelectMany(e => e.Output);

    static string OutputOf(ScriptResult run, string command) =>
        string.Join("\n", run.Exchanges.First(e => e.Command == command).Output);

    static long Counter(string text, string name)
    {
        var m = Regex.Match(text, @"(?m)^" + Regex.Escape(name) + @" (\d+)$");
        Assert.True(m.Success, name + " not found in:\n" + text);
        return long.Parse(m.Groups[1].Value);
    }

    [Fact]
    public async Task Garbage_made_beside_a_memhog_far_beyond_RAM_is_collected_by_reclaim_with_no_OOM_kill()
    {
        var run = await KernelImage.ScriptAsync(
        [
            "run memhog 32M",
            "run garbage 1M 256",   // 256 pages of 1000-byte objects a tick (1 MiB), 1 MiB of them kept
            "sleep 6000",
            "vmstat",
            "kill 4",
            "sleep 50",
            "gc",
        ], memory: "128M", timeoutSeconds: 180);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);
        string all = string.Join("\n", AllOutput(run));
        Assert.DoesNotContain("Out of memory", all);
        string vmstat = OutputOf(run, "vmstat");
        Assert.Equal(0, Counter(vmstat, "oom_kill"));
        Assert.True(Counter(vmstat, "slabs_freed") > 0, "the shrinkers freed objects:\n" + KernelImage.Describe(run));
        Assert.True(Counter(vmstat, "slabs_scanned") >= Counter(vmstat, "slabs_freed"), vmstat);
        var made = Regex.Match(all, @"garbage \(pid 4, (\d+) objects made\) exited; its memory is freed");
        Assert.True(made.Success, KernelImage.Describe(run));
        long madeBytes = long.Parse(made.Groups[1].Value) * 1000;
        Assert.True(madeBytes > 128L << 20, $"the garbage program made {madeBytes} bytes of objects: more than the machine's RAM only if they were collected");
        // The shell's gc is not the first collection: reclaim ran the collector before it.
        var gc = Regex.Match(OutputOf(run, "gc"), @"gc: collection (\d+)");
        Assert.True(gc.Success && long.Parse(gc.Groups[1].Value) > 1, OutputOf(run, "gc"));
    }
}
