using System.Text.RegularExpressions;
using MemoryTrace;
using Microsoft.Playwright;
using TestRunner.Emulator;
using TestRunner.Build;
using TestRunner.Labs;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// Lab 1 (docs/labs/01-watermarks-and-kswapd.md) replays exactly: its script, run as <c>TestRunner lab</c> runs it
/// (--deterministic, traced: the page names a trace), prints the same bytes and samples the same trace every time,
/// the page shows what such a run prints and its committed CSV holds what such a run samples, and the run's
/// report opens in a browser with its plot and every OOM kill.
/// </summary>
public class Lab1PageTests
{
    const string PageName = "01-watermarks-and-kswapd.md";
    static string PagePath => LabPageRuns.PagePath(PageName);

    static LabPage ReadPage()
    {
        var page = LabPage.Read(PagePath, out var error);
        Assert.True(page != null, error);
        return page!;
    }

    /// <summary>One run of the page's script as the lab command makes it, shared by the tests here; its raw serial text beside it.</summary>
    static readonly Lazy<Task<(LabRun Run, string Serial)>> FirstRun = new(() => RunAsync(ReadPage()));

    static async Task<(LabRun Run, string Serial)> RunAsync(LabPage page)
    {
        var commands = ScriptRun.ParseScript(File.ReadAllText(page.ScriptPath), out var error);
        Assert.Null(error);
        var layout = await KernelImage.RequireAsync();
        var serial = new StringWriter();
        var run = await LabRun.RunAsync(page, commands, new KernelTarget(layout.IsoPath, BootMedium.Iso, page.Memory), TimeSpan.FromSeconds(180), serial);
        Assert.True(run.Result.ExitCode == RunExitCode.Passed, KernelImage.Describe(run.Result));
        return (run, serial.ToString());
    }

    /// <summary>The OOM kills the run's console reported, as (pid, comm): what the report must list.</summary>
    static List<(int Pid, string Comm)> KillsPrinted(ScriptResult run) =>
        run.Exchanges.SelectMany(e => e.Output)
            .Select(line => Regex.Match(line, @"^Out of memory: Killed process (\d+) \((\S+)\)"))
            .Where(m => m.Success).Select(m => (int.Parse(m.Groups[1].Value), m.Groups[2].Value)).ToList();

    [Fact]
    public async Task Lab_1s_script_run_twice_with_deterministic_and_trace_prints_the_same_bytes_and_samples_the_same_trace()
    {
        var page = ReadPage();
        Assert.NotNull(page.TraceName);
        var (first, firstSerial) = await FirstRun.Value;
        var (second, secondSerial) = await RunAsync(page);
        // The scenario happened (an OOM kill after kswapd worked, sampled), so the equalities below are about a run that did something.
        Assert.NotEmpty(KillsPrinted(first.Result));
        Assert.True(first.Trace!.Samples.Count >= 50, $"{first.Trace.Samples.Count} samples");
        Assert.Contains(first.Trace.Samples, s => s.Kills.Count > 0);
        Assert.Equal(firstSerial, secondSerial);
        Assert.Equal(first.Result.Exchanges.Select(e => e.Command), second.Result.Exchanges.Select(e => e.Command));
        Assert.Equal(first.Csv, second.Csv);
        Assert.Equal(first.Svg(page), second.Svg(page));
    }

    [Fact]
    public async Task Lab_1s_page_and_its_trace_CSV_show_exactly_what_a_fresh_deterministic_run_prints_and_samples()
    {
        var page = ReadPage();
        Assert.True(page.Blocks.Count >= 4, $"the page marks {page.Blocks.Count} generated output blocks");
        var (run, _) = await FirstRun.Value;
        Assert.NotNull(page.Runs[0].TraceName);   // the page names its trace, so the CSV and the plot are checked too
        LabPageRuns.AssertPageIsTheRuns(PageName, page, new() { [page.Runs[0].Name] = run });
    }

    [Fact]
    public async Task Lab_1s_report_opens_offline_in_headless_Chromium_without_errors_with_its_plot_and_every_OOM_kill()
    {
        var (run, _) = await FirstRun.Value;
        var layout = await KernelImage.RequireAsync();
        string folder = Path.Combine(layout.RepoRoot, "artifacts", "test-results", "lab1-trace");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        TraceOutput.Write(folder, run.Trace!.ToRun("01-watermarks-and-kswapd.script", "test", run.Result));
        var kills = KillsPrinted(run.Result);
        Assert.NotEmpty(kills);

        var seen = await ReportInBrowser.OpenAsync(Path.Combine(folder, TraceReport.FileName), Path.Combine(layout.RepoRoot, "artifacts", "test-results", "lab1-report.png"));
        Assert.Empty(seen.Errors);
        Assert.Equal([seen.Url], seen.Requests);                 // nothing but the page itself: it opens offline
        Assert.True(seen.PlotWidth > 400 && seen.PlotHeight > 600, $"the plot is {seen.PlotWidth}x{seen.PlotHeight} pixels");
        Assert.Contains("zone DMA32", seen.PlotText);
        Assert.Equal(kills, seen.KillRows);
    }
}

