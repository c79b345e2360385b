using System.Xml.Linq;
using MemoryTrace;
using TestRunner.Protocol;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>SAMPLE frames (docs/memory-trace.md) and what the runner makes of them: trace.csv, the plot, the report.</summary>
public class MemoryTraceTests
{
    /// <summary>A payload as the kernel wrote it in lab 1's run (tick 214: the sample that lists the OOM kill).</summary>
    const string KernelPayload = "214/100\t0 DMA 254 15 18 22 1939 0;0 DMA32 32405 487 608 730 61407 5\t0 napping\t18016 3008 13375 2687 85 1 15104 60\t3 idle 0 8192;5 memhog 56320 52224\t209 4 memhog";

    static string Frame(string payload) => $"#KT1 SAMPLE {System.Text.Encoding.UTF8.GetByteCount(payload)} {payload}";

    static Sample Parse(string payload)
    {
        var sample = Sample.Parse(payload, out var error);
        Assert.True(sample != null, error);
        return sample!;
    }

    /// <summary>A sample at <paramref name="tick"/> with the given zones (node, zone, free) and optional kills.</summary>
    static Sample Make(long tick, (int Node, string Zone, long Free)[] zones, long wakes = 0, string processes = "3 idle 8192 0", string kills = "")
    {
        string z = string.Join(";", zones.Select(x => $"{x.Node} {x.Zone} {x.Free} 10 12 15 1000 0"));
        string nodes = string.Join(";", zones.Select(x => x.Node).Distinct().Select(n => $"{n} sleeping"));
        return Parse($"{tick}/100\t{z}\t{nodes}\t0 0 0 0 0 0 0 {wakes}\t{processes}\t{kills}");
    }

    [Fact]
    public void A_SAMPLE_frame_is_a_frame_of_its_own_kind_with_six_fields()
    {
        var result = FrameParser.Parse(Frame(KernelPayload));
        Assert.True(result.IsOk, result.ErrorMessage);
        Assert.Equal(FrameKind.Sample, result.Frame!.Kind);
        Assert.Equal(6, result.Frame.Fields.Count);
    }

    [Fact]
    public void A_sample_carries_zones_kswapd_counters_processes_and_the_kills_since_the_last_one()
    {
        var s = Parse(KernelPayload);
        Assert.Equal(214, s.Tick);
        Assert.Equal(2.14, s.Seconds, 6);
        Assert.Equal([new ZoneSample(0, "DMA", 254, 15, 18, 22, 1939, 0), new ZoneSample(0, "DMA32", 32405, 487, 608, 730, 61407, 5)], s.Zones);
        Assert.Equal((0, "napping"), Assert.Single(s.Nodes));
        Assert.Equal((18016L, 3008L, 13375L, 2687L, 85L, 1L, 15104L, 60L),
            (s.PgscanKswapd, s.PgscanDirect, s.PgstealKswapd, s.PgstealDirect, s.Allocstall, s.OomKill, s.SwapUsed, s.KswapdWakes));
        Assert.Equal([new ProcessSample(3, "idle", 0, 8192), new ProcessSample(5, "memhog", 56320, 52224)], s.Processes);
        Assert.Equal(new OomKillEvent(209, 4, "memhog", 100), Assert.Single(s.Kills));
    }

