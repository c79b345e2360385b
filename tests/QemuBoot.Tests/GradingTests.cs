using System.Xml.Linq;
using TestRunner.Build;
using TestRunner.Grading;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// A teacher's grading run (docs/teaching.md) over three heap plugs in GradingSubmissions/: a correct one (a copy of
/// the template), one that hands out a block still in use (blocks overlap), and one whose three-page run writes through
/// a wild pointer (a #PF panic). Three image builds and four runs of the heap suite.
/// </summary>
public class GradingTests
{
    [Fact]
    public async Task Grading_ranks_a_correct_plug_above_an_overlapping_one_and_a_crashing_one_with_every_test_accounted_for()
    {
        var reference = await KernelImage.RequireAsync();
        string output = Path.Combine(reference.RepoRoot, "artifacts", "test-results", "grades");
        var options = new GradeOptions
        {
            RepoRoot = reference.RepoRoot,
            Folder = Path.Combine(reference.RepoRoot, "tests", "QemuBoot.Tests", "GradingSubmissions"),
            OutputFolder = output,
            Suite = "heap",
            Configuration = KernelImage.Configuration,
        };
        var report = await KernelImage.WhileNoOtherBuildAsync(() => Grader.RunAsync(options));
        Assert.Null(report.Problem);
        int planned = report.Reference.Plan.Count;
        Assert.True(planned >= 8, $"the heap suite's plan has {planned} tests");

        var grades = report.Grades.ToDictionary(g => g.Student);
        Assert.Equal(["correct", "crash", "overlap"], grades.Keys.Order());
        foreach (var g in report.Grades)
        {
            // Every test of the plan is in the student's report, and in the JUnit file as a test case.
            Assert.Equal(report.Reference.Plan.Select(t => t.FullName), g.Result.AllTests.Select(t => t.FullName));
            Assert.Equal(planned, XDocument.Load(g.JUnitPath).Descendants("testcase").Count());
        }

        var correct = grades["correct"];
        Assert.All(correct.Result.AllTests, t => Assert.Equal(TestStatus.Passed, t.Status));

        var crash = grades["crash"];
        var crashed = Assert.Single(crash.Result.AllTests, t => t.Status == TestStatus.Error);
        Assert.Equal(("heap/Page_runs_are_aligned_zeroed_and_given_back", "KernelPanic"), (crashed.FullName, crashed.ErrorType));
        Assert.Contains("#PF", crashed.Message);
        Assert.Equal(2, crash.Result.Boots);   // the tests after the crash ran in a second boot
        Assert.All(crash.Result.AllTests.SkipWhile(t => t != crashed).Skip(1), t => Assert.Equal(TestStatus.Passed, t.Status));

        var overlap = grades["overlap"];
        var stress = overlap.Result.AllTests.Single(t => t.Name == "A_million_allocations_and_frees_keep_their_contents");
        Assert.Equal(TestStatus.Failed, stress.Status);
        Assert.Matches("blocks 0x[0-9a-f]+ \\([0-9]+ bytes\\) and 0x[0-9a-f]+ \\([0-9]+ bytes\\) overlap", stress.Message);

        Assert.True(correct.Score > overlap.Score, $"correct {correct.Score} must rank above overlap {overlap.Score}");
        Assert.True(correct.Score > crash.Score, $"correct {correct.Score} must rank above crash {crash.Score}");
        Assert.Equal("correct", report.Ranked.First().Student);
        Assert.Contains("| 1 | correct | 100.0% |", File.ReadAllText(report.SummaryPath));
    }
}