/// <summary>Opens a report in headless Chromium (Debian's, /usr/bin/chromium) through Playwright and says what a reader would see.</summary>
public static class ReportInBrowser
{
    public const string Chromium = "/usr/bin/chromium";

    public sealed record Seen(string Url, List<string> Errors, List<string> Requests, double PlotWidth, double PlotHeight, string PlotText, List<(int Pid, string Comm)> KillRows);

    /// <summary>Loads <paramref name="html"/>, collects console errors, page errors and requests, reads the plot's size and the OOM kill table, and saves a screenshot.</summary>
    public static async Task<Seen> OpenAsync(string html, string screenshot)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} not found: install Debian's chromium package (tools/ensure-deps.sh)");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox"],   // the tests run as root
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1000, Height = 900 } });
        var errors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        page.Request += (_, request) => requests.Add(request.Url);
        string url = new Uri(html).AbsoluteUri;
        await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var plot = page.Locator("#plot > svg");
        Assert.Equal(1, await plot.CountAsync());
        var box = await plot.BoundingBoxAsync();
        string plotText = await plot.TextContentAsync() ?? "";
        var rows = await page.Locator("#oom-kills tr").AllAsync();
        var kills = new List<(int, string)>();
        foreach (var row in rows.Skip(1))
        {
            var cells = await row.Locator("td").AllTextContentsAsync();
            kills.Add((int.Parse(cells[2]), cells[3]));
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        return new Seen(url, errors, requests, box?.Width ?? 0, box?.Height ?? 0, plotText, kills);
    }
}

/// <summary><c>TestRunner test --deterministic</c>: the suite's name reaches the kernel as a boot module, and the run replays exactly.</summary>
public class DeterministicSuiteRunTests
{
    [Fact]
    public async Task A_suite_run_twice_with_deterministic_passes_and_prints_byte_identical_serial_output()
    {
        var first = new StringWriter();
        var second = new StringWriter();
        var a = await KernelImage.RunAsync("acpi", deterministic: true, serialLog: first);
        var b = await KernelImage.RunAsync("acpi", deterministic: true, serialLog: second);
        Assert.True(a.ExitCode == RunExitCode.Passed && a.AllTests.Any(), KernelImage.Describe(a));
        Assert.True(b.ExitCode == RunExitCode.Passed, KernelImage.Describe(b));
        Assert.Contains("kernel> test acpi", first.ToString());
        Assert.Equal(first.ToString(), second.ToString());
    }
}

/// <summary>The kernel's side of the boot-module script: the module's size limit, checked without the runner's own refusal.</summary>
public class ScriptModuleTests
{
    [Fact]
    public async Task A_module_over_4096_bytes_is_refused_whole_and_the_shell_halts()
    {
        var layout = await KernelImage.RequireAsync();
        string module = Path.Combine(Path.GetTempPath(), $"kt-big-module-{Guid.NewGuid():N}");
        // 1400 'ps' lines (4200 bytes): a shell that ran any of them would print a process table.
        await File.WriteAllTextAsync(module, string.Concat(Enumerable.Repeat("ps\n", 1400)));
        try
        {
            var state = new ScriptRunState([], commandsInModule: true);
            Assert.Null(new KernelTarget(layout.ElfPath, BootMedium.Direct, MemorySize.Default).Check(out var emulator));
            await EmulatorSession.RunAsync(state, new EmulatorSessionOptions
            {
                Command = QemuCommand.Headless(emulator, layout.ElfPath, BootMedium.Direct, MemorySize.Default, determinism: new Determinism(module)),
                Timeout = TimeSpan.FromSeconds(60),
            });
            var run = state.Result;
            Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
            Assert.Contains("script module: 4200 bytes, the limit is 4096; nothing of it was run", run.BootOutput);
            Assert.Equal("halt", Assert.Single(run.Exchanges).Command);
            Assert.Equal("kernel> halt", run.Exchanges[0].Output[0]);
        }
        finally { File.Delete(module); }
    }
}