    [Theory]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 0 0 0 0\t", "expected 6 TAB-separated fields but found 5")]
    [InlineData("1\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 0 0 0 0\t\t", "clock '1' is not tick/hz")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5\t0 sleeping\t0 0 0 0 0 0 0 0\t\t", "zone '0 DMA 1 2 3 4 5' is not 'nid zone free min low high managed pcp'")]
    [InlineData("1/100\t\t0 sleeping\t0 0 0 0 0 0 0 0\t\t", "a sample has no zones")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 dozing\t0 0 0 0 0 0 0 0\t\t", "node '0 dozing' is not 'nid sleeping|running|napping'")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 0 0 0\t\t", "counters '0 0 0 0 0 0 0' are not 8 unsigned numbers")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 -1 0 0 0\t\t", "counters '0 0 0 0 -1 0 0 0' are not 8 unsigned numbers")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 0 0 0 0\t3 my prog 1 2\t", "process '3 my prog 1 2' is not 'pid comm rss_kb swap_kb'")]
    [InlineData("1/100\t0 DMA 1 2 3 4 5 6\t0 sleeping\t0 0 0 0 0 0 0 0\t\t7 memhog", "kill '7 memhog' is not 'tick pid comm'")]
    public void A_malformed_sample_is_a_protocol_error_that_says_what_is_wrong(string payload, string message)
    {
        var result = FrameParser.Parse(Frame(payload));
        Assert.False(result.IsOk);
        Assert.StartsWith($"malformed SAMPLE payload: {message}", result.ErrorMessage);
    }

    [Fact]
    public void The_CSV_has_columns_per_node_and_zone_so_a_second_node_adds_columns_and_nothing_else()
    {
        var one = TraceCsv.Write([Make(5, [(0, "DMA", 100), (0, "DMA32", 2000)])]);
        var two = TraceCsv.Write([Make(5, [(0, "DMA", 100), (0, "DMA32", 2000), (1, "Normal", 3000)])]);
        var oneHeader = one.Split('\n')[0].Split(',');
        var twoHeader = two.Split('\n')[0].Split(',');
        Assert.Equal(["node1_Normal_free", "node1_Normal_min", "node1_Normal_low", "node1_Normal_high", "node1_Normal_managed", "node1_Normal_pcp", "node1_kswapd"],
            twoHeader.Except(oneHeader));
        Assert.Empty(oneHeader.Except(twoHeader));
        Assert.Equal("5,0.050,100,10,12,15,1000,0,2000,10,12,15,1000,0,sleeping,0,0,0,0,0,0,0,0,,8192,0", one.Split('\n')[1]);
    }

    [Fact]
    public void The_CSV_lists_each_OOM_kill_in_its_row_and_leaves_a_process_empty_where_it_did_not_exist()
    {
        var csv = TraceCsv.Write([
            Make(5, [(0, "DMA32", 2000)], processes: "3 idle 8192 0;4 memhog 100 0"),
            Make(10, [(0, "DMA32", 9000)], processes: "3 idle 8192 0", kills: "8 4 memhog"),
        ]).Split('\n');
        Assert.EndsWith(",oom_kills,pid3_idle_rss_kb,pid3_idle_swap_kb,pid4_memhog_rss_kb,pid4_memhog_swap_kb", csv[0]);
        Assert.EndsWith(",,8192,0,100,0", csv[1]);
        Assert.EndsWith(",4:memhog,8192,0,,", csv[2]);
    }

    [Fact]
    public void The_same_samples_give_the_same_CSV_and_SVG_bytes()
    {
        Sample[] samples = [Make(5, [(0, "DMA32", 2000)]), Make(10, [(0, "DMA32", 20)], wakes: 1, kills: "9 3 idle")];
        Assert.Equal(TraceCsv.Write(samples), TraceCsv.Write(samples));
        Assert.Equal(TracePlot.Svg(samples, "t"), TracePlot.Svg(samples, "t"));
    }

    [Fact]
    public void The_plot_has_a_panel_per_zone_and_one_for_the_processes_in_one_SVG()
    {
        Sample[] samples = [Make(5, [(0, "DMA", 100), (0, "DMA32", 2000)]), Make(10, [(0, "DMA", 90), (0, "DMA32", 20)], wakes: 1, kills: "9 3 idle")];
        var svg = XElement.Parse(TracePlot.Svg(samples, "lab"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var panels = svg.Elements(ns + "svg").ToList();
        Assert.Equal(3, panels.Count);
        Assert.Equal(["0", "300", "600"], panels.Select(p => (string)p.Attribute("y")!));
        string text = string.Concat(svg.Descendants(ns + "text").Select(t => t.Value));
        Assert.Contains("zone DMA32", text);
        Assert.Contains("OOM kill: idle 3", text);
        var png = TracePlot.Png(samples, "lab");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public void Two_OOM_kills_close_in_time_have_their_names_at_different_heights_so_neither_hides_the_other()
    {
        Sample[] samples = [Make(5, [(0, "DMA32", 2000)]), Make(10, [(0, "DMA32", 20)], kills: "9 4 memhog"), Make(15, [(0, "DMA32", 30)], kills: "11 6 memhog"),
            Make(300, [(0, "DMA32", 3000)])];
        var svg = XElement.Parse(TracePlot.Svg(samples, "lab"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var firstPanel = svg.Elements(ns + "svg").First();
        double Height(string label) =>
            firstPanel.Descendants(ns + "text").Where(t => t.Value.Contains(label))
                .Select(t => double.Parse(System.Text.RegularExpressions.Regex.Match((string)t.Attribute("transform")!, @"translate\(\S+ (\S+)\)").Groups[1].Value,
                    System.Globalization.CultureInfo.InvariantCulture)).Single();
        Assert.True(Math.Abs(Height("OOM kill: memhog 4") - Height("OOM kill: memhog 6")) > 20,
            $"the two kill names are at {Height("OOM kill: memhog 4")} and {Height("OOM kill: memhog 6")}");
    }

    [Fact]
    public void The_report_is_one_page_with_no_script_and_no_outside_file_that_lists_every_kill()
    {
        Sample[] samples = [Make(5, [(0, "DMA32", 2000)], kills: "3 4 memhog;4 6 writer"), Make(10, [(0, "DMA32", 20)], kills: "9 7 memhog")];
        var run = new TraceRun
        {
            Title = "t.script", Machine = "test", Samples = samples, Every = 5,
            Transcript = ["kernel> ps", "<b>not markup</b>"], ProcFiles = [("meminfo", "MemTotal: 1 kB")],
        };
        string html = TraceReport.Html(run, TracePlot.Svg(samples, "t"));
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain(" src=", html);
        Assert.DoesNotContain(" href=", html);
        Assert.Contains("&lt;b&gt;not markup&lt;/b&gt;", html);
        Assert.Contains("<tr><td>0.03</td><td>3</td><td>4</td><td>memhog</td></tr>", html);
        Assert.Contains("<tr><td>0.04</td><td>4</td><td>6</td><td>writer</td></tr>", html);
        Assert.Contains("<tr><td>0.09</td><td>9</td><td>7</td><td>memhog</td></tr>", html);
        Assert.Contains("<pre class=\"proc\" id=\"proc-meminfo\">MemTotal: 1 kB</pre>", html);
    }

    [Fact]
    public void A_traced_scripts_prelude_and_postlude_are_taken_out_of_its_exchanges()
    {
        var state = new ScriptRunState(ScriptTrace.Commands(["ps"]));
        var at = TimeSpan.Zero;
        string? Send(string line) => state.OnSerial(line.StartsWith("#KT1 ") ? new FrameReceived(FrameParser.Parse(line).Frame!) : new ConsoleLine(line), at);
        Assert.Equal("trace 5", Send("#KT1 READY 3 0.1"));
        Send("kernel> trace 5");
        Assert.Equal("ps", Send("#KT1 READY 3 0.1"));
        Send("kernel> ps");
        Send(Frame("5/100\t0 DMA32 2000 10 12 15 1000 0\t0 sleeping\t0 0 0 0 0 0 0 0\t\t"));
        foreach (var command in ScriptTrace.Postlude)
        {
            Assert.Equal(command, Send("#KT1 READY 3 0.1"));
            Send($"kernel> {command}");
            if (command == "trace off") { Send("trace: off"); Send("trace: off, 1 sample(s) (0 missed, 0 dropped), 130 bytes sent"); }
            if (command == "meminfo") Send("MemTotal: 1 kB");
        }
        Assert.Equal("halt", Send("#KT1 READY 3 0.1"));
        var trace = ScriptTrace.Split(state.Result, 1);
        Assert.Equal(["ps", "halt"], state.Result.Exchanges.Select(e => e.Command));
        Assert.Single(trace.Samples);
        Assert.Equal(["trace: off, 1 sample(s) (0 missed, 0 dropped), 130 bytes sent"], trace.Cost);
        Assert.Equal(("meminfo", "MemTotal: 1 kB"), trace.Files[0]);
        Assert.Equal(ScriptTrace.ProcFiles, trace.Files.Select(f => f.Name));
    }
}
