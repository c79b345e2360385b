using System.Text;
using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Running;

namespace TestRunner.Labs;

/// <summary>
/// A lab page (docs/labs/*.md) whose output blocks are generated from a deterministic run of its
/// script (docs/test-runner.md, "Lab pages"). The page names its script and memory size once,
/// <c>&lt;!-- lab: script 01-watermarks-and-kswapd.script, memory 256M --&gt;</c> (the script's path
/// relative to the page), and marks each generated block with a comment on the line before its
/// opening fence: <c>&lt;!-- output: boot 2 --&gt;</c> (the boot report's last 2 lines) or
/// <c>&lt;!-- output: 3-7 --&gt;</c> (what commands 3 to 7 of the script printed, prompt and echo
/// included; <c>output: 5</c> for one). Everything else on the page is prose and stays as written.
/// A page may run more than one image: each further <c>lab:</c> line names its run (<c>, run NAME</c>) and
/// may name its image (<c>, heap NAME</c> or <c>, heap-plug PATH</c>, <c>, oom-plug PATH</c>: plug paths
/// relative to the repository root, as TestRunner's --heap, --heap-plug and --oom-plug take them); a block
/// shows a named run's output with <c>&lt;!-- output NAME: 3-7 --&gt;</c>.
/// </summary>
public sealed partial class LabPage
{
    [GeneratedRegex(@"^<!-- lab: script (?<script>\S+), memory (?<memory>[^,\s]+)(?<rest>(?:, [a-z-]+ [^,\s]+)*) -->$")]
    private static partial Regex HeaderPattern();
    [GeneratedRegex(@", (?<key>[a-z-]+) (?<value>[^,\s]+)")]
    private static partial Regex HeaderItemPattern();
    [GeneratedRegex(@"^<!-- output(?: (?<run>[A-Za-z0-9_.-]+))?: (?:boot (?<boot>\d+)|(?<from>\d+)(?:-(?<to>\d+))?) -->$")]
    private static partial Regex BlockPattern();
    [GeneratedRegex(@"^[A-Za-z0-9_.-]+$")]
    private static partial Regex NamePattern();

    /// <summary>One generated block: which run (<see cref="Run.Name"/>; "" the page's first), what it shows and the page lines between its fences.</summary>
    public sealed record Block(int Line, int BootLines, int From, int To, int ContentStart, int ContentEnd, string RunName = "");

    /// <summary>
    /// One run of the page: its script (full path), memory size, trace name, and the image it boots: null
    /// <see cref="Heap"/>, <see cref="HeapPlug"/> and <see cref="OomPlug"/> is whatever image the lab command
    /// is given (the repository's default build); otherwise that repository build.
    /// </summary>
    public sealed record Run(string Name, string ScriptPath, MemorySize Memory, string? TraceName, string? Heap, string? HeapPlug, string? OomPlug, int Line)
    {
        /// <summary>The run names an image of its own (heap, heap-plug or oom-plug).</summary>
        public bool NamesImage => Heap != null || HeapPlug != null || OomPlug != null;

        /// <summary>The repository build this run boots (<paramref name="repoRoot"/>'s, in <paramref name="configuration"/>): plug paths are repository-relative.</summary>
        public KernelLayout Layout(string repoRoot, string configuration) =>
            new(repoRoot, configuration, Heap, HeapPlug == null ? null : Path.GetFullPath(Path.Combine(repoRoot, HeapPlug)))
            {
                OomPlug = OomPlug == null ? null : Path.GetFullPath(Path.Combine(repoRoot, OomPlug)),
            };

        /// <summary>The image in words, as a header names it ("heap template, oom-plug ...").</summary>
        public string DescribeImage() =>
            string.Join(", ", new[] { Heap == null ? null : $"heap {Heap}", HeapPlug == null ? null : $"heap-plug {HeapPlug}", OomPlug == null ? null : $"oom-plug {OomPlug}" }.Where(x => x != null));
    }

    readonly string[] lines;
    readonly string folder;

    LabPage(string path, string[] lines, IReadOnlyList<Run> runs, IReadOnlyList<Block> blocks)
    {
        Path_ = path;
        folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        this.lines = lines;
        Runs = runs;
        Blocks = blocks;
    }

