using System.CommandLine;
using TestRunner.Build;
using TestRunner.Grading;
using TestRunner.Reports;

namespace TestRunner.Cli;

/// <summary><c>grade &lt;folder&gt;</c>: a folder of students' heap plugs, one JUnit file each and a summary table (docs/teaching.md).</summary>
public static class GradeCommand
{
    public const string Usage =
        "usage: TestRunner grade <folder> [--suite heap] [--memory 256M] [--config Release] [--timeout 120] [--out artifacts/grades]";

    public static Command Create(TextWriter output, bool fancy)
    {
        var folder = new Argument<string>("folder") { Description = "One folder per student, each holding one heap plug project (.csproj) and its sources" };
        folder.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && !Directory.Exists(r.Tokens[0].Value)) r.AddError($"<folder>: '{r.Tokens[0].Value}' is not a folder");
        });
        var suite = OptionValues.Suite();
        suite.DefaultValueFactory = _ => "heap";
        var memory = OptionValues.Memory();
        var config = OptionValues.Configuration();
        var timeout = OptionValues.Timeout();
        var outDir = new Option<string?>("--out") { Description = "Folder for <student>.xml (JUnit), <student>.log (serial) and summary.md [default: artifacts/grades]", HelpName = "folder" };
        var command = new Command("grade", "Grade a folder of heap plugs: build each student's image, run the suite (a crash costs one test), " +
            "write one JUnit file per student and a summary table, best first; exit 0 graded, 2 the reference image failed or a bad command line");
        command.Arguments.Add(folder);
        foreach (var o in new Option[] { suite, memory, config, timeout, outDir }) command.Options.Add(o);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            string? root = KernelLayout.FindRepoRoot(Environment.CurrentDirectory);
            if (root == null) { reporter.Error($"no {KernelLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run inside the repository"); return 2; }
            var options = new GradeOptions
            {
                RepoRoot = root,
                Folder = Path.GetFullPath(parse.GetValue(folder)!),
                OutputFolder = Path.GetFullPath(parse.GetValue(outDir) ?? Path.Combine(root, "artifacts", "grades")),
                Suite = parse.GetValue(suite)!,
                Configuration = parse.GetValue(config) ?? "Release",
                Memory = parse.GetValue(memory),
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                Emulator = parse.GetValue(KernelOptions.Qemu) ?? Emulator.QemuCommand.DefaultProgram,
            };
            var report = await Grader.RunAsync(options, reporter.Info, null, cancel);
            if (report.Problem != null) { reporter.Error(report.Problem); return 2; }
            output.WriteLine();
            output.Write(Grader.Summary(report, options));
            reporter.Info($"JUnit files and serial logs: {KernelOptions.Relative(options.OutputFolder)}/<student>.xml, .log; summary: {KernelOptions.Relative(report.SummaryPath)}");
            return cancel.IsCancellationRequested ? (int)Running.RunExitCode.Interrupted : 0;
        });
        return command;
    }
}
