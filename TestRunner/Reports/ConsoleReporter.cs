using System.Globalization;
using Spectre.Console;
using TestRunner.Protocol;
using TestRunner.Running;

namespace TestRunner.Reports;

/// <summary>
/// Shows a run on the console: a line per finished test as it happens, then a results table
/// and a summary. On a terminal it uses Spectre.Console's colours and table; when the output is
/// redirected or CI is set it writes plain, uncoloured text a log file can hold.
/// </summary>
public sealed class ConsoleReporter : IRunObserver, IScriptObserver
{
    readonly bool fancy;
    readonly TextWriter plain;
    readonly bool echoConsole;

    /// <param name="fancy">Spectre.Console colours and tables (a terminal) or plain text.</param>
    /// <param name="plain">Where plain text goes.</param>
    /// <param name="echoConsole">Also show the kernel's console text as it arrives.</param>
    public ConsoleReporter(bool fancy, TextWriter plain, bool echoConsole = false)
    {
        this.fancy = fancy;
        this.plain = plain;
        this.echoConsole = echoConsole;
    }

    /// <summary>True when stdout is a terminal and no CI variable is set.</summary>
    public static bool IsInteractiveTerminal() =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
        && Environment.GetEnvironmentVariable("TERM") != "dumb";

    public void Info(string text)
    {
        if (fancy) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
        else plain.WriteLine(text);
    }

