using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Labs;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// A lab page whose runs are made as <c>TestRunner lab</c> makes them: each run (--deterministic, traced when the page names a
/// trace) on its image, booted once per test process; the page's blocks and trace CSVs must be what the runs print and sample.
/// </summary>
public static class LabPageRuns
{
    static readonly Dictionary<string, Lazy<Task<(LabPage Page, Dictionary<string, LabRun> Runs)>>> Done = new();

    public static string PagePath(string name) =>
        Path.Combine(KernelLayout.FindRepoRoot(AppContext.BaseDirectory) ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}"),
            "docs", "labs", name);

    /// <summary>Every run of the page docs/labs/<paramref name="name"/>, made once per test process.</summary>
    public static Task<(LabPage Page, Dictionary<string, LabRun> Runs)> RunAsync(string name)
    {
        Lazy<Task<(LabPage, Dictionary<string, LabRun>)>> once;
        lock (Done)
            if (!Done.TryGetValue(name, out once!))
                Done[name] = once = new(() => RunPageAsync(PagePath(name)));
        return once.Value;
    }

    static async Task<(LabPage, Dictionary<string, LabRun>)> RunPageAsync(string path)
    {
        var page = LabPage.Read(path, out var error);
        Assert.True(page != null, error);
        var runs = new Dictionary<string, LabRun>();
        foreach (var run in page!.Runs)
        {
            var commands = ScriptRun.ParseScript(File.ReadAllText(run.ScriptPath), out var scriptError);
            Assert.Null(scriptError);
            // The images the lab command boots: the repository's default build, or the run's own (a named heap or an OOM policy plug).
            Assert.True(run.HeapPlug == null, $"run '{run.Name}': a heap-plug run has no image in these tests");
            var layout = run.OomPlug != null ? await KernelImage.RequireOomPlugAsync(run.OomPlug)
                : await KernelImage.RequireAsync(heap: run.Heap);
            Assert.True(run.OomPlug == null || run.Heap == null, $"run '{run.Name}': an OOM plug on a named heap has no image in these tests");
            var result = await LabRun.RunAsync(run, commands, new KernelTarget(layout.IsoPath, BootMedium.Iso, run.Memory), TimeSpan.FromSeconds(300));
            Assert.True(result.Result.ExitCode == RunExitCode.Passed, $"run '{run.Name}': " + KernelImage.Describe(result.Result));
            runs[run.Name] = result;
        }
        return (page, runs);
    }

    /// <summary>
    /// Fails, naming the first line that differs and the command that rewrites the page, unless the page and its trace CSVs are the runs'
    /// (<paramref name="labOptions"/>: what the lab command needs besides the page, e.g. lab 2's --page-plug).
    /// </summary>
    public static void AssertPageIsTheRuns(string name, LabPage page, Dictionary<string, LabRun> runs, string labOptions = "")
    {
        string rewrite = $"rewrite its output blocks and traces with: dotnet run --project TestRunner -c Release -- lab docs/labs/{name}{labOptions}";
        string? rendered = page.Render(runs.ToDictionary(r => r.Key, r => r.Value.Result), out var error);
        Assert.True(rendered != null, error);
        if (page.FirstDifference(rendered!) is string difference)
            Assert.Fail($"docs/labs/{name} drifted from fresh deterministic runs at {difference}\n{rewrite}");
        foreach (var run in page.Runs.Where(r => r.TraceName != null))
        {
            string csv = page.TraceCsvPathOf(run)!, svg = page.TraceSvgPathOf(run)!;
            Assert.True(File.Exists(csv), $"{csv} is missing; {rewrite}");
            Assert.True(File.ReadAllText(csv) == runs[run.Name].Csv, $"{Path.GetFileName(csv)} drifted from a fresh deterministic run; {rewrite}");
            Assert.True(File.Exists(svg), $"{svg} (a plot of the page) is missing; {rewrite}");
            Assert.Contains($"]({Path.GetFileName(svg)})", page.Text);
        }
    }

    /// <summary>The output lines of a run's commands, one text.</summary>
    public static string Printed(LabRun run) => string.Join("\n", run.Result.Exchanges.SelectMany(e => e.Output));

    /// <summary>The OOM kills a run printed, in order: the victims' pids.</summary>
    public static List<int> Victims(LabRun run) =>
        Regex.Matches(Printed(run), @"^Out of memory: Killed process (\d+) ", RegexOptions.Multiline).Select(m => int.Parse(m.Groups[1].Value)).ToList();
}

