using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>The runner's exit codes (docs/test-runner.md, "Exit codes").</summary>
public enum RunExitCode
{
    /// <summary>Every test passed.</summary>
    Passed = 0,
    /// <summary>At least one test failed (a panic inside a test counts as that test failing).</summary>
    TestsFailed = 1,
    /// <summary>Boot failure, timeout, protocol error, a panic outside any test, an unknown suite, or a usage error.</summary>
    Broken = 2,
    /// <summary>The run was interrupted (Ctrl-C, SIGINT or SIGTERM) and QEMU stopped: 128 + SIGINT, as shells report it.</summary>
    Interrupted = 130,
}

public enum TestStatus { Passed, Failed, Skipped, Error }

/// <summary>One in-kernel test as the runner saw it.</summary>
public sealed class TestResult
{
    public required string Suite { get; init; }
    public required string Name { get; init; }
    public TestStatus Status { get; internal set; }
    /// <summary>The FAIL message, SKIP reason, panic summary or interruption reason; empty on a pass.</summary>
    public string Message { get; internal set; } = "";
    /// <summary>
    /// For an error, what kind: <c>KernelPanic</c> (the kernel panicked while it ran, or before it started), <c>Timeout</c>
    /// (it hung), <c>EmulatorExit</c> (QEMU ended while it ran), <c>NotRun</c> (the run broke before it), <c>RunInterrupted</c>
    /// (a protocol error or an interrupt cut it short). The JUnit &lt;error&gt;'s type.
    /// </summary>
    public string ErrorType { get; internal set; } = "RunInterrupted";
    /// <summary>TSC cycles from the PASS frame.</summary>
    public ulong? Cycles { get; internal set; }
    /// <summary>Host time between the TEST frame and its PASS/FAIL.</summary>
    public TimeSpan Duration { get; internal set; }
    /// <summary>Console text the kernel printed while the test ran.</summary>
    public List<string> Output { get; } = new();
    public List<Metric> Metrics { get; } = new();
    public string FullName => $"{Suite}/{Name}";
}

/// <summary>One in-kernel suite and its tests, in the order they ran.</summary>
public sealed class SuiteResult
{
    public required string Name { get; init; }
    public List<TestResult> Tests { get; } = new();
    public TimeSpan Started { get; internal set; }
    public TimeSpan Duration { get; internal set; }
    public int Passed => Tests.Count(t => t.Status == TestStatus.Passed);
    public int Failed => Tests.Count(t => t.Status == TestStatus.Failed);
    public int Skipped => Tests.Count(t => t.Status == TestStatus.Skipped);
    public int Errors => Tests.Count(t => t.Status == TestStatus.Error);
}

/// <summary>One test of a run's plan (a PLAN frame's entry).</summary>
public sealed record PlannedTest(string Suite, string Name)
{
    public string FullName => $"{Suite}/{Name}";
}

/// <summary>A METRIC frame: a measurement the kernel reported.</summary>
public sealed record Metric(string Name, double Value, string Unit);

/// <summary>
/// What every headless run ends with, a test run (<see cref="RunResult"/>) or a script run
/// (<see cref="ScriptResult"/>): the exit code and why, and what the serial port and QEMU last said.
/// </summary>
public abstract class RunOutcome
{
    /// <summary>How many serial lines are kept for the tail printed when the run breaks.</summary>
    public const int TailLines = 40;

    public RunExitCode ExitCode { get; internal set; }
    /// <summary>Why the run ended as it did, in one sentence (empty on a clean end).</summary>
    public string Reason { get; internal set; } = "";
    /// <summary>The text of the kernel's first READY frame.</summary>
    public string KernelVersion { get; internal set; } = "";
    /// <summary>The PANIC summary, when the kernel panicked.</summary>
    public string? Panic { get; internal set; }
    /// <summary>QEMU's exit status, when it exited by itself.</summary>
    public int? EmulatorStatus { get; internal set; }
    /// <summary>The last <see cref="TailLines"/> lines of the serial log (console text and frames as received).</summary>
    public List<string> SerialTail { get; } = new();
    /// <summary>Host time from QEMU's start to the verdict.</summary>
    public TimeSpan Duration { get; internal set; }

    /// <summary>Sets the verdict.</summary>
    internal void Conclude(RunExitCode code, string reason, TimeSpan at)
    {
        ExitCode = code;
        Reason = reason;
        Duration = at;
    }

    /// <summary>Adds a received line to <see cref="SerialTail"/>, dropping the oldest beyond <see cref="TailLines"/>.</summary>
    internal void AddToTail(string line)
    {
        SerialTail.Add(line);
        if (SerialTail.Count > TailLines) SerialTail.RemoveAt(0);
    }
}

/// <summary>Everything one test run produced, and the exit code it deserves (a clean end: every test passed).</summary>
public sealed class RunResult : RunOutcome
{
    public string RequestedSuite { get; init; } = "all";
    public string Memory { get; init; } = "";
    public List<SuiteResult> Suites { get; } = new();
    /// <summary>Metrics reported outside any test.</summary>
    public List<Metric> Metrics { get; } = new();
    /// <summary>
    /// Every test of the request, in the order the kernel runs them, as its PLAN frames announced them before
    /// any test ran (empty when the run broke before the plan arrived). Once it is known, every planned test
    /// ends up in <see cref="Suites"/>: run, or an error saying why it did not run.
    /// </summary>
    public List<PlannedTest> Plan { get; } = new();
    /// <summary>How many times the kernel was booted: 1, plus one per crash (panic, hang, QEMU exit) inside a test that left tests to run.</summary>
    public int Boots { get; internal set; }
    /// <summary>The suites the kernel listed when it had no suite of the requested name (its NOSUITE frame).</summary>
    public IReadOnlyList<string>? KernelSuites { get; internal set; }
    /// <summary>The END frame's counts (passed, failed, skipped), when it arrived.</summary>
    public (int Passed, int Failed, int Skipped)? End { get; internal set; }
    public List<string> Warnings { get; } = new();
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;

    public IEnumerable<TestResult> AllTests => Suites.SelectMany(s => s.Tests);
    public int Passed => Suites.Sum(s => s.Passed);
    public int Failed => Suites.Sum(s => s.Failed);
    public int Skipped => Suites.Sum(s => s.Skipped);
    public int Errors => Suites.Sum(s => s.Errors);
}

/// <summary>Describes a QEMU exit status in words, using the kernel's isa-debug-exit codes.</summary>
public static class EmulatorStatus
{
    public const int AllPassed = 33, TestsFailed = 35, Panic = 37, KmainReturned = 39;
    /// <summary>QEMU's own status when the guest ended it some other way: an ACPI poweroff, or a reset under -no-reboot.</summary>
    public const int QemuQuit = 0;

    public static string Describe(int status) => status switch
    {
        AllPassed => "33: kernel reported all passed / clean halt",
        TestsFailed => "35: kernel reported failed tests",
        Panic => "37: kernel panic",
        KmainReturned => "39: kmain returned",
        QemuQuit => "0: QEMU quit without the kernel writing isa-debug-exit (an ACPI poweroff, or a triple fault with -no-reboot)",
        1 => "1: QEMU failed (bad option or missing file? see its messages above)",
        _ when status > 128 => $"{status}: QEMU was killed by signal {status - 128}",
        _ when status < 0 => $"{status}: QEMU was killed",
        _ => $"{status}: unexpected QEMU exit status",
    };
}
