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
