using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Labs;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// The page-allocator seam (MemoryManager.Allocator.FreeLists, docs/plugs.md "The page-allocator
/// seam") and the process layer on any object heap: the image with the page-allocator template
/// (-p:KernelPagePlug, TestRunner's --page-plug), the image with the template heap
/// (-p:KernelHeap=Template) and the image with both each run memhogs past RAM and swap, and
/// kswapd wakes, the OOM killer kills, and the kernel still answers; the page template passes the
/// `mm` suite (its invariant checker included). Lab 2 (docs/labs/02-buddy-page-allocator.md) is the page
/// template's memhog run, and its page shows exactly what that run prints. One boot per image for the
/// memhogs, one for the suite.
/// </summary>
public class PagePlugTests
{
    const string PageTemplate = "CosmosKernel/Plugs/PageAllocatorTemplate/Kernel.Plugs.PageAllocatorTemplate.csproj";

    /// <summary>Two memhogs of 128 MiB at 256 MiB: more than RAM and swap; the last command shows the free lists.</summary>
    static readonly string[] MemhogsPastRam =
        ["run memhog 128M 512", "run memhog 128M 512", "sleep 3000", "kswapd", "ps", "buddyinfo", "mem"];


    /// <summary>The image with <paramref name="heap"/> (null: the default) and the page template, built once per test process.</summary>
    static Task<KernelLayout> ImageAsync(string? heap, bool pageTemplate)
    {
        string root = KernelLayout.FindRepoRoot(AppContext.BaseDirectory)!;
        return KernelImage.RequireLayoutAsync(new KernelLayout(root, KernelImage.Configuration, heap, null, pageTemplate ? Path.Combine(root, PageTemplate) : null));
    }

