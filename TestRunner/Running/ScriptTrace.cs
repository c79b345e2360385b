using MemoryTrace;
using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>
/// <c>script FILE --trace DIR</c> (docs/memory-trace.md): the script runs between a prelude that starts
/// the kernel's sampler (<c>trace 5</c>) and a postlude that stops it and prints the final /proc files.
/// <see cref="Split"/> takes the prelude's and postlude's exchanges out of the result, so that
/// <see cref="ScriptResult.Exchanges"/> holds the script's commands (and the closing halt) as without the
/// option, and keeps the samples, the /proc files and the sampler's own account of its cost.
/// </summary>
public sealed class ScriptTrace
{
    /// <summary>Ticks between samples: 5 ticks of the kernel's 100 Hz, 20 samples a second.</summary>
    public const int Every = 5;

    /// <summary>The /proc files the postlude prints, in the order the report shows them.</summary>
    public static readonly IReadOnlyList<string> ProcFiles = ["meminfo", "vmstat", "zoneinfo", "buddyinfo", "slabinfo"];

    public static IReadOnlyList<string> Prelude => [$"trace {Every}"];
    public static IReadOnlyList<string> Postlude => ["trace off", .. ProcFiles];

    /// <summary>What the kernel runs for a traced script: the prelude, the script, the postlude.</summary>
    public static IReadOnlyList<string> Commands(IReadOnlyList<string> script) => [.. Prelude, .. script, .. Postlude];

    public required IReadOnlyList<Sample> Samples { get; init; }
    /// <summary>The /proc files the postlude printed (a file the run never reached says so).</summary>
    public required IReadOnlyList<(string Name, string Text)> Files { get; init; }
    /// <summary>The sampler's own lines from <c>trace off</c>: samples, bytes and cycles it cost.</summary>
    public required IReadOnlyList<string> Cost { get; init; }

    /// <summary>
    /// Takes the prelude's and postlude's exchanges out of <paramref name="result"/> (a run of
    /// <see cref="Commands"/> over a script of <paramref name="scriptCommands"/> commands) and returns what they held.
    /// Every SAMPLE frame of the run is kept, whichever command it arrived under.
    /// </summary>
    public static ScriptTrace Split(ScriptResult result, int scriptCommands)
    {
        var samples = new List<Sample>();
        foreach (var frame in result.Exchanges.SelectMany(e => e.Frames).Where(f => f.Kind == FrameKind.Sample))
            samples.Add(Sample.Parse(frame.Fields, out _) ?? throw new InvalidOperationException("FrameParser accepted a SAMPLE frame that Sample.Parse refuses"));

        int prelude = Math.Min(Prelude.Count, result.Exchanges.Count);
        result.Exchanges.RemoveRange(0, prelude);
        int postludeStart = Math.Min(scriptCommands, result.Exchanges.Count);
        int postludeCount = Math.Min(Postlude.Count, result.Exchanges.Count - postludeStart);
        // A postlude that never ran as such (the script halted itself, or the run broke) is not there to take.
        var postlude = result.Exchanges.GetRange(postludeStart, postludeCount)
            .Select((e, i) => (e, i)).TakeWhile(t => t.e.Command == Postlude[t.i]).Select(t => t.e).ToList();
        result.Exchanges.RemoveRange(postludeStart, postlude.Count);

        var cost = postlude.FirstOrDefault(e => e.Command == "trace off")?.Output.Where(l => l.StartsWith("trace: ", StringComparison.Ordinal) && l != "trace: off").ToList() ?? [];
        var files = ProcFiles.Select(name =>
        {
            var e = postlude.FirstOrDefault(x => x.Command == name);
            // Drop the echoed command line ('kernel> meminfo').
            return (name, e == null ? $"(not printed: the run ended before the postlude's '{name}')" : string.Join("\n", e.Output.Skip(1)));
        }).ToList();
        return new ScriptTrace { Samples = samples, Files = files, Cost = cost };
    }

    /// <summary>The report's view of the run.</summary>
    public TraceRun ToRun(string title, string machine, ScriptResult result) => new()
    {
        Title = title,
        Machine = machine,
        Samples = Samples,
        Every = Every,
        Transcript = [.. result.BootOutput, .. result.Exchanges.SelectMany(e => e.Output)],
        ProcFiles = Files,
        Notes = Cost.Count == 0 ? [] : [$"What sampling cost inside the kernel ({(machine.Contains("--deterministic") ? "a cycle is one instruction under --deterministic" : "TSC cycles")}):", .. Cost],
    };
}
