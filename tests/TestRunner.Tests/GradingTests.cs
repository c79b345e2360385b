using TestRunner.Build;
using TestRunner.Grading;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>The grading's bookkeeping without a kernel: which folders are submissions, and every planned test in every report.</summary>
public class GradingTests : IDisposable
{
    readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("submissions-");

    public void Dispose() => folder.Delete(true);

    void Make(string relative)
    {
        var path = Path.Combine(folder.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
    }

    [Fact]
    public void Each_folder_is_a_student_with_one_plug_project_and_a_folder_that_cannot_be_graded_says_why()
    {
        Make("alice/Kernel.Plugs.MyHeap.csproj");
        Make("alice/MyHeap.cs");
        Make("bob/notes.txt");
        Make("carol/A.csproj");
        Make("carol/B.csproj");
        Make("dan smith/X.csproj");
        Make(".git/config");
        var found = Grader.FindSubmissions(folder.FullName);
        Assert.Equal(["alice", "bob", "carol", "dan smith"], found.Select(s => s.Student));
        Assert.EndsWith("alice/Kernel.Plugs.MyHeap.csproj", found[0].Project);
        Assert.Equal("no plug project (.csproj) in the folder", found[1].Problem);
        Assert.Equal("2 projects in the folder: hand in one", found[2].Problem);
        Assert.Equal("the folder name 'dan smith' is not a plain word (letters, digits, '-', '_', '.')", found[3].Problem);
    }

    [Fact]
    public void A_result_completed_against_the_plan_reports_every_planned_test_and_says_why_the_missing_ones_did_not_run()
    {
        var state = new TestRunState("heap", "256M", TimeSpan.FromSeconds(10));
        state.Refuse("the image did not build: error CS1002");
        PlannedTest[] plan = [new("heap", "a"), new("heap", "b"), new("mm", "c")];
        Grader.Complete(state.Result, plan);
        Assert.Equal(["heap/a", "heap/b", "mm/c"], state.Result.AllTests.Select(t => t.FullName));
        Assert.All(state.Result.AllTests, t => Assert.Equal((TestStatus.Error, "NotRun", "not run: the image did not build: error CS1002"), (t.Status, t.ErrorType, t.Message)));
        Assert.Equal(plan, state.Result.Plan);
    }
}

/// <summary>
/// The whole grading through the library, fast: a repository whose images are already built (fake ISOs newer than
/// every input, so nothing builds) and a fake QEMU that plays, for each image, the kernel that image would be: the
/// reference and a correct plug pass, an overlapping plug fails the stress, a crashing plug panics in its second test
/// and, booted again, runs the third. The real grading of three real plugs is QemuBoot.Tests' GradingTests.
/// </summary>
public class GradingRunTests : IDisposable
{
    readonly DirectoryInfo root = Directory.CreateTempSubdirectory("grade-repo-");
    readonly string qemu;
    static readonly string[] Tests = ["a", "b", "stress"];

    public GradingRunTests()
    {
        File.WriteAllText(Path.Combine(root.FullName, "Kernel.sln"), "");
        qemu = Path.Combine(root.FullName, "fake-qemu");
        File.WriteAllText(qemu, """
            #!/bin/sh
            iso=""; prev=""
            for a in "$@"; do [ "$prev" = "-cdrom" ] && iso="$a"; prev="$a"; done
            dir=$(dirname "$iso")
            n=$(( $(cat "$dir/boots" 2>/dev/null || echo 0) + 1 )); echo $n > "$dir/boots"
            t="$dir/transcript.$n.txt"
            [ -f "$t" ] || exit 0
            while IFS= read -r line <&3; do
              case "$line" in
                @read) IFS= read -r cmd; printf '%s\n' "$cmd" >> "$dir/input.txt" ;;
                @exit\ *) exit "${line#@exit }" ;;
                *) printf '%s\n' "$line" ;;
              esac
            done 3< "$t"
            exit 0
            """.Replace("\r\n", "\n") + "\n");
        File.SetUnixFileMode(qemu, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => root.Delete(true);

    static string[] Boot(string[] frames) => [Kernel.Ready(), "@read", Kernel.Plan("heap", Tests), .. frames];

    /// <summary>An image that is "built": its ISO is newer than anything, and its boots play <paramref name="boots"/>.</summary>
    void Image(KernelLayout layout, params string[][] boots)
    {
        Directory.CreateDirectory(layout.OutputDirectory);
        File.WriteAllText(layout.IsoPath, "");
        File.SetLastWriteTimeUtc(layout.IsoPath, DateTime.UtcNow.AddDays(1));
        for (int i = 0; i < boots.Length; i++) File.WriteAllLines(Path.Combine(layout.OutputDirectory, $"transcript.{i + 1}.txt"), boots[i]);
    }

    string Submission(string student)
    {
        string dir = Path.Combine(root.FullName, "submissions", student);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, $"Kernel.Plugs.{student}.csproj"), "<Project />");
        File.WriteAllText(Path.Combine(dir, "Heap.cs"), "// a heap");
        return Path.Combine(Grader.StagingFolder(root.FullName, student), $"Kernel.Plugs.{student}.csproj");
    }