/// <summary>Lab 3 (docs/labs/03-object-heap.md): the object heap's page shows what its two runs (the slab, the template heap) print.</summary>
public class Lab3PageTests
{
    const string Page = "03-object-heap.md";

    [Fact]
    public async Task Lab_3s_page_shows_exactly_what_fresh_deterministic_runs_on_the_slab_and_on_the_template_heap_print()
    {
        var (page, runs) = await LabPageRuns.RunAsync(Page);
        Assert.Equal(["", "student"], page.Runs.Select(r => r.Name));
        Assert.True(page.Blocks.Count >= 5, $"the page marks {page.Blocks.Count} generated output blocks");
        LabPageRuns.AssertPageIsTheRuns(Page, page, runs);
    }

    [Fact]
    public async Task Lab_3s_runs_show_the_size_classes_its_prose_and_questions_are_about()
    {
        var (_, runs) = await LabPageRuns.RunAsync(Page);
        string slab = LabPageRuns.Printed(runs[""]), template = LabPageRuns.Printed(runs["student"]);
        // The slab: the smallest kmalloc cache at least as big as the request (step 3).
        Assert.Contains("kmalloc 100 x 500 from the buddy heap: asked 50000 bytes, in use +64000 bytes (128 per block)", slab);
        Assert.Contains("kmalloc 129 x 300 from the buddy heap: asked 38700 bytes, in use +57600 bytes (192 per block)", slab);
        Assert.Contains("kmalloc 5000 x 10 from the buddy heap: asked 50000 bytes, in use +81920 bytes (8192 per block)", slab);
        Assert.Contains("kmalloc free: 850 blocks given back to the buddy heap", slab);
        Assert.Matches(@"object heap 'buddy': TSC cycles per call", slab);
        // The template (the RAT): power-of-two slots, whole pages for a large block whose BytesInUse is the bytes asked (step 6, question 6).
        Assert.Contains("kmalloc 129 x 300 from the template heap: asked 38700 bytes, in use +76800 bytes (256 per block)", template);
        Assert.Matches(@"kmalloc 5000 x 10 from the template heap: asked 50000 bytes, in use \+50000 bytes \(5000 per block\)\n  heap pages used \+20,", template);
        // The template is the kernel's heap; the buddy beside it is the guest page allocator it lends pages to for
        // processes, whose slab serves no kernel object (the prose after step 6).
        string slabinfo = template[template.IndexOf("kernel> slabinfo", StringComparison.Ordinal)..];
        Assert.Matches(@"kmalloc-128 +0 +0 +128 ", slabinfo);
        Assert.Matches(@"kmalloc-192 +0 +0 +192 ", slabinfo);
        Assert.Matches(@"heap +template, \d+ pages \(\d+ MiB\), free \d+, used \d+", template);
    }
}

/// <summary>Lab 4 (docs/labs/04-oom-policy.md): the OOM policy page shows what its two runs (oom_badness, the template policy) print and sample.</summary>
public class Lab4PageTests
{
    const string Page = "04-oom-policy.md";

    [Fact]
    public async Task Lab_4s_page_and_traces_show_exactly_what_fresh_deterministic_runs_under_both_policies_print_and_sample()
    {
        var (page, runs) = await LabPageRuns.RunAsync(Page);
        Assert.Equal(["", "template"], page.Runs.Select(r => r.Name));
        Assert.NotNull(page.Runs[1].OomPlug);
        LabPageRuns.AssertPageIsTheRuns(Page, page, runs);
    }

    [Fact]
    public async Task Under_oom_badness_the_adj_800_memhog_dies_first_and_under_the_template_the_biggest_resident_one()
    {
        var (_, runs) = await LabPageRuns.RunAsync(Page);
        Assert.Contains("oom policy: oom_badness", runs[""].Result.BootOutput);
        Assert.Contains("oom policy: template: resident pages", runs["template"].Result.BootOutput);
        // The script: idle pid 3 (adj -1000), memhogs pid 4 (40 MiB), pid 5 (24 MiB, adj 800), pid 6 (96 MiB).
        Assert.Equal([5, 6], LabPageRuns.Victims(runs[""]));
        Assert.Equal([4, 6], LabPageRuns.Victims(runs["template"]));
        foreach (var run in runs.Values)
        {
            Assert.Contains("oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged", LabPageRuns.Printed(run));
            Assert.Equal(2, run.Trace!.Samples.Sum(s => s.Kills.Count));   // both kills are in the trace, so on the plot
        }
    }
}
