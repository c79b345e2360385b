using TestRunner.Emulator;
using TestRunner.Build;
using TestRunner.Labs;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// Lab 1 (docs/labs/01-watermarks-and-kswapd.md) replays exactly: its script, run with --deterministic,
/// prints the same bytes every time, and the page shows what such a run prints.
/// </summary>
public class Lab1PageTests
{
    static string PagePath =>
        Path.Combine(KernelLayout.FindRepoRoot(AppContext.BaseDirectory) ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}"),
            "docs", "labs", "01-watermarks-and-kswapd.md");

    static LabPage ReadPage()
    {
        var page = LabPage.Read(PagePath, out var error);
        Assert.True(page != null, error);
        return page!;
    }

    /// <summary>One deterministic run of the page's script, shared by the tests here; its raw serial text beside it.</summary>
    static readonly Lazy<Task<(ScriptResult Run, string Serial)>> FirstRun = new(() => RunAsync(ReadPage()));

    static async Task<(ScriptResult Run, string Serial)> RunAsync(LabPage page)
    {
        var commands = ScriptRun.ParseScript(File.ReadAllText(page.ScriptPath), out var error);
        Assert.Null(error);
        var serial = new StringWriter();
        var run = await KernelImage.ScriptAsync(commands, page.Memory.ToString(), timeoutSeconds: 180, deterministic: true, serialLog: serial);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        return (run, serial.ToString());
    }

    [Fact]
    public async Task Lab_1s_script_run_twice_with_deterministic_prints_byte_identical_serial_output()
    {
        var page = ReadPage();
        var (first, firstSerial) = await FirstRun.Value;
        var (second, secondSerial) = await RunAsync(page);
        // The scenario happened (an OOM kill after kswapd worked), so the equality below is about a run that did something.
        Assert.Contains(first.Exchanges.SelectMany(e => e.Output), line => line.StartsWith("Out of memory: Killed process", StringComparison.Ordinal));
        Assert.Equal(firstSerial, secondSerial);
        Assert.Equal(first.Exchanges.Select(e => e.Command), second.Exchanges.Select(e => e.Command));
    }

    [Fact]
    public async Task Lab_1s_page_shows_exactly_what_a_fresh_deterministic_run_prints()
    {
        var page = ReadPage();
        Assert.True(page.Blocks.Count >= 4, $"the page marks {page.Blocks.Count} generated output blocks");
        var (run, _) = await FirstRun.Value;
        string? rendered = page.Render(run, out var error);
        Assert.True(rendered != null, error);
        if (rendered != page.Text)
        {
            var want = rendered!.Split('\n');
            var have = page.Text.Split('\n');
            int line = Enumerable.Range(0, Math.Min(want.Length, have.Length)).FirstOrDefault(i => want[i] != have[i], Math.Min(want.Length, have.Length));
            Assert.Fail($"docs/labs/01-watermarks-and-kswapd.md drifted from a fresh deterministic run at line {line + 1}:\n" +
                $"  page: {(line < have.Length ? have[line] : "(end)")}\n  run:  {(line < want.Length ? want[line] : "(end)")}\n" +
                "rewrite its output blocks with: dotnet run --project TestRunner -c Release -- lab docs/labs/01-watermarks-and-kswapd.md");
        }
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
