using System.Globalization;
using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>
/// The test run as a state machine, free of processes and clocks so it can be tested line by
/// line: boot (waiting for READY) → running (after <c>test &lt;suite&gt;</c> is sent) → after END
/// (waiting for QEMU to exit) → finished. Every frame is checked against the order the contract
/// allows; anything else is a protocol error and ends the run with exit 2.
/// <see cref="EmulatorSession"/> drives it.
/// </summary>
public sealed class TestRunState : IRunStateMachine
{
    public enum Phase { WaitingForReady, Running, AfterEnd, Finished }

    readonly IRunObserver observer;
    readonly TimeSpan timeout;
    readonly bool commandInModule;
    SuiteResult? openSuite;
    TestResult? runningTest;
    TimeSpan testStarted;

    /// <param name="commandInModule">The kernel reads <c>test &lt;suite&gt;</c> itself from a boot module (--deterministic): at READY nothing is sent.</param>
    public TestRunState(string suite, string memory, TimeSpan timeout, IRunObserver? observer = null, bool commandInModule = false)
    {
        this.commandInModule = commandInModule;
        this.timeout = timeout;
        this.observer = observer ?? NullObserver.Instance;
        Result = new RunResult { RequestedSuite = suite, Memory = memory };
        Command = $"test {suite}";
    }

    public Phase Current { get; private set; } = Phase.WaitingForReady;
    public RunResult Result { get; }
    public bool IsFinished => Current == Phase.Finished;
    /// <summary>After END: every result is in, only QEMU's exit is missing.</summary>
    public bool AwaitsExit => Current == Phase.AfterEnd;
    /// <summary>The command line sent once the kernel is READY.</summary>
    public string Command { get; }

    /// <summary>Handles one serial event at host time <paramref name="at"/>; returns a line to send to the kernel, or null.</summary>
    public string? OnSerial(SerialEvent e, TimeSpan at)
    {
        if (Current == Phase.Finished) return null;
        switch (e)
        {
            case ConsoleLine line:
                Result.AddToTail(line.Text);
                runningTest?.Output.Add(line.Text);
                observer.ConsoleLine(line.Text);
                return null;
            case CorruptFrame bad:
                Result.AddToTail(bad.Line);
                string where = Where();
                MarkRunningTest(TestStatus.Error, "interrupted by a corrupted frame", at);
                Finish(RunExitCode.Broken, $"protocol error: corrupted frame{where} ({bad.Message}): {bad.Line}", at);
                return null;
            case FrameReceived { Frame: var frame }:
                Result.AddToTail(FrameParser.Format(frame.Kind, frame.Fields.ToArray()));
                observer.FrameReceived(frame);
                return OnFrame(frame, at);
            default:
                throw new ArgumentException($"unknown serial event {e}");
        }
    }

    /// <summary>Handles QEMU's exit with the given status.</summary>
    public void OnEmulatorExited(int status, TimeSpan at)
    {
        if (Current == Phase.Finished) { Result.EmulatorStatus ??= status; return; }
        Result.EmulatorStatus = status;
        switch (Current)
        {
            case Phase.WaitingForReady:
                Finish(RunExitCode.Broken,
                    $"boot failure: QEMU exited (status {EmulatorStatus.Describe(status)}) before the kernel was READY", at);
                break;
            case Phase.Running:
                string where = Where();
                MarkRunningTest(TestStatus.Error, $"QEMU exited (status {status}) while this test ran", at);
                Finish(RunExitCode.Broken,
                    $"QEMU exited (status {EmulatorStatus.Describe(status)}) before the END frame{where}", at);
                break;
            case Phase.AfterEnd:
                int expected = Result.Failed > 0 ? EmulatorStatus.TestsFailed : EmulatorStatus.AllPassed;
                if (status != expected)
                {
                    Finish(RunExitCode.Broken,
                        $"the kernel sent END but QEMU's exit status was {EmulatorStatus.Describe(status)} (expected {expected})", at);
                    return;
                }
                Finish(Result.Failed > 0 ? RunExitCode.TestsFailed : RunExitCode.Passed,
                    Result.Failed > 0 ? $"{Result.Failed} test(s) failed" : "", at);
                break;
        }
    }

    /// <summary>Handles the host-side time limit running out.</summary>
    public void OnTimeout(TimeSpan at)
    {
        switch (Current)
        {
            case Phase.WaitingForReady:
                Finish(RunExitCode.Broken, $"timeout: no READY frame from the kernel within {Seconds(timeout)}", at);
                break;
            case Phase.Running:
                string where = Where();
                MarkRunningTest(TestStatus.Error, $"timed out after {Seconds(timeout)}", at);
                Finish(RunExitCode.Broken, $"timeout: no END frame within {Seconds(timeout)}{where}", at);
                break;
            case Phase.AfterEnd:
                // Every result is in; only QEMU's exit is missing. Keep the verdict, say what happened.
                Result.Warnings.Add("QEMU did not exit after the END frame; the runner stopped it");
                Finish(Result.Failed > 0 ? RunExitCode.TestsFailed : RunExitCode.Passed,
                    Result.Failed > 0 ? $"{Result.Failed} test(s) failed" : "", at);
                break;
        }
    }

