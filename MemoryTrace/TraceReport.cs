using System.Globalization;
using System.Net;
using System.Text;

namespace MemoryTrace;

/// <summary>What one traced run gives a report: its samples, what it printed and the /proc files it ended with.</summary>
public sealed record TraceRun
{
    /// <summary>The run's name: the script or scenario file.</summary>
    public required string Title { get; init; }
    /// <summary>Where it ran: "CosmosKernel 0.1 under QEMU, 256M, --deterministic", "simulator".</summary>
    public required string Machine { get; init; }
    public required IReadOnlyList<Sample> Samples { get; init; }
    /// <summary>Ticks between samples.</summary>
    public required int Every { get; init; }
    /// <summary>Everything the run printed, in order (console text, no frames).</summary>
    public required IReadOnlyList<string> Transcript { get; init; }
    /// <summary>The /proc files at the end, by name (meminfo, vmstat, ...), in the order to show them; a missing one says why.</summary>
    public required IReadOnlyList<(string Name, string Text)> ProcFiles { get; init; }
    /// <summary>Lines about the trace itself (what sampling cost), shown under the plot.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>
/// report.html: one self-contained page (no script, no external file: the plot is inline SVG, the
/// style inline CSS) with the plot, every OOM kill of the run, the transcript and the final /proc files.
/// </summary>
public static class TraceReport
{
    public const string FileName = "report.html";

    public static string Html(TraceRun run, string svg)
    {
        var kills = TracePlot.Kills(run.Samples);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.Append("<title>").Append(E($"memory over time: {run.Title}")).Append("</title>\n");
        h.Append("<style>\n")
         .Append("body { font-family: sans-serif; margin: 2em; max-width: 960px; }\n")
         .Append("pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; font-size: 12px; }\n")
         .Append("table { border-collapse: collapse; } td, th { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }\n")
         .Append("figure { margin: 0; }\n")
         .Append("</style>\n</head>\n<body>\n");
        h.Append("<h1>").Append(E($"Memory over time: {run.Title}")).Append("</h1>\n");
        var first = run.Samples.FirstOrDefault();
        var last = run.Samples.LastOrDefault();
        h.Append("<p id=\"summary\">").Append(E(run.Machine)).Append(": ")
         .Append(run.Samples.Count.ToString(CultureInfo.InvariantCulture)).Append(" samples, one every ")
         .Append(run.Every.ToString(CultureInfo.InvariantCulture)).Append(" tick(s)");
        if (first != null && last != null)
            h.Append(", from ").Append(S(first.Seconds)).Append(" s to ").Append(S(last.Seconds)).Append(" s after boot");
        h.Append("; ").Append(kills.Count.ToString(CultureInfo.InvariantCulture)).Append(" OOM kill(s). ")
         .Append("The data is in trace.csv beside this page.</p>\n");
        h.Append("<figure id=\"plot\">\n").Append(svg.Length > 0 ? svg : "<p>no samples: nothing to plot</p>\n").Append("</figure>\n");
        foreach (var note in run.Notes) h.Append("<p class=\"note\">").Append(E(note)).Append("</p>\n");

        h.Append("<h2>OOM kills</h2>\n");
        if (kills.Count == 0) h.Append("<p id=\"oom-kills\">none: the OOM killer did not run.</p>\n");
        else
        {
            h.Append("<table id=\"oom-kills\">\n<tr><th>seconds</th><th>tick</th><th>pid</th><th>victim</th></tr>\n");
            foreach (var k in kills)
                h.Append("<tr><td>").Append(S(k.Seconds)).Append("</td><td>").Append(k.Tick.ToString(CultureInfo.InvariantCulture))
                 .Append("</td><td>").Append(k.Pid.ToString(CultureInfo.InvariantCulture)).Append("</td><td>").Append(E(k.Comm)).Append("</td></tr>\n");
            h.Append("</table>\n");
        }

        h.Append("<h2>Transcript</h2>\n<pre id=\"transcript\">").Append(E(string.Join("\n", run.Transcript))).Append("</pre>\n");
        h.Append("<h2>Final /proc files</h2>\n");
        foreach (var (name, text) in run.ProcFiles)
            h.Append("<h3>").Append(E(name)).Append("</h3>\n<pre class=\"proc\" id=\"proc-").Append(E(name)).Append("\">").Append(E(text)).Append("</pre>\n");
        h.Append("</body>\n</html>\n");
        return h.ToString();
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
    static string S(double seconds) => seconds.ToString("0.00", CultureInfo.InvariantCulture);
}

/// <summary>Writes a traced run's files into a folder: trace.csv, memory.svg, memory.png and report.html.</summary>
public static class TraceOutput
{
    /// <summary>Writes the four files into <paramref name="folder"/> (made if missing) and returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, TraceRun run)
    {
        Directory.CreateDirectory(folder);
        string csv = Path.Combine(folder, TraceCsv.FileName);
        File.WriteAllText(csv, TraceCsv.Write(run.Samples));
        var written = new List<string> { csv };
        string svg = "";
        if (run.Samples.Count > 0)
        {
            svg = TracePlot.Svg(run.Samples, run.Title);
            string svgPath = Path.Combine(folder, TracePlot.SvgName), pngPath = Path.Combine(folder, TracePlot.PngName);
            File.WriteAllText(svgPath, svg);
            File.WriteAllBytes(pngPath, TracePlot.Png(run.Samples, run.Title));
            written.Add(svgPath);
            written.Add(pngPath);
        }
        string html = Path.Combine(folder, TraceReport.FileName);
        File.WriteAllText(html, TraceReport.Html(run, svg));
        written.Add(html);
        return written;
    }
}