    string Path_ { get; }
    /// <summary>The page's runs, in the order of their <c>lab:</c> lines; the first is the page's own (its name "" unless it gives one).</summary>
    public IReadOnlyList<Run> Runs { get; }
    /// <summary>The first run's script, full path.</summary>
    public string ScriptPath => Runs[0].ScriptPath;
    public MemorySize Memory => Runs[0].Memory;
    public IReadOnlyList<Block> Blocks { get; }
    /// <summary>
    /// The first run's trace, when its <c>lab:</c> line has <c>, trace NAME</c>: the run is traced (script --trace) and its
    /// samples are NAME.csv and its plot NAME.svg beside the page (docs/memory-trace.md).
    /// </summary>
    public string? TraceName => Runs[0].TraceName;
    public string? TraceCsvPath => TraceCsvPathOf(Runs[0]);
    public string? TraceSvgPath => TraceSvgPathOf(Runs[0]);
    public string? TraceCsvPathOf(Run run) => run.TraceName == null ? null : Path.Combine(folder, run.TraceName + ".csv");
    public string? TraceSvgPathOf(Run run) => run.TraceName == null ? null : Path.Combine(folder, run.TraceName + ".svg");

    /// <summary>Reads the page at <paramref name="path"/>; null with a message naming the page line when it is not a lab page as described above.</summary>
    public static LabPage? Read(string path, out string? error)
    {
        var lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        var runs = new List<Run>();
        var blocks = new List<Block>();
        error = null;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("<!-- lab:", StringComparison.Ordinal))
            {
                var h = HeaderPattern().Match(lines[i]);
                if (!h.Success) { error = $"{path}:{i + 1}: use '<!-- lab: script FILE, memory SIZE[, trace NAME][, run NAME][, heap NAME | heap-plug PATH][, oom-plug PATH] -->'"; return null; }
                var run = ReadRun(path, i + 1, h, runs.Count == 0, out error);
                if (run == null) return null;
                if (runs.Any(r => r.Name == run.Name))
                {
                    error = run.Name == "" ? $"{path}:{i + 1}: a second '<!-- lab: ... -->' line without a run name: name it with ', run NAME'"
                        : $"{path}:{i + 1}: a second run named '{run.Name}'";
                    return null;
                }
                if (run.TraceName != null && runs.Any(r => r.TraceName == run.TraceName)) { error = $"{path}:{i + 1}: a second run with trace '{run.TraceName}'"; return null; }
                runs.Add(run);
                continue;
            }
            if (!lines[i].StartsWith("<!-- output", StringComparison.Ordinal)) continue;
            var m = BlockPattern().Match(lines[i]);
            if (!m.Success) { error = $"{path}:{i + 1}: use '<!-- output: boot N -->', '<!-- output: N -->' or '<!-- output: N-M -->' (or '<!-- output RUN: ... -->' for a named run)"; return null; }
            if (i + 1 >= lines.Length || lines[i + 1] != "```") { error = $"{path}:{i + 1}: the line after an output comment must open a code block (```)"; return null; }
            int close = Array.IndexOf(lines, "```", i + 2);
            if (close < 0) { error = $"{path}:{i + 2}: the code block is never closed"; return null; }
            int from = 0, to = 0, boot = 0;
            if (m.Groups["boot"].Success) boot = int.Parse(m.Groups["boot"].Value);
            else
            {
                from = int.Parse(m.Groups["from"].Value);
                to = m.Groups["to"].Success ? int.Parse(m.Groups["to"].Value) : from;
                if (from < 1 || to < from) { error = $"{path}:{i + 1}: commands {from}-{to} are not a range of the script's commands (from 1)"; return null; }
            }
            blocks.Add(new Block(i + 1, boot, from, to, i + 2, close, m.Groups["run"].Success ? m.Groups["run"].Value : ""));
            i = close;
        }
        if (runs.Count == 0) { error = $"{path}: no '<!-- lab: script FILE, memory SIZE -->' line names the page's script"; return null; }
        foreach (var block in blocks)
            if (!runs.Any(r => r.Name == block.RunName))
            {
                error = $"{path}:{block.Line}: no '<!-- lab: ... -->' line names a run '{block.RunName}' (runs: {string.Join(", ", runs.Select(r => r.Name == "" ? "the first, unnamed" : r.Name))})";
                return null;
            }
        return new LabPage(path, lines, runs, blocks);
    }

    static Run? ReadRun(string path, int line, Match h, bool first, out string? error)
    {
        error = null;
        string script = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, h.Groups["script"].Value));
        if (!MemorySize.TryParse(h.Groups["memory"].Value, out var memory, out var bad)) { error = $"{path}:{line}: {bad}"; return null; }
        var items = new Dictionary<string, string>();
        foreach (Match item in HeaderItemPattern().Matches(h.Groups["rest"].Value))
        {
            string key = item.Groups["key"].Value, value = item.Groups["value"].Value;
            if (key is not ("trace" or "run" or "heap" or "heap-plug" or "oom-plug"))
            { error = $"{path}:{line}: '{key}' is not a lab line's item: use trace, run, heap, heap-plug or oom-plug"; return null; }
            if (!items.TryAdd(key, value)) { error = $"{path}:{line}: '{key}' given twice"; return null; }
        }
        string? Item(string key) => items.TryGetValue(key, out var v) ? v : null;
        foreach (var key in new[] { "trace", "run" })
            if (Item(key) is string name && !NamePattern().IsMatch(name)) { error = $"{path}:{line}: {key} '{name}' is not a name (letters, digits, '_', '.', '-')"; return null; }
        if (Item("heap") != null && Item("heap-plug") != null) { error = $"{path}:{line}: heap and heap-plug cannot be used together: each names the image's heap"; return null; }
        if (Item("heap") is string heap && KernelLayout.CheckHeap(heap) is string heapError) { error = $"{path}:{line}: {heapError}"; return null; }
        string name_ = Item("run") ?? "";
        if (!first && name_ == "") { error = $"{path}:{line}: a second '<!-- lab: ... -->' line without a run name: name it with ', run NAME'"; return null; }
        return new Run(name_, script, memory, Item("trace"), Item("heap"), Item("heap-plug"), Item("oom-plug"), line);
    }

    /// <summary>
    /// The page with every generated block's content replaced by what <paramref name="run"/> printed (a page of one run); null with a
    /// message when a block asks for more than the run has (a command the script does not have).
    /// </summary>
    public string? Render(ScriptResult run, out string? error) =>
        Render(new Dictionary<string, ScriptResult> { [Runs[0].Name] = run }, out error);

    /// <summary>The page with every block replaced by what its run printed (<paramref name="runs"/> by <see cref="Run.Name"/>: every run the blocks name).</summary>
    public string? Render(IReadOnlyDictionary<string, ScriptResult> runs, out string? error)
    {
        error = null;
        var output = new List<string>();
        int at = 0;
        foreach (var block in Blocks)
        {
            output.AddRange(lines[at..block.ContentStart]);
            if (!runs.TryGetValue(block.RunName, out var run)) { error = $"{Path_}:{block.Line}: no result for run '{block.RunName}'"; return null; }
            string which = block.RunName == "" ? "the run" : $"run '{block.RunName}'";
            if (block.BootLines > 0)
            {
                if (block.BootLines > run.BootOutput.Count) { error = $"{Path_}:{block.Line}: the boot report of {which} has {run.BootOutput.Count} lines, not {block.BootLines}"; return null; }
                output.AddRange(run.BootOutput.Skip(run.BootOutput.Count - block.BootLines));
            }
            else
            {
                if (block.To > run.Exchanges.Count) { error = $"{Path_}:{block.Line}: {which} has {run.Exchanges.Count} commands (halt included), not {block.To}"; return null; }
                for (int c = block.From - 1; c < block.To; c++) output.AddRange(run.Exchanges[c].Output);
            }
            at = block.ContentEnd;
        }
        output.AddRange(lines[at..]);
        return string.Join("\n", output);
    }

    /// <summary>The page's text as it is on disk (LF line ends).</summary>
    public string Text => string.Join("\n", lines);

    /// <summary>
    /// Where <paramref name="rendered"/> (a <see cref="Render(IReadOnlyDictionary{string, ScriptResult}, out string?)"/> of this page)
    /// first differs from the page on disk: "line N" with both lines; null when they are the same.
    /// </summary>
    public string? FirstDifference(string rendered)
    {
        if (rendered == Text) return null;
        var want = rendered.Split('\n');
        int common = Math.Min(want.Length, lines.Length);
        int line = Enumerable.Range(0, common).FirstOrDefault(i => want[i] != lines[i], common);
        return $"line {line + 1}:\n  page: {(line < lines.Length ? lines[line] : "(end)")}\n  run:  {(line < want.Length ? want[line] : "(end)")}";
    }
}
