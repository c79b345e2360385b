using System.Globalization;
using System.Xml.Linq;
using ScottPlot;

namespace MemoryTrace;

/// <summary>
/// memory.svg and memory.png (ScottPlot): one panel per zone, stacked, with free pages as a line,
/// the min, low and high watermarks as lines (pages on a log scale), kswapd's wakes as markers on the free line (at each
/// sample whose wake count grew) and each OOM kill as a vertical line named for its victim; a last
/// panel shows each process's rss (and swap) in MiB. The x axis is seconds since boot in every panel.
/// </summary>
public static class TracePlot
{
    public const string SvgName = "memory.svg", PngName = "memory.png";
    public const int Width = 900, PanelHeight = 300;

    /// <summary>The panels, top to bottom: one per zone in the order they first appear, then the processes.</summary>
    public static List<Plot> Panels(IReadOnlyList<Sample> samples, string title)
    {
        if (samples.Count == 0) throw new ArgumentException("a plot needs at least one sample", nameof(samples));
        double[] xs = samples.Select(s => s.Seconds).ToArray();
        var kills = Kills(samples);
        var panels = new List<Plot>();
        foreach (var key in samples.SelectMany(s => s.Zones.Select(z => z.Key)).Distinct())
        {
            var plot = new Plot();
            var present = samples.Select((s, i) => (s, i, z: s.Zones.FirstOrDefault(z => z.Key == key))).Where(t => t.z != null).ToList();
            double[] x = present.Select(t => xs[t.i]).ToArray();
            // Pages on a log scale: the watermarks are a few hundred pages, free memory tens of thousands.
            Line(plot, x, present.Select(t => Log(t.z!.Free)).ToArray(), "free", Colors.Black, 2, LinePattern.Solid);
            Line(plot, x, present.Select(t => Log(t.z!.High)).ToArray(), "high", Colors.Green, 1.5f, LinePattern.Dashed);
            Line(plot, x, present.Select(t => Log(t.z!.Low)).ToArray(), "low", Colors.Orange, 1.5f, LinePattern.Dashed);
            Line(plot, x, present.Select(t => Log(t.z!.Min)).ToArray(), "min", Colors.Red, 1.5f, LinePattern.Dashed);
            var wakes = present.Where(t => t.i > 0 && samples[t.i].KswapdWakes > samples[t.i - 1].KswapdWakes).ToList();
            if (wakes.Count > 0)
            {
                var m = plot.Add.Markers(wakes.Select(t => xs[t.i]).ToArray(), wakes.Select(t => Log(t.z!.Free)).ToArray(), MarkerShape.FilledTriangleUp, 8, Colors.Blue);
                m.LegendText = "kswapd woken";
            }
            KillLines(plot, kills);
            plot.Title($"node {present[0].z!.Node}, zone {present[0].z!.Zone}: free pages and watermarks");
            plot.XLabel("seconds since boot");
            plot.YLabel("pages (log scale)");
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true,
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
            };
            plot.Axes.Left.TickGenerator = ticks;
            double top = present.Max(t => Math.Max(Log(t.z!.Free), Log(t.z!.Managed)));
            plot.Axes.SetLimitsY(0, Math.Ceiling(top + 0.05));
            plot.ShowLegend(Edge.Right);
            panels.Add(plot);
        }
        var processes = samples.SelectMany(s => s.Processes.Select(p => (p.Pid, p.Comm))).Distinct().ToList();
        if (processes.Count > 0)
        {
            var plot = new Plot();
            var palette = new ScottPlot.Palettes.Category10();
            int k = 0;
            foreach (var (pid, comm) in processes)
            {
                var color = palette.GetColor(k++);
                var present = samples.Select((s, i) => (i, p: s.Processes.FirstOrDefault(p => p.Pid == pid && p.Comm == comm))).Where(t => t.p != null).ToList();
                double[] x = present.Select(t => xs[t.i]).ToArray();
                Line(plot, x, present.Select(t => t.p!.RssKb / 1024.0).ToArray(), $"{comm} {pid} rss", color, 2, LinePattern.Solid);
                if (present.Any(t => t.p!.SwapKb > 0))
                    Line(plot, x, present.Select(t => t.p!.SwapKb / 1024.0).ToArray(), $"{comm} {pid} swap", color, 1.5f, LinePattern.Dotted);
            }
            KillLines(plot, kills);
            plot.Title("processes: rss and swap");
            plot.XLabel("seconds since boot");
            plot.YLabel("MiB");
            plot.ShowLegend(Edge.Right);
            panels.Add(plot);
        }
        // Every panel spans the same time, so a moment lines up from panel to panel.
        double x0 = xs.Min(), x1 = Math.Max(xs.Max(), x0 + 0.01);
        foreach (var p in panels) p.Axes.SetLimitsX(x0, x1);
        if (title.Length > 0) panels[0].Title($"{title}: {panels[0].Axes.Title.Label.Text}");
        return panels;
    }

    /// <summary>Every OOM kill the samples list, in order.</summary>
    public static List<OomKillEvent> Kills(IReadOnlyList<Sample> samples) => samples.SelectMany(s => s.Kills).ToList();

    /// <summary>log10 of a page count, 0 for none.</summary>
    static double Log(long pages) => Math.Log10(Math.Max(1, pages));

    static void Line(Plot plot, double[] x, double[] y, string label, Color color, float width, LinePattern pattern)
    {
        var line = plot.Add.ScatterLine(x, y, color);
        line.LineWidth = width;
        line.LinePattern = pattern;
        line.LegendText = label;
    }

    static void KillLines(Plot plot, List<OomKillEvent> kills)
    {
        for (int i = 0; i < kills.Count; i++)
        {
            var line = plot.Add.VerticalLine(kills[i].Seconds, 1.5f, Colors.Magenta, LinePattern.Solid);
            line.Text = $"OOM kill: {kills[i].Comm} {kills[i].Pid}";
            // Every second kill's name goes above the panel, so that two kills close in time do not hide each other's names.
            line.LabelOppositeAxis = i % 2 == 1;
            if (line.LabelOppositeAxis) line.LabelOffsetY = 24;   // inside the panel, below its title
        }
    }

    /// <summary>The panels as one SVG document: each panel's own SVG, nested at its place in a column.</summary>
    public static string Svg(IReadOnlyList<Sample> samples, string title)
    {
        var panels = Panels(samples, title);
        XNamespace svg = "http://www.w3.org/2000/svg";
        var root = new XElement(svg + "svg",
            new XAttribute("width", Width), new XAttribute("height", PanelHeight * panels.Count),
            new XAttribute("viewBox", $"0 0 {Width} {PanelHeight * panels.Count}"));
        for (int i = 0; i < panels.Count; i++)
        {
            var panel = XElement.Parse(StableIds(panels[i].GetSvgXml(Width, PanelHeight), i));
            panel.SetAttributeValue("x", 0);
            panel.SetAttributeValue("y", (PanelHeight * i).ToString(CultureInfo.InvariantCulture));
            root.Add(panel);
        }
        return root.ToString(SaveOptions.DisableFormatting) + "\n";
    }

    /// <summary>
    /// Skia numbers an SVG's clip paths from a counter that lives as long as the process (cl_13 in one
    /// document, cl_1f in the next); they are renamed p&lt;panel&gt;c&lt;n&gt; in order of appearance, so the
    /// same samples give the same bytes and the ids stay unique across the nested panels.
    /// </summary>
    static string StableIds(string svg, int panel)
    {
        var names = new Dictionary<string, string>();
        return System.Text.RegularExpressions.Regex.Replace(svg, @"\bcl_[0-9a-f]+\b", m =>
        {
            if (!names.TryGetValue(m.Value, out var name)) names[m.Value] = name = $"p{panel}c{names.Count}";
            return name;
        });
    }

    /// <summary>The panels as one PNG image, stacked in the same order.</summary>
    public static byte[] Png(IReadOnlyList<Sample> samples, string title)
    {
        var panels = Panels(samples, title);
        var multiplot = new Multiplot(panels[0]);
        foreach (var p in panels.Skip(1)) multiplot.AddPlot(p);
        string file = Path.Combine(Path.GetTempPath(), $"kt-plot-{Guid.NewGuid():N}.png");
        try
        {
            multiplot.SavePng(file, Width, PanelHeight * panels.Count);
            return File.ReadAllBytes(file);
        }
        finally { File.Delete(file); }
    }
}