    public void Error(string text)
    {
        if (fancy) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(text)}");
        else plain.WriteLine($"error: {text}");
    }

    void IRunObserver.Ready(string kernelVersion) => Info($"kernel READY: {kernelVersion}");
    void IRunObserver.CommandSent(string command) => Info($"> {command}");
    void IRunObserver.Rebooting(int boot, string command) => Info($"rebooting (boot {boot}) to go on with the tests after the crash: {command}");

    void IRunObserver.SuiteStarted(string suite)
    {
        if (fancy) AnsiConsole.MarkupLine($"[bold]{Markup.Escape(suite)}[/]");
        else plain.WriteLine($"suite {suite}");
    }

    void IRunObserver.TestFinished(TestResult test)
    {
        string mark = test.Status switch
        {
            TestStatus.Passed => "PASS",
            TestStatus.Failed => "FAIL",
            TestStatus.Skipped => "SKIP",
            _ => "ERROR",
        };
        string detail = test.Status == TestStatus.Passed ? Detail(test) : test.Message;
        if (fancy)
        {
            string colour = test.Status switch
            {
                TestStatus.Passed => "green",
                TestStatus.Skipped => "yellow",
                _ => "red",
            };
            AnsiConsole.MarkupLine($"  [{colour}]{mark,-5}[/] {Markup.Escape(test.FullName)} [grey]{Markup.Escape(detail)}[/]");
        }
        else
        {
            plain.WriteLine($"  {mark,-5} {test.FullName}{(detail.Length > 0 ? "  " + detail : "")}");
        }
    }

    void IRunObserver.MetricReported(Metric metric) =>
        Info($"  metric {metric.Name} = {metric.Value.ToString(CultureInfo.InvariantCulture)} {metric.Unit}");

    void IRunObserver.ConsoleLine(string text)
    {
        if (echoConsole) Kernel(text);
    }

    void IScriptObserver.CommandSent(string command)
    {
        if (fancy) AnsiConsole.MarkupLine($"[bold cyan]> {Markup.Escape(command)}[/]");
        else plain.WriteLine($"> {command}");
    }

    void IScriptObserver.ConsoleLine(string text) => Kernel(text);

    void IScriptObserver.FrameReceived(Frame frame)
    {
        if (frame.Kind != FrameKind.Ready && frame.Kind != FrameKind.Sample) Info($"[{frame}]");
    }

    void IScriptObserver.ScreendumpSaved(string path, Screen.RgbImage image) =>
        Info($"screendump before halt: {Cli.KernelOptions.Relative(path)} ({image.Width}x{image.Height})");

    void Kernel(string text)
    {
        if (fancy) AnsiConsole.WriteLine(text);
        else plain.WriteLine(text);
    }

    /// <summary>Prints the results table, the verdict and, for a broken run, the serial tail.</summary>
    public void Summary(RunResult run)
    {
        var tests = run.AllTests.ToList();
        if (fancy && tests.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("Suite").AddColumn("Test").AddColumn("Result").AddColumn(new TableColumn("Time").RightAligned()).AddColumn("Detail");
            foreach (var t in tests)
            {
                string result = t.Status switch
                {
                    TestStatus.Passed => "[green]passed[/]",
                    TestStatus.Failed => "[red]FAILED[/]",
                    TestStatus.Skipped => "[yellow]skipped[/]",
                    _ => "[red]ERROR[/]",
                };
                table.AddRow(Markup.Escape(t.Suite), Markup.Escape(t.Name), result,
                    $"{t.Duration.TotalMilliseconds:0} ms", Markup.Escape(t.Status == TestStatus.Passed ? Detail(t) : t.Message));
            }
            AnsiConsole.Write(table);
        }
        else if (tests.Count > 0)
        {
            int suiteWidth = Math.Max(5, tests.Max(t => t.Suite.Length));
            int testWidth = Math.Max(4, tests.Max(t => t.Name.Length));
            plain.WriteLine();
            plain.WriteLine($"{"SUITE".PadRight(suiteWidth)}  {"TEST".PadRight(testWidth)}  {"RESULT",-7}  {"TIME",8}  DETAIL");
            foreach (var t in tests)
                plain.WriteLine($"{t.Suite.PadRight(suiteWidth)}  {t.Name.PadRight(testWidth)}  {t.Status.ToString().ToLowerInvariant(),-7}  " +
                                $"{t.Duration.TotalMilliseconds,5:0} ms  {(t.Status == TestStatus.Passed ? Detail(t) : t.Message)}");
        }

        foreach (var w in run.Warnings) Info($"warning: {w}");
        string counts = $"{run.Passed} passed, {run.Failed} failed, {run.Skipped} skipped" +
                        (run.Errors > 0 ? $", {run.Errors} error(s)" : "") +
                        (run.Plan.Count > 0 ? $" of {run.Plan.Count} planned" : "") +
                        (run.Boots > 1 ? $" in {run.Boots} boots" : "") +
                        $" in {run.Duration.TotalSeconds:0.0} s (memory {run.Memory}, exit {(int)run.ExitCode})";
        // The kernel's answer to an unknown suite says it all; other breakages need the serial log's story.
        if (run.ExitCode == RunExitCode.Broken && run.KernelSuites == null) BrokenTail(run.Reason, run.SerialTail);
        else if (run.ExitCode is RunExitCode.Broken or RunExitCode.Interrupted) Error(run.Reason);
        if (fancy)
        {
            string colour = run.ExitCode == RunExitCode.Passed ? "green" : "red";
            AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(counts)}[/]");
            if (run.ExitCode == RunExitCode.TestsFailed) AnsiConsole.MarkupLine($"[red]{Markup.Escape(run.Reason)}[/]");
        }
        else
        {
            plain.WriteLine(counts);
            if (run.ExitCode == RunExitCode.TestsFailed) plain.WriteLine(run.Reason);
        }
    }

    /// <summary>Prints a script run's verdict and, when it broke, the serial tail.</summary>
    public void Summary(ScriptResult script)
    {
        if (script.ExitCode == RunExitCode.Passed)
            Info($"script done: {script.Exchanges.Count} command(s) in {script.Duration.TotalSeconds:0.0} s");
        else if (script.ExitCode is RunExitCode.TestsFailed or RunExitCode.Interrupted)
            Error(script.Reason);
        else
            BrokenTail(script.Reason, script.SerialTail);
    }

    void BrokenTail(string reason, IReadOnlyList<string> tail)
    {
        Error(reason);
        if (tail.Count == 0) { Info("(the serial log is empty)"); return; }
        Info($"--- last {tail.Count} line(s) of the serial log ---");
        foreach (var line in tail)
        {
            if (fancy) AnsiConsole.WriteLine(line);
            else plain.WriteLine(line);
        }
        Info("--- end of serial log ---");
    }

    static string Detail(TestResult t) => t.Cycles is ulong c ? $"{c.ToString("N0", CultureInfo.InvariantCulture)} cycles" : "";
}
