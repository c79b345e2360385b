using System.Globalization;
using System.Text;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;

namespace TestRunner.Grading;

/// <summary>One student's folder in the folder being graded: its name and its plug project (or why it has none).</summary>
public sealed record Submission(string Student, string Folder, string? Project, string? Problem);

/// <summary>One student's grade: the run (or why there was none) against the reference plan, and the files written.</summary>
public sealed class Grade
{
    public required string Student { get; init; }
    /// <summary>The run of the student's image, completed against the reference plan (tests that did not run are errors).</summary>
    public required RunResult Result { get; init; }
    public int Planned { get; init; }
    public int Passed => Result.Passed;
    public int Failed => Result.Failed;
    public int Errors => Result.Errors;
    public int Skipped => Result.Skipped;
    /// <summary>Passed tests out of the planned tests that were not skipped (a skip is the machine's, never the student's).</summary>
    public double Score => Planned - Skipped <= 0 ? 0 : (double)Passed / (Planned - Skipped);
    /// <summary>The first failure or error, in plan order: what to look at first.</summary>
    public string FirstProblem =>
        Result.AllTests.FirstOrDefault(t => t.Status is TestStatus.Failed or TestStatus.Error) is TestResult t ? $"{t.FullName}: {t.Message}"
        : Result.ExitCode is RunExitCode.Broken or RunExitCode.Interrupted ? Result.Reason
        : "";
    public string JUnitPath { get; init; } = "";
}

/// <summary>What <see cref="Grader.RunAsync"/> grades and how.</summary>
public sealed record GradeOptions
{
    /// <summary>The repository the images are built in.</summary>
    public required string RepoRoot { get; init; }
    /// <summary>The folder of submissions: one folder per student, each holding one plug project (.csproj) and its sources.</summary>
    public required string Folder { get; init; }
    /// <summary>Where the JUnit files, serial logs and summary go.</summary>
    public required string OutputFolder { get; init; }
    public string Suite { get; init; } = "heap";
    public string Configuration { get; init; } = "Release";
    public MemorySize Memory { get; init; } = MemorySize.Default;
    /// <summary>The time limit of each boot.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    public string Emulator { get; init; } = QemuCommand.DefaultProgram;
}

/// <summary>The grading: the reference run, each student's grade, and the summary table.</summary>
public sealed class GradeReport
{
    public required RunResult Reference { get; init; }
    public List<Grade> Grades { get; } = new();
    /// <summary>Why the grading could not be done (the reference image did not run the suite cleanly), else null.</summary>
    public string? Problem { get; internal set; }
    public string SummaryPath { get; internal set; } = "";

    /// <summary>The grades best first (score, then name).</summary>
    public IEnumerable<Grade> Ranked => Grades.OrderByDescending(g => g.Score).ThenBy(g => g.Student, StringComparer.Ordinal);
}

/// <summary>
/// Grades a folder of heap plugs (docs/teaching.md): builds the default image and runs the suite on it for the
/// reference plan, then for each student stages the plug under CosmosKernel/Plugs/.grade-&lt;student&gt;/ (a plug is
/// compiled as a kernel library there), builds the image with it (TestRunner's --heap-plug), runs the suite with
/// the runner's crash recovery (a crash costs one test), completes the result against the reference plan (a plug
/// that does not build, or an image that does not boot, gets every planned test as an error), and writes
/// &lt;out&gt;/&lt;student&gt;.xml (JUnit), &lt;out&gt;/&lt;student&gt;.log (serial) and &lt;out&gt;/summary.md (the table, best first).
/// </summary>
public static class Grader
{
    /// <summary>Where submissions are staged inside the repository: a dot folder, which the runner's up-to-date check and the kernel's projects ignore.</summary>
    public static string StagingFolder(string repoRoot, string student) => Path.Combine(repoRoot, KernelLayout.PlugRoot, "Plugs", $".grade-{student}");

