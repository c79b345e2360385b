using MemoryTrace;
using TestRunner.Running;

namespace TestRunner.Labs;

/// <summary>
/// One run of a lab page's script as <c>TestRunner lab</c> makes it: --deterministic at the page's memory
/// size, traced when the page names a trace (its samples become NAME.csv and its plot NAME.svg beside the page).
/// </summary>
public sealed class LabRun
{
    public required ScriptResult Result { get; init; }
    /// <summary>The trace, when the page asks for one and the run got that far.</summary>
    public ScriptTrace? Trace { get; init; }
    /// <summary>trace.csv's text for the page's samples (null without a trace).</summary>
    public string? Csv => Trace == null ? null : TraceCsv.Write(Trace.Samples);

    /// <summary>The plot for the page's first run (null without a trace or without samples).</summary>
    public string? Svg(LabPage page) => Svg(page.Runs[0]);

    /// <summary>The plot for <paramref name="run"/> (null without a trace or without samples).</summary>
    public string? Svg(LabPage.Run run) => Trace == null || Trace.Samples.Count == 0 ? null : TracePlot.Svg(Trace.Samples, Path.GetFileName(run.ScriptPath));

    /// <summary>Runs the page's first run.</summary>
    public static Task<LabRun> RunAsync(LabPage page, IReadOnlyList<string> script, KernelTarget target, TimeSpan timeout,
        TextWriter? serialLog = null, CancellationToken cancel = default) =>
        RunAsync(page.Runs[0], script, target, timeout, serialLog, cancel);

    /// <summary>Runs <paramref name="run"/>'s <paramref name="script"/> on <paramref name="target"/> (the run's image) at the run's memory size.</summary>
    public static async Task<LabRun> RunAsync(LabPage.Run run, IReadOnlyList<string> script, KernelTarget target, TimeSpan timeout,
        TextWriter? serialLog = null, CancellationToken cancel = default)
    {
        var result = await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = target with { Memory = run.Memory },
            Timeout = timeout,
            Deterministic = true,
            SerialLog = serialLog,
        }, run.TraceName == null ? script : ScriptTrace.Commands(script), cancel).ConfigureAwait(false);
        var trace = run.TraceName == null ? null : ScriptTrace.Split(result, script.Count);
        return new LabRun { Result = result, Trace = trace };
    }
}