    /// <summary>Handles an interrupt (Ctrl-C, SIGINT, SIGTERM): exit 130, the running test marked interrupted.</summary>
    public void OnInterrupted(TimeSpan at)
    {
        if (Current == Phase.Finished) return;
        string where = Where();
        MarkRunningTest(TestStatus.Error, "interrupted", at);
        Finish(RunExitCode.Interrupted, $"interrupted{where}: QEMU was stopped", at);
    }

    /// <summary>Ends the run before it starts (a bad suite name, no image, QEMU cannot start): exit 2 with <paramref name="reason"/>.</summary>
    public void Refuse(string reason) => Finish(RunExitCode.Broken, reason, TimeSpan.Zero);

    string? OnFrame(Frame f, TimeSpan at)
    {
        if (Current == Phase.WaitingForReady)
        {
            if (f.Kind == FrameKind.Ready)
            {
                Result.KernelVersion = f.Text;
                Current = Phase.Running;
                observer.Ready(f.Text);
                observer.CommandSent(Command);
                return commandInModule ? null : Command;
            }
            if (f.Kind == FrameKind.Panic)
                return Broken($"boot failure: kernel panic before READY: {f.Text}", f, at);
            return ProtocolError($"{Word(f)} frame before READY", at);
        }

        if (Current == Phase.AfterEnd)
        {
            if (f.Kind == FrameKind.Panic)
                return Broken($"kernel panic after END: {f.Text}", f, at);
            if (f.Kind == FrameKind.Metric) { AddMetric(f); return null; }
            return ProtocolError($"{Word(f)} frame after END", at);
        }

        switch (f.Kind)
        {
            case FrameKind.Ready:
                return ProtocolError("READY frame while tests run (the kernel went back to its shell before END)", at);
            case FrameKind.Suite:
                if (openSuite != null)
                    return ProtocolError($"SUITE '{f.Suite}' while suite '{openSuite.Name}' is still open", at);
                openSuite = new SuiteResult { Name = f.Suite, Started = at };
                Result.Suites.Add(openSuite);
                observer.SuiteStarted(f.Suite);
                return null;
            case FrameKind.Test:
                if (openSuite == null || openSuite.Name != f.Suite)
                    return ProtocolError($"TEST '{f.Suite}/{f.Test}' outside its suite{OpenSuiteNote()}", at);
                if (runningTest != null)
                    return ProtocolError($"TEST '{f.Suite}/{f.Test}' before test '{runningTest.FullName}' reported PASS or FAIL", at);
                runningTest = new TestResult { Suite = f.Suite, Name = f.Test };
                testStarted = at;
                openSuite.Tests.Add(runningTest);
                observer.TestStarted(f.Suite, f.Test);
                return null;
            case FrameKind.Pass:
            case FrameKind.Fail:
                if (runningTest == null || runningTest.Suite != f.Suite || runningTest.Name != f.Test)
                    return ProtocolError($"{Word(f)} for '{f.Suite}/{f.Test}' which is not the running test" +
                        (runningTest == null ? " (no test is running)" : $" ('{runningTest.FullName}')"), at);
                if (f.Kind == FrameKind.Pass) runningTest.Cycles = f.Cycles;
                else runningTest.Message = f.Message;
                FinishTest(f.Kind == FrameKind.Pass ? TestStatus.Passed : TestStatus.Failed, at);
                return null;
            case FrameKind.Skip:
                if (openSuite == null || openSuite.Name != f.Suite)
                    return ProtocolError($"SKIP '{f.Suite}/{f.Test}' outside its suite{OpenSuiteNote()}", at);
                if (runningTest != null && (runningTest.Suite != f.Suite || runningTest.Name != f.Test))
                    return ProtocolError($"SKIP '{f.Suite}/{f.Test}' while test '{runningTest.FullName}' runs", at);
                if (runningTest == null)
                {
                    runningTest = new TestResult { Suite = f.Suite, Name = f.Test };
                    testStarted = at;
                    openSuite.Tests.Add(runningTest);
                }
                runningTest.Message = f.Message;
                FinishTest(TestStatus.Skipped, at);
                return null;
            case FrameKind.EndSuite:
                if (openSuite == null || openSuite.Name != f.Suite)
                    return ProtocolError($"ENDSUITE '{f.Suite}' for a suite that is not open{OpenSuiteNote()}", at);
                if (runningTest != null)
                    return ProtocolError($"ENDSUITE '{f.Suite}' while test '{runningTest.FullName}' runs", at);
                var (p, fl) = (Count(f.Fields[1]), Count(f.Fields[2]));
                if (p != openSuite.Passed || fl != openSuite.Failed)
                    return ProtocolError($"ENDSUITE '{f.Suite}' counts {p} passed, {fl} failed but the frames showed " +
                        $"{openSuite.Passed} passed, {openSuite.Failed} failed", at);
                openSuite.Duration = at - openSuite.Started;
                openSuite = null;
                return null;
            case FrameKind.Metric:
                AddMetric(f);
                return null;
            case FrameKind.NoSuite:
                if (openSuite != null || Result.Suites.Count > 0)
                    return ProtocolError($"NOSUITE '{f.Suite}' after suites ran", at);
                if (f.Suite != Result.RequestedSuite)
                    return ProtocolError($"NOSUITE names '{f.Suite}' but the runner asked for '{Result.RequestedSuite}'", at);
                Result.KernelSuites = f.SuiteNames;
                Finish(RunExitCode.Broken,
                    $"the kernel has no suite named '{f.Suite}'; use --suite all or one of: {string.Join(", ", f.SuiteNames)}", at);
                return null;
            case FrameKind.Panic:
                Result.Panic = f.Text;
                if (runningTest != null)
                {
                    var test = runningTest;
                    MarkRunningTest(TestStatus.Failed, $"kernel panic: {f.Text}", at);
                    Finish(RunExitCode.TestsFailed, $"kernel panic in test '{test.FullName}': {f.Text}", at);
                    return null;
                }
                return Broken($"kernel panic outside any test{Where()}: {f.Text}", f, at);
            case FrameKind.End:
                if (openSuite != null)
                    return ProtocolError($"END while suite '{openSuite.Name}' is still open", at);
                var end = (Count(f.Fields[0]), Count(f.Fields[1]), Count(f.Fields[2]));
                if (end != (Result.Passed, Result.Failed, Result.Skipped))
                    return ProtocolError($"END counts {end.Item1} passed, {end.Item2} failed, {end.Item3} skipped but the frames showed " +
                        $"{Result.Passed} passed, {Result.Failed} failed, {Result.Skipped} skipped", at);
                Result.End = ((int)end.Item1, (int)end.Item2, (int)end.Item3);
                if (Result.Suites.Count == 0)
                {
                    // A run that ran nothing is not a pass: most likely the suite name is misspelt.
                    Finish(RunExitCode.Broken, $"the kernel ran no suite for '{Command}' (is the suite name right?)", at);
                    return null;
                }
                Current = Phase.AfterEnd;
                return null;
            default:
                return ProtocolError($"unexpected {Word(f)} frame", at);
        }
    }

