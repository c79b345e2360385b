namespace TestRunner.Protocol;

/// <summary>The frame kinds the kernel may send (docs/testing.md, "The protocol").</summary>
public enum FrameKind
{
    Ready,
    Suite,
    Test,
    Pass,
    Fail,
    Skip,
    EndSuite,
    Metric,
    Panic,
    End,
    /// <summary>The answer to <c>test &lt;name&gt;</c> when no suite has that name: the name and the suites there are.</summary>
    NoSuite,
    /// <summary>Sent before any test runs, one per suite of the request: the suite and the names of all its tests (docs/testing.md).</summary>
    Plan,
    /// <summary>A sample of memory over time (the shell's <c>trace</c>; docs/memory-trace.md): six fields, parsed by <see cref="MemoryTrace.Sample.Parse(IReadOnlyList{string}, out string?)"/>.</summary>
    Sample,
}

/// <summary>
/// One decoded protocol frame: its kind and its payload fields, already unescaped.
/// Typed accessors read the fields the contract defines for each kind.
/// </summary>
public sealed record Frame(FrameKind Kind, IReadOnlyList<string> Fields)
{
    /// <summary>The suite name of SUITE, TEST, PASS, FAIL, SKIP and ENDSUITE frames.</summary>
    public string Suite => Fields[0];

    /// <summary>The test name of TEST, PASS, FAIL and SKIP frames.</summary>
    public string Test => Fields[1];

    /// <summary>The third field: the FAIL message or the SKIP reason.</summary>
    public string Message => Fields[2];

    /// <summary>The TSC cycles of a PASS frame.</summary>
    public ulong Cycles => ulong.Parse(Fields[2], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The suites a NOSUITE frame lists (its second field, names separated by single spaces).</summary>
    public IReadOnlyList<string> SuiteNames => Fields[1].Split(' ');

    /// <summary>The tests a PLAN frame lists (its second field, names separated by single spaces; none for an empty suite).</summary>
    public IReadOnlyList<string> TestNames => Fields[1].Length == 0 ? [] : Fields[1].Split(' ');

    /// <summary>The whole payload as one text (READY version, PANIC summary).</summary>
    public string Text => string.Join('\t', Fields);

    public override string ToString() => $"{FrameParser.KindWord(Kind)} {string.Join(" | ", Fields)}";
}
