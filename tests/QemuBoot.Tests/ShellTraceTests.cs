using MemoryTrace;
using TestRunner.Protocol;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>The shell's <c>trace</c> (docs/memory-trace.md): SAMPLE frames from a kernel task at a fixed tick rate.</summary>
public class ShellTraceTests
{
    static List<Sample> Samples(ScriptResult run) =>
        run.Exchanges.SelectMany(e => e.Frames).Where(f => f.Kind == FrameKind.Sample).Select(f => Sample.Parse(f.Fields, out _)!).ToList();

    [Fact]
    public async Task Trace_samples_every_n_ticks_from_a_kernel_task_never_inside_a_console_line_and_stops_when_told()
    {
        var run = await KernelImage.ScriptAsync(
        [
            "trace 3",
            "run memhog 8M 64",
            "sleep 500",
            "trace off",
            "sleep 100",
            "ps",
        ], deterministic: true, timeoutSeconds: 120);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        var samples = Samples(run);
        // 500 ms of sleep at 100 Hz (51 ticks), one sample every 3 ticks.
        Assert.InRange(samples.Count, 16, 19);
        Assert.All(samples.Zip(samples.Skip(1)), p => Assert.Equal(3, p.Second.Tick - p.First.Tick));
        // No sample after 'trace off' (the frames of 'sleep 100' and 'ps').
        Assert.DoesNotContain(run.Exchanges.Skip(4).SelectMany(e => e.Frames), f => f.Kind == FrameKind.Sample);
        // The memhog's rss is in the samples as ps shows it (kB), growing at 64 pages (256 kB) a tick up to 8 MiB.
        var rss = samples.Select(s => s.Processes.SingleOrDefault(p => p.Comm == "memhog")?.RssKb ?? 0).ToList();
        Assert.Equal(8192, rss[^1]);
        Assert.True(rss.Zip(rss.Skip(1)).All(p => p.Second >= p.First), "rss never shrinks while nothing reclaims");
        // Every console line is whole: a frame never cut one (the prompt and echo of each command are one line).
        Assert.All(run.Exchanges, e => Assert.Equal($"kernel> {e.Command}", e.Output[0]));
        var off = run.Exchanges[3].Output;
        Assert.Equal("trace: off", off[1]);
        Assert.Matches(@"^trace: off, \d+ sample\(s\) \(0 missed, 0 dropped\), \d+ bytes sent$", off[2]);
        Assert.Matches(@"^trace: cost \d+ cycles sampling, \d+ cycles sending \(\d+ per sample, \d+ bytes per sample\)$", off[3]);
    }

    [Fact]
    public async Task Trace_refuses_a_period_outside_1_to_6000_ticks_and_extra_words()
    {
        var run = await KernelImage.ScriptAsync(["trace 0", "trace 6001", "trace soon", "trace 5 6", "trace"], timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string Out(int i) => string.Join("\n", run.Exchanges[i].Output.Skip(1));
        Assert.Equal("trace: '0' is not a number of ticks in 1..6000 (or off)", Out(0));
        Assert.Equal("trace: '6001' is not a number of ticks in 1..6000 (or off)", Out(1));
        Assert.Equal("trace: 'soon' is not a number of ticks in 1..6000 (or off)", Out(2));
        Assert.Equal("usage: trace [<ticks 1..6000> | off]", Out(3));
        Assert.StartsWith("trace: off, 0 sample(s)", Out(4));
        Assert.DoesNotContain(run.Exchanges.SelectMany(e => e.Frames), f => f.Kind == FrameKind.Sample);
    }
}