    void AddMetric(Frame f)
    {
        var metric = new Metric(f.Fields[0], double.Parse(f.Fields[1], NumberStyles.Float, CultureInfo.InvariantCulture), f.Fields[2]);
        (runningTest?.Metrics ?? Result.Metrics).Add(metric);
        observer.MetricReported(metric);
    }

    void FinishTest(TestStatus status, TimeSpan at)
    {
        var test = runningTest!;
        test.Status = status;
        test.Duration = at - testStarted;
        runningTest = null;
        observer.TestFinished(test);
    }

    void MarkRunningTest(TestStatus status, string message, TimeSpan at)
    {
        if (runningTest == null) return;
        runningTest.Message = message;
        FinishTest(status, at);
    }

    string? ProtocolError(string message, TimeSpan at)
    {
        message += Where();
        MarkRunningTest(TestStatus.Error, "interrupted by a protocol error", at);
        Finish(RunExitCode.Broken, $"protocol error: {message}", at);
        return null;
    }

    string? Broken(string message, Frame f, TimeSpan at)
    {
        if (f.Kind == FrameKind.Panic) Result.Panic = f.Text;
        Finish(RunExitCode.Broken, message, at);
        return null;
    }

    void Finish(RunExitCode code, string reason, TimeSpan at)
    {
        if (openSuite != null) { openSuite.Duration = at - openSuite.Started; openSuite = null; }
        Result.Conclude(code, reason, at);
        Current = Phase.Finished;
    }

    string Where() =>
        runningTest != null ? $" (in test '{runningTest.FullName}')"
        : openSuite != null ? $" (in suite '{openSuite.Name}')"
        : "";

    string OpenSuiteNote() => openSuite == null ? " (no suite is open)" : $" (open suite is '{openSuite.Name}')";

    static string Word(Frame f) => FrameParser.KindWord(f.Kind);
    static long Count(string s) => (long)Math.Min(ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture), long.MaxValue);
    static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.#} s";
}