    [Fact]
    public async Task Three_plugs_rank_correct_above_overlap_and_crash_and_every_report_holds_the_whole_plan()
    {
        string[] passing = [Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), .. Kernel.Passing("heap", "b"), .. Kernel.Passing("heap", "stress"),
            Kernel.EndSuite("heap", 3, 0), Kernel.End(3, 0, 0), "@exit 33"];
        Image(new KernelLayout(root.FullName, "Release"), Boot(passing));
        Image(new KernelLayout(root.FullName, "Release", null, Submission("correct")), Boot(passing));
        Image(new KernelLayout(root.FullName, "Release", null, Submission("overlap")), Boot([Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"),
            .. Kernel.Passing("heap", "b"), .. Kernel.Failing("heap", "stress", "blocks 0x2a33d0 (64 bytes) and 0x2a33d0 (33 bytes) overlap"),
            Kernel.EndSuite("heap", 2, 1), Kernel.End(2, 1, 0), "@exit 35"]));
        var crashLayout = new KernelLayout(root.FullName, "Release", null, Submission("crash"));
        Image(crashLayout,
            Boot([Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), Kernel.Test("heap", "b"), "PANIC: CPU exception 14 (#PF)", Kernel.Panic("CPU exception 14 (#PF)"), "@exit 37"]),
            Boot([Kernel.Suite("heap"), .. Kernel.Passing("heap", "stress"), Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 0), "@exit 33"]));
        Submission("nothing");
        File.Delete(Path.Combine(root.FullName, "submissions", "nothing", "Kernel.Plugs.nothing.csproj"));

        var options = new GradeOptions
        {
            RepoRoot = root.FullName,
            Folder = Path.Combine(root.FullName, "submissions"),
            OutputFolder = Path.Combine(root.FullName, "grades"),
            Emulator = qemu,
            Timeout = TimeSpan.FromSeconds(20),
        };
        var report = await Grader.RunAsync(options);

        Assert.Null(report.Problem);
        // Equal scores rank by name; a folder without a plug scores 0.
        Assert.Equal(["correct", "crash", "overlap", "nothing"], report.Ranked.Select(g => g.Student));
        var grades = report.Grades.ToDictionary(g => g.Student);
        Assert.True(grades["correct"].Score > grades["overlap"].Score);
        Assert.True(grades["correct"].Score > grades["crash"].Score);
        Assert.Equal(["test heap", "test heap 2"], File.ReadAllLines(Path.Combine(crashLayout.OutputDirectory, "input.txt")));
        foreach (var g in report.Grades)
        {
            Assert.Equal(["heap/a", "heap/b", "heap/stress"], g.Result.AllTests.Select(t => t.FullName));
            Assert.Equal(3, System.Xml.Linq.XDocument.Load(g.JUnitPath).Descendants("testcase").Count(t => (string?)t.Attribute("classname") == "heap"));
        }
        Assert.Equal("not run: no plug project (.csproj) in the folder", grades["nothing"].Result.AllTests.First().Message);
        string summary = File.ReadAllText(report.SummaryPath);
        Assert.Contains("| 1 | correct | 100.0% | 3 | 0 | 0 | 0 | 1 |", summary);
        Assert.Contains("| 2 | crash | 66.7% | 2 | 0 | 1 | 0 | 2 | heap/b: kernel panic: CPU exception 14 (#PF) |", summary);
    }
}