    static async Task<ScriptResult> MemhogsAsync(KernelLayout layout) =>
        await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = new KernelTarget(layout.IsoPath, BootMedium.Iso, MemorySize.Parse("256M")),
            Timeout = TimeSpan.FromSeconds(300),
            Deterministic = true,
        }, MemhogsPastRam);

    /// <summary>`mem` names the zoned page allocator the heap lent its pages to (managing as many pages as the boot line said) and whose free lists it uses.</summary>
    static void AssertMemShowsThePageAllocatorBeside(ScriptResult run, string heap, string freeLists)
    {
        var lent = Regex.Match(string.Join("\n", run.BootOutput), $@"^page allocator: .*, (\d+) pages lent by the {heap} heap$", RegexOptions.Multiline);
        Assert.True(lent.Success, "no 'page allocator' boot line");
        var mem = Exchange(run, "mem").Output;
        Assert.Contains(mem, line => Regex.IsMatch(line, $@"^page alloc +zoned, beside the '{heap}' heap: \d+ pages \(.+\) lent, {lent.Groups[1].Value} managed$"));
        Assert.Contains(mem, line => line == "free lists    " + freeLists);
        Assert.Contains(mem, line => line.StartsWith("buddy         free "));
    }

    /// <summary>kswapd woke, a memhog was OOM-killed, and every command, the last one included, got its answer.</summary>
    static void AssertReclaimAndOomKillAndAnswers(ScriptResult run)
    {
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string all = string.Join("\n", run.Exchanges.SelectMany(e => e.Output));
        Assert.Matches(@"Out of memory: Killed process \d+ \(memhog\)", all);
        var wakes = Regex.Match(string.Join("\n", Exchange(run, "kswapd").Output), @"^wakes (\d+)", RegexOptions.Multiline);
        Assert.True(wakes.Success && int.Parse(wakes.Groups[1].Value) > 0, "kswapd never woke:\n" + all);
        Assert.Contains(Exchange(run, "buddyinfo").Output, line => line.StartsWith("Node 0, zone    DMA32"));
    }

    /// <summary>The last time the script ran <paramref name="command"/>.</summary>
    static ScriptExchange Exchange(ScriptResult run, string command) => run.Exchanges.Last(e => e.Command == command);

    const string LabPageName = "02-buddy-page-allocator.md";
    static string LabPagePath => LabPageRuns.PagePath(LabPageName);

    /// <summary>Lab 2's script on the page template, as <c>TestRunner lab ... --page-plug</c> runs it (deterministic); shared by the tests here.</summary>
    static readonly Lazy<Task<LabRun>> Lab2Run = new(async () =>
    {
        var page = LabPage.Read(LabPagePath, out var error);
        Assert.True(page != null, error);
        var commands = ScriptRun.ParseScript(File.ReadAllText(page!.ScriptPath), out var scriptError);
        Assert.Null(scriptError);
        var layout = await ImageAsync(null, pageTemplate: true);
        return await LabRun.RunAsync(page, commands, new KernelTarget(layout.IsoPath, BootMedium.Iso, page.Memory), TimeSpan.FromSeconds(300), new StringWriter());
    });

    [Fact]
    public async Task On_the_page_template_memhogs_past_RAM_wake_kswapd_and_meet_the_OOM_killer_and_the_kernel_still_answers()
    {
        var run = (await Lab2Run.Value).Result;
        Assert.Contains(run.BootOutput, line => line.StartsWith("page allocator: template free lists (no merging), "));
        AssertReclaimAndOomKillAndAnswers(run);
        // Never merged: after every page came back, a 2 MiB block cannot be had (lab 2, step 5).
        Assert.Contains(Exchange(run, "alloc 9 nowait").Output, line => line == "alloc: failed (the allocator's report is above)");
    }

    [Fact]
    public async Task Lab_2s_page_shows_exactly_what_a_fresh_deterministic_run_on_the_page_template_prints()
    {
        var page = LabPage.Read(LabPagePath, out var error);
        Assert.True(page != null, error);
        Assert.True(page!.Blocks.Count >= 5, $"the page marks {page.Blocks.Count} generated output blocks");
        var run = await Lab2Run.Value;
        Assert.True(run.Result.ExitCode == RunExitCode.Passed, KernelImage.Describe(run.Result));
        Assert.NotNull(page.Runs[0].TraceName);   // the page names its trace, so the CSV and the plot are checked too
        LabPageRuns.AssertPageIsTheRuns(LabPageName, page, new() { [page.Runs[0].Name] = run }, " --page-plug " + PageTemplate);
    }

    [Fact]
    public async Task On_the_template_heap_processes_run_on_a_page_allocator_the_heap_lends_and_memhogs_meet_kswapd_and_the_OOM_killer()
    {
        var run = await MemhogsAsync(await ImageAsync("template", pageTemplate: false));
        Assert.Contains(run.BootOutput, line => line.StartsWith("heap: template,"));
        Assert.Contains(run.BootOutput, line => Regex.IsMatch(line, @"^page allocator: buddy free lists \(merging buddies\), \d+ pages lent by the template heap$"));
        Assert.DoesNotContain(run.BootOutput, line => line.StartsWith("processes: not available"));
        AssertReclaimAndOomKillAndAnswers(run);
        AssertMemShowsThePageAllocatorBeside(run, "template", "buddy (merging buddies)");
    }

    [Fact]
    public async Task With_the_template_heap_and_the_page_template_together_memhogs_meet_kswapd_and_the_OOM_killer()
    {
        var run = await MemhogsAsync(await ImageAsync("template", pageTemplate: true));
        Assert.Contains(run.BootOutput, line => Regex.IsMatch(line, @"^page allocator: template free lists \(no merging\), \d+ pages lent by the template heap$"));
        AssertReclaimAndOomKillAndAnswers(run);
        AssertMemShowsThePageAllocatorBeside(run, "template", "template (no merging)");
    }

    [Fact]
    public async Task The_page_template_passes_the_mm_suite_and_its_invariant_checker()
    {
        var layout = await ImageAsync(null, pageTemplate: true);
        var run = await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(layout.IsoPath, BootMedium.Iso, MemorySize.Default),
            Suite = "mm",
            Timeout = TimeSpan.FromSeconds(180),
        });
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains(run.AllTests, t => t.Name == "The_invariant_checker_is_green_after_boot" && t.Status == TestStatus.Passed);
        Assert.All(run.AllTests, t => Assert.True(t.Status is TestStatus.Passed or TestStatus.Skipped, $"{t.FullName}: {t.Status} {t.Message}"));
    }
}
