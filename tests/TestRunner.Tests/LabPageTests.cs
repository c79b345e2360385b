using TestRunner.Cli;
using TestRunner.Labs;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>
/// Lab pages (docs/test-runner.md, "Lab pages"): a page names its runs in '<!-- lab: ... -->' lines (the first one the
/// page's own, each further one with ', run NAME' and possibly an image of its own) and its generated blocks in
/// '<!-- output[ RUN]: ... -->' comments; Render puts each run's output into its blocks and leaves the prose alone.
/// </summary>
public class LabPageTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("lab-page-");

    public void Dispose() => folder.Delete(true);

    LabPage? Read(string text, out string? error)
    {
        string path = Path.Combine(folder.FullName, "lab.md");
        File.WriteAllText(path, text);
        return LabPage.Read(path, out error);
    }

    const string TwoRuns =
        "# Lab\n" +
        "<!-- lab: script a.script, memory 128M, trace a -->\n" +
        "<!-- lab: script a.script, memory 128M, trace a-template, run template, oom-plug CosmosKernel/Plugs/OomPolicyTemplate/Kernel.Plugs.OomPolicyTemplate.csproj -->\n" +
        "<!-- lab: script b.script, memory 256M, run student, heap template -->\n" +
        "prose\n" +
        "<!-- output: 1 -->\n```\nold\n```\n" +
        "<!-- output template: 1-2 -->\n```\nold\nold\n```\n" +
        "<!-- output student: boot 1 -->\n```\n```\n" +
        "end\n";

    static ScriptResult Result(string boot, params (string Command, string[] Output)[] exchanges)
    {
        var result = new ScriptResult();
        result.BootOutput.Add(boot);
        foreach (var (command, output) in exchanges)
        {
            var exchange = new ScriptExchange { Command = command };
            exchange.Output.AddRange(output);
            result.Exchanges.Add(exchange);
        }
        return result;
    }

    [Fact]
    public void A_page_of_several_runs_names_each_runs_script_memory_trace_and_image()
    {
        var page = Read(TwoRuns, out var error);
        Assert.True(page != null, error);
        Assert.Equal(["", "template", "student"], page!.Runs.Select(r => r.Name));
        var (own, template, student) = (page.Runs[0], page.Runs[1], page.Runs[2]);
        Assert.False(own.NamesImage);
        Assert.Equal(Path.Combine(folder.FullName, "a.script"), own.ScriptPath);
        Assert.Equal(Path.Combine(folder.FullName, "a.csv"), page.TraceCsvPath);
        Assert.True(template.NamesImage);
        Assert.Equal("CosmosKernel/Plugs/OomPolicyTemplate/Kernel.Plugs.OomPolicyTemplate.csproj", template.OomPlug);
        Assert.Equal(Path.Combine(folder.FullName, "a-template.svg"), page.TraceSvgPathOf(template));
        var layout = template.Layout("/repo", "Release");
        Assert.Equal("/repo/CosmosKernel/Plugs/OomPolicyTemplate/Kernel.Plugs.OomPolicyTemplate.csproj", layout.OomPlug);
        Assert.StartsWith("/repo/artifacts/kernel/Release-oom-kernel.plugs.oompolicytemplate-", layout.OutputDirectory);
        Assert.Equal("template", student.Heap);
        Assert.Equal("/repo/artifacts/kernel/Release-template", student.Layout("/repo", "Release").OutputDirectory);
        Assert.Equal(256, student.Memory.MiB);
        Assert.Null(student.TraceName);
        Assert.Equal(["", "template", "student"], page.Blocks.Select(b => b.RunName));
    }

    [Fact]
    public void Render_puts_each_runs_output_into_the_blocks_that_name_it_and_keeps_the_prose()
    {
        var page = Read(TwoRuns, out var error)!;
        Assert.Null(error);
        var runs = new Dictionary<string, ScriptResult>
        {
            [""] = Result("boot a", ("ps", ["kernel> ps", "own"])),
            ["template"] = Result("boot t", ("ps", ["kernel> ps", "template 1"]), ("halt", ["kernel> halt"])),
            ["student"] = Result("student boot line"),
        };
        string? text = page.Render(runs, out error);
        Assert.True(text != null, error);
        Assert.Equal(
            "# Lab\n" + string.Join("\n", TwoRuns.Split('\n')[1..4]) + "\nprose\n" +
            "<!-- output: 1 -->\n```\nkernel> ps\nown\n```\n" +
            "<!-- output template: 1-2 -->\n```\nkernel> ps\ntemplate 1\nkernel> halt\n```\n" +
            "<!-- output student: boot 1 -->\n```\nstudent boot line\n```\n" +
            "end\n", text);
        runs.Remove("student");
        Assert.Null(page.Render(runs, out error));
        Assert.Contains("no result for run 'student'", error);
    }

    [Fact]
    public void A_drifted_page_is_reported_at_its_first_differing_line_with_both_lines_and_an_unchanged_one_not_at_all()
    {
        var page = Read(TwoRuns, out var error)!;
        Assert.Null(error);
        Assert.Null(page.FirstDifference(page.Text));
        var lines = page.Text.Split('\n');
        lines[4] = "changed prose";
        Assert.Equal($"line 5:\n  page: {page.Text.Split('\n')[4]}\n  run:  changed prose", page.FirstDifference(string.Join("\n", lines)));
        Assert.Equal($"line {lines.Length + 1}:\n  page: (end)\n  run:  one more", page.FirstDifference(page.Text + "\none more"));
    }

    [Fact]
    public async Task The_lab_command_refuses_an_iso_for_a_page_whose_run_boots_a_repository_build_of_its_own()
    {
        using var fake = new FakeEmulator([]);
        File.WriteAllText(Path.Combine(folder.FullName, "a.script"), "ps\n");
        File.WriteAllText(Path.Combine(folder.FullName, "b.script"), "ps\n");
        string page = Path.Combine(folder.FullName, "lab.md");
        File.WriteAllText(page, TwoRuns);
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Entry.RunAsync(["lab", page, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath], output, error, fancy: false);
        Assert.Equal(2, exit);
        Assert.Contains("run 'template' boots a repository build (oom-plug CosmosKernel/Plugs/OomPolicyTemplate/Kernel.Plugs.OomPolicyTemplate.csproj); --iso cannot stand for it",
            output.ToString() + error.ToString());
        Assert.False(fake.Started, "the emulator was started");
        Assert.Equal(TwoRuns, File.ReadAllText(page));   // nothing written
    }

    [Theory]
    [InlineData("<!-- lab: script a.script, memory 128M -->\n<!-- lab: script a.script, memory 128M -->\n", "a second '<!-- lab: ... -->' line without a run name")]
    [InlineData("<!-- lab: script a.script, memory 128M -->\n<!-- lab: script a.script, memory 128M, run x -->\n<!-- lab: script a.script, memory 128M, run x -->\n", "a second run named 'x'")]
    [InlineData("<!-- lab: script a.script, memory 128M, colour red -->\n", "'colour' is not a lab line's item")]
    [InlineData("<!-- lab: script a.script, memory 128M, heap template, heap-plug CosmosKernel/Plugs/X/X.csproj -->\n", "heap and heap-plug cannot be used together")]
    [InlineData("<!-- lab: script a.script, memory 128M, heap myheap -->\n", "'myheap' is not a kernel heap")]
    [InlineData("<!-- lab: script a.script, memory 128M, trace a, trace b -->\n", "'trace' given twice")]
    [InlineData("<!-- lab: script a.script memory 128M -->\n", "use '<!-- lab: script FILE, memory SIZE")]
    [InlineData("<!-- lab: script a.script, memory 128M -->\n<!-- output other: 1 -->\n```\n```\n", "no '<!-- lab: ... -->' line names a run 'other'")]
    [InlineData("<!-- lab: script a.script, memory 128M -->\n<!-- output template 1 -->\n```\n```\n", "use '<!-- output: boot N -->'")]
    public void A_page_whose_lab_lines_or_blocks_do_not_fit_is_refused_naming_the_line(string text, string problem)
    {
        Assert.Null(Read(text, out var error));
        Assert.Contains(problem, error);
        Assert.Matches(@"lab\.md:\d+: ", error);
    }
}
