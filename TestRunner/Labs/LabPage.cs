using System.Text;
using System.Text.RegularExpressions;
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
/// </summary>
public sealed partial class LabPage
{
    [GeneratedRegex(@"^<!-- lab: script (?<script>\S+), memory (?<memory>\S+)(?:, trace (?<trace>[A-Za-z0-9_.-]+))? -->$")]
    private static partial Regex HeaderPattern();
    [GeneratedRegex(@"^<!-- output: (?:boot (?<boot>\d+)|(?<from>\d+)(?:-(?<to>\d+))?) -->$")]
    private static partial Regex BlockPattern();

    /// <summary>One generated block: what it shows and the page lines between its fences.</summary>
    public sealed record Block(int Line, int BootLines, int From, int To, int ContentStart, int ContentEnd);

    readonly string[] lines;

    LabPage(string path, string[] lines, string script, MemorySize memory, IReadOnlyList<Block> blocks, string? trace)
    {
        Path_ = path;
        TraceName = trace;
        this.lines = lines;
        ScriptPath = script;
        Memory = memory;
        Blocks = blocks;
    }

    string Path_ { get; }
    /// <summary>The script's full path.</summary>
    public string ScriptPath { get; }
    public MemorySize Memory { get; }
    public IReadOnlyList<Block> Blocks { get; }
    /// <summary>
    /// The page's trace, when its <c>lab:</c> line ends in <c>, trace NAME</c>: the run is traced (script --trace) and its
    /// samples are NAME.csv and its plot NAME.svg beside the page (docs/memory-trace.md).
    /// </summary>
    public string? TraceName { get; }
    public string? TraceCsvPath => TraceName == null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Path_))!, TraceName + ".csv");
    public string? TraceSvgPath => TraceName == null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Path_))!, TraceName + ".svg");

    /// <summary>Reads the page at <paramref name="path"/>; null with a message naming the page line when it is not a lab page as described above.</summary>
    public static LabPage? Read(string path, out string? error)
    {
        var lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');
        string? script = null, trace = null;
        MemorySize memory = MemorySize.Default;
        var blocks = new List<Block>();
        error = null;
        for (int i = 0; i < lines.Length; i++)
        {
            if (HeaderPattern().Match(lines[i]) is { Success: true } h)
            {
                if (script != null) { error = $"{path}:{i + 1}: a second '<!-- lab: ... -->' line"; return null; }
                script = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, h.Groups["script"].Value));
                if (!MemorySize.TryParse(h.Groups["memory"].Value, out memory, out var bad)) { error = $"{path}:{i + 1}: {bad}"; return null; }
                if (h.Groups["trace"].Success) trace = h.Groups["trace"].Value;
                continue;
            }
            if (!lines[i].StartsWith("<!-- output:", StringComparison.Ordinal)) continue;
            var m = BlockPattern().Match(lines[i]);
            if (!m.Success) { error = $"{path}:{i + 1}: use '<!-- output: boot N -->', '<!-- output: N -->' or '<!-- output: N-M -->'"; return null; }
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
            blocks.Add(new Block(i + 1, boot, from, to, i + 2, close));
            i = close;
        }
        if (script == null) { error = $"{path}: no '<!-- lab: script FILE, memory SIZE -->' line names the page's script"; return null; }
        return new LabPage(path, lines, script, memory, blocks, trace);
    }

    /// <summary>
    /// The page with every generated block's content replaced by what <paramref name="run"/> printed; null with a
    /// message when a block asks for more than the run has (a command the script does not have).
    /// </summary>
    public string? Render(ScriptResult run, out string? error)
    {
        error = null;
        var output = new List<string>();
        int at = 0;
        foreach (var block in Blocks)
        {
            output.AddRange(lines[at..block.ContentStart]);
            if (block.BootLines > 0)
            {
                if (block.BootLines > run.BootOutput.Count) { error = $"{Path_}:{block.Line}: the boot report has {run.BootOutput.Count} lines, not {block.BootLines}"; return null; }
                output.AddRange(run.BootOutput.Skip(run.BootOutput.Count - block.BootLines));
            }
            else
            {
                if (block.To > run.Exchanges.Count) { error = $"{Path_}:{block.Line}: the run has {run.Exchanges.Count} commands (halt included), not {block.To}"; return null; }
                for (int c = block.From - 1; c < block.To; c++) output.AddRange(run.Exchanges[c].Output);
            }
            at = block.ContentEnd;
        }
        output.AddRange(lines[at..]);
        return string.Join("\n", output);
    }

    /// <summary>The page's text as it is on disk (LF line ends).</summary>
    public string Text => string.Join("\n", lines);
}