    /// <summary>The folders of <paramref name="folder"/>, in name order, each with its one .csproj or the reason it cannot be graded.</summary>
    public static IReadOnlyList<Submission> FindSubmissions(string folder)
    {
        var list = new List<Submission>();
        foreach (var dir in Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal))
        {
            string student = Path.GetFileName(dir);
            if (student.StartsWith('.')) continue;
            if (!student.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                list.Add(new Submission(student, dir, null, $"the folder name '{student}' is not a plain word (letters, digits, '-', '_', '.')"));
                continue;
            }
            var projects = Directory.GetFiles(dir, "*.csproj");
            list.Add(projects.Length == 1 ? new Submission(student, dir, projects[0], null)
                : new Submission(student, dir, null, projects.Length == 0 ? "no plug project (.csproj) in the folder" : $"{projects.Length} projects in the folder: hand in one"));
        }
        return list;
    }

    /// <summary>Runs the grading; <paramref name="log"/> gets a line per step. Exceptions only for programming errors.</summary>
    public static async Task<GradeReport> RunAsync(GradeOptions options, Action<string>? log = null, IRunObserver? observer = null, CancellationToken cancel = default)
    {
        log ??= _ => { };
        Directory.CreateDirectory(options.OutputFolder);
        var referenceLayout = new KernelLayout(options.RepoRoot, options.Configuration);
        log($"reference: {referenceLayout.Describe()}, suite {options.Suite}");
        var reference = await BuildAndRunAsync(referenceLayout, options, Path.Combine(options.OutputFolder, "reference.log"), observer, log, cancel);
        var report = new GradeReport { Reference = reference };
        JUnitWriter.Write(reference, Path.Combine(options.OutputFolder, "reference.xml"));
        if (reference.Plan.Count == 0 || reference.ExitCode is RunExitCode.Broken or RunExitCode.Interrupted)
        {
            report.Problem = $"the reference image ({referenceLayout.Describe()}) did not run suite '{options.Suite}' cleanly: {reference.Reason}";
            return report;
        }
        foreach (var s in FindSubmissions(options.Folder))
        {
            if (cancel.IsCancellationRequested) break;
            log($"grading {s.Student}");
            RunResult result;
            if (s.Problem != null) result = NotGraded(options, s.Problem);
            else
            {
                string staged = StagingFolder(options.RepoRoot, s.Student);
                string? copyError = Stage(s.Folder, staged);
                result = copyError != null ? NotGraded(options, copyError)
                    : await BuildAndRunAsync(new KernelLayout(options.RepoRoot, options.Configuration, null, Path.Combine(staged, Path.GetFileName(s.Project!))),
                        options, Path.Combine(options.OutputFolder, $"{s.Student}.log"), observer, log, cancel);
            }
            Complete(result, reference.Plan);
            var grade = new Grade { Student = s.Student, Result = result, Planned = reference.Plan.Count, JUnitPath = Path.Combine(options.OutputFolder, $"{s.Student}.xml") };
            JUnitWriter.Write(result, grade.JUnitPath);
            report.Grades.Add(grade);
            log($"  {s.Student}: {grade.Passed}/{grade.Planned - grade.Skipped} passed ({grade.Failed} failed, {grade.Errors} errors, {grade.Skipped} skipped)");
        }
        report.SummaryPath = Path.Combine(options.OutputFolder, "summary.md");
        File.WriteAllText(report.SummaryPath, Summary(report, options));
        return report;
    }

    static async Task<RunResult> BuildAndRunAsync(KernelLayout layout, GradeOptions options, string logPath, IRunObserver? observer, Action<string> log, CancellationToken cancel)
    {
        if (!KernelBuilder.IsUpToDate(layout))
        {
            log($"  building: {layout.BuildCommand}");
            string? error;
            try { error = await KernelBuilder.BuildAsync(layout, null, cancel); }
            catch (OperationCanceledException) { error = "interrupted while building"; }
            if (error != null) return NotGraded(options, $"the image did not build: {error}");
        }
        using var serial = new StreamWriter(logPath);
        return await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(layout.IsoPath, BootMedium.Iso, options.Memory, options.Emulator, layout),
            Suite = options.Suite,
            Timeout = options.Timeout,
            SerialLog = serial,
            Observer = observer,
        }, cancel);
    }

    /// <summary>A run that never happened: exit 2 with <paramref name="why"/>; <see cref="Complete"/> then adds the plan as errors.</summary>
    static RunResult NotGraded(GradeOptions options, string why)
    {
        var result = new RunResult { RequestedSuite = options.Suite, Memory = options.Memory.ToString() };
        result.Conclude(RunExitCode.Broken, why, TimeSpan.Zero);
        return result;
    }

    /// <summary>Every test of <paramref name="plan"/> that <paramref name="result"/> does not report becomes an error saying why it did not run.</summary>
    public static void Complete(RunResult result, IReadOnlyList<PlannedTest> plan)
    {
        var seen = new HashSet<(string, string)>(result.AllTests.Select(t => (t.Suite, t.Name)));
        foreach (var t in plan)
        {
            if (seen.Contains((t.Suite, t.Name))) continue;
            var suite = result.Suites.FirstOrDefault(s => s.Name == t.Suite);
            if (suite == null) result.Suites.Add(suite = new SuiteResult { Name = t.Suite });
            suite.Tests.Add(new TestResult { Suite = t.Suite, Name = t.Name, Status = TestStatus.Error, ErrorType = "NotRun", Message = $"not run: {result.Reason}" });
        }
        if (result.Plan.Count == 0) result.Plan.AddRange(plan);
    }

    /// <summary>Copies the submission (without bin/ and obj/) to <paramref name="staged"/>, replacing what was there; null, or why it failed.</summary>
    static string? Stage(string from, string staged)
    {
        try
        {
            if (Directory.Exists(staged)) Directory.Delete(staged, true);
            Copy(new DirectoryInfo(from), staged);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot copy the submission to {staged}: {e.Message}";
        }
    }

    static void Copy(DirectoryInfo from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in from.GetFiles()) f.CopyTo(Path.Combine(to, f.Name));
        foreach (var d in from.GetDirectories())
            if (d.Name is not ("bin" or "obj")) Copy(d, Path.Combine(to, d.Name));
    }

    /// <summary>The summary table (Markdown), best first.</summary>
    public static string Summary(GradeReport report, GradeOptions options)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Grades: suite {options.Suite}, {options.Memory}, {report.Reference.Plan.Count} planned tests");
        sb.AppendLine();
        sb.AppendLine($"Reference (the default heap, {KernelLayout.DefaultHeap}): {report.Reference.Passed} passed, {report.Reference.Failed} failed, " +
                      $"{report.Reference.Errors} errors, {report.Reference.Skipped} skipped.");
        sb.AppendLine();
        sb.AppendLine("| rank | student | score | passed | failed | errors | skipped | boots | first problem |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|");
        int rank = 0;
        foreach (var g in report.Ranked)
        {
            rank++;
            string problem = g.FirstProblem.Replace("|", "\\|").Replace("\n", " ");
            if (problem.Length > 160) problem = problem[..157] + "...";
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {rank} | {g.Student} | {g.Score * 100:0.0}% | {g.Passed} | {g.Failed} | {g.Errors} | {g.Skipped} | {g.Result.Boots} | {problem} |"));
        }
        return sb.ToString();
    }
}
