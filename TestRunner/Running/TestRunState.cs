using System.Globalization;
using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>
/// The test run as a state machine, free of processes and clocks so it can be tested line by
/// line: boot (waiting for READY) → running (after <c>test &lt;suite&gt;</c> is sent) → after END
/// (waiting for QEMU to exit) → finished. Every frame is checked against the order the contract
/// allows; anything else is a protocol error and ends the run with exit 2.
/// <see cref="EmulatorSession"/> drives it.
///
/// Every test counted: before any test runs the kernel announces the plan (a PLAN frame per suite),
/// and every TEST must be the plan's next one. A test during which the kernel panics, hangs (the
/// time limit) or QEMU exits is an error with the panic text; when tests of the plan are left, the
/// boot ends there (<see cref="Phase.BootEnded"/>, <see cref="ResumeFrom"/> set) and the caller
/// boots again with <see cref="StartNextBoot"/>, which asks for <c>test &lt;suite&gt; &lt;n&gt;</c>: the
/// tests after it. A panic between tests costs the next planned test. When the run breaks
/// (boot failure, protocol error, interrupt), the planned tests that did not run are errors
/// (<c>not run: ...</c>), so the totals are always out of the whole plan.
/// </summary>
public sealed class TestRunState : IRunStateMachine
{
    public enum Phase { WaitingForReady, Running, AfterEnd, BootEnded, Finished }

    readonly IRunObserver observer;
    readonly TimeSpan timeout;
    readonly bool commandInModule;
    SuiteResult? openSuite;
    TestResult? runningTest;
    TimeSpan testStarted;
    /// <summary>The PLAN frames of this boot; on the first boot they become <see cref="RunResult.Plan"/>, later ones must repeat it.</summary>
    readonly List<PlannedTest> bootPlan = new();
    bool bootPlanChecked;
    readonly HashSet<string> bootPlanSuites = new(StringComparer.Ordinal);
    /// <summary>The suites of the plan (a suite without tests has a PLAN frame too).</summary>
    readonly HashSet<string> planSuites = new(StringComparer.Ordinal);
    /// <summary>Index in the plan of the next test the kernel must report.</summary>
    int cursor;
    TimeSpan suiteStarted;
    /// <summary>What this boot reported (ENDSUITE and END count only their own boot's tests).</summary>
    int bootPassed, bootFailed, bootSkipped, suitePassed, suiteFailed;
    /// <summary>Time at the start of this boot's session (host times restart at each boot).</summary>
    TimeSpan bootOffset;

    /// <param name="commandInModule">The kernel reads <c>test &lt;suite&gt;</c> itself from a boot module (--deterministic): at READY nothing is sent.</param>
    public TestRunState(string suite, string memory, TimeSpan timeout, IRunObserver? observer = null, bool commandInModule = false)
    {
        this.commandInModule = commandInModule;
        this.timeout = timeout;
        this.observer = observer ?? NullObserver.Instance;
        Result = new RunResult { RequestedSuite = suite, Memory = memory, Boots = 1 };
        Command = $"test {suite}";
    }

    public Phase Current { get; private set; } = Phase.WaitingForReady;
    public RunResult Result { get; }
    /// <summary>This boot is over: the run is finished, or it goes on in another boot (<see cref="ResumeFrom"/>).</summary>
    public bool IsFinished => Current is Phase.Finished or Phase.BootEnded;
    /// <summary>After END: every result is in, only QEMU's exit is missing.</summary>
    public bool AwaitsExit => Current == Phase.AfterEnd;
    /// <summary>The command line sent once the kernel is READY (<c>test &lt;suite&gt;</c>, then <c>test &lt;suite&gt; &lt;n&gt;</c> after a crash).</summary>
    public string Command { get; private set; }
    /// <summary>When this boot ended on a crash with tests left: the plan index the next boot starts at.</summary>
    public int? ResumeFrom => Current == Phase.BootEnded ? cursor : null;

    /// <summary>
    /// After a boot that ended on a crash (<see cref="ResumeFrom"/>): the next boot's state. <paramref name="offset"/> is the
    /// host time already spent, added to the times the next session reports (each session's clock starts at 0).
    /// </summary>
    public void StartNextBoot(TimeSpan offset)
    {
        if (Current != Phase.BootEnded) throw new InvalidOperationException("StartNextBoot: the boot did not end on a crash with tests left");
        bootOffset = offset;
        Result.Boots++;
        Command = $"test {Result.RequestedSuite} {cursor}";
        bootPlan.Clear();
        bootPlanSuites.Clear();
        bootPlanChecked = false;
        bootPassed = bootFailed = bootSkipped = suitePassed = suiteFailed = 0;
        openSuite = null;
        runningTest = null;
        Current = Phase.WaitingForReady;
        observer.Rebooting(Result.Boots, Command);
    }

    /// <summary>Handles one serial event at host time <paramref name="at"/>; returns a line to send to the kernel, or null.</summary>
    public string? OnSerial(SerialEvent e, TimeSpan at)
    {
        if (IsFinished) return null;
        at += bootOffset;
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
        if (IsFinished) { Result.EmulatorStatus ??= status; return; }
        at += bootOffset;
        Result.EmulatorStatus = status;
        switch (Current)
        {
            case Phase.WaitingForReady:
                Finish(RunExitCode.Broken,
                    $"boot failure: QEMU exited (status {EmulatorStatus.Describe(status)}) before the kernel was READY", at);
                break;
            case Phase.Running:
                if (runningTest != null)
                {
                    Crash($"QEMU exited (status {EmulatorStatus.Describe(status)}) while this test ran", "EmulatorExit", at);
                    return;
                }
                Finish(RunExitCode.Broken,
                    $"QEMU exited (status {EmulatorStatus.Describe(status)}) before the END frame{Where()}", at);
                break;
            case Phase.AfterEnd:
                int expected = bootFailed > 0 ? EmulatorStatus.TestsFailed : EmulatorStatus.AllPassed;
                if (status != expected)
                {
                    Finish(RunExitCode.Broken,
                        $"the kernel sent END but QEMU's exit status was {EmulatorStatus.Describe(status)} (expected {expected})", at);
                    return;
                }
                FinishWithVerdict(at);
                break;
        }
    }

    /// <summary>Handles the host-side time limit running out.</summary>
    public void OnTimeout(TimeSpan at)
    {
        if (IsFinished) return;
        at += bootOffset;
        switch (Current)
        {
            case Phase.WaitingForReady:
                Finish(RunExitCode.Broken, $"timeout: no READY frame from the kernel within {Seconds(timeout)}", at);
                break;
            case Phase.Running:
                if (runningTest != null)
                {
                    Crash($"timed out after {Seconds(timeout)}: the test hung (or the machine is far too slow)", "Timeout", at);
                    return;
                }
                Finish(RunExitCode.Broken, $"timeout: no END frame within {Seconds(timeout)}{Where()}", at);
                break;
            case Phase.AfterEnd:
                // Every result is in; only QEMU's exit is missing. Keep the verdict, say what happened.
                Result.Warnings.Add("QEMU did not exit after the END frame; the runner stopped it");
                FinishWithVerdict(at);
                break;
        }
    }

    /// <summary>Handles an interrupt (Ctrl-C, SIGINT, SIGTERM): exit 130, the running test marked interrupted.</summary>
    public void OnInterrupted(TimeSpan at)
    {
        if (Current == Phase.Finished) return;
        // Between two boots the caller hands the run's own time; during a boot, the session's.
        if (Current != Phase.BootEnded) at += bootOffset;
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

        if (f.Kind is not (FrameKind.Plan or FrameKind.NoSuite or FrameKind.Metric or FrameKind.Ready or FrameKind.Panic) && !bootPlanChecked)
            if (!CheckBootPlan(f, at)) return null;

        switch (f.Kind)
        {
            case FrameKind.Ready:
                return ProtocolError("READY frame while tests run (the kernel went back to its shell before END)", at);
            case FrameKind.Plan:
                if (bootPlanChecked)
                    return ProtocolError($"PLAN '{f.Suite}' after the tests started (the plan comes first)", at);
                if (bootPlanSuites.Contains(f.Suite))
                    return ProtocolError($"a second PLAN for suite '{f.Suite}'", at);
                foreach (var name in f.TestNames)
                {
                    if (bootPlan.Any(t => t.Suite == f.Suite && t.Name == name))
                        return ProtocolError($"PLAN '{f.Suite}' lists test '{name}' twice", at);
                    bootPlan.Add(new PlannedTest(f.Suite, name));
                }
                bootPlanSuites.Add(f.Suite);
                return null;
            case FrameKind.Suite:
                if (openSuite != null)
                    return ProtocolError($"SUITE '{f.Suite}' while suite '{openSuite.Name}' is still open", at);
                if (!planSuites.Contains(f.Suite))
                    return ProtocolError($"SUITE '{f.Suite}' is not in the plan (the kernel's PLAN frames name {PlanSuitesNote()})", at);
                // A suite split by a crash goes on in the next boot under the same result.
                openSuite = Result.Suites.FirstOrDefault(s => s.Name == f.Suite);
                if (openSuite == null)
                {
                    openSuite = new SuiteResult { Name = f.Suite, Started = at };
                    Result.Suites.Add(openSuite);
                }
                suiteStarted = at;
                suitePassed = suiteFailed = 0;
                observer.SuiteStarted(f.Suite);
                return null;
            case FrameKind.Test:
                if (openSuite == null || openSuite.Name != f.Suite)
                    return ProtocolError($"TEST '{f.Suite}/{f.Test}' outside its suite{OpenSuiteNote()}", at);
                if (runningTest != null)
                    return ProtocolError($"TEST '{f.Suite}/{f.Test}' before test '{runningTest.FullName}' reported PASS or FAIL", at);
                if (NotNextInPlan(f) is string order) return ProtocolError(order, at);
                StartTest(f.Suite, f.Test, at);
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
                    if (NotNextInPlan(f) is string skipOrder) return ProtocolError(skipOrder, at);
                    StartTest(f.Suite, f.Test, at, notify: false);
                }
                runningTest!.Message = f.Message;
                FinishTest(TestStatus.Skipped, at);
                return null;
            case FrameKind.EndSuite:
                if (openSuite == null || openSuite.Name != f.Suite)
                    return ProtocolError($"ENDSUITE '{f.Suite}' for a suite that is not open{OpenSuiteNote()}", at);
                if (runningTest != null)
                    return ProtocolError($"ENDSUITE '{f.Suite}' while test '{runningTest.FullName}' runs", at);
                if (cursor < Result.Plan.Count && Result.Plan[cursor].Suite == f.Suite)
                    return ProtocolError($"ENDSUITE '{f.Suite}' before its planned test '{Result.Plan[cursor].FullName}' ran", at);
                var (p, fl) = (Count(f.Fields[1]), Count(f.Fields[2]));
                if (p != suitePassed || fl != suiteFailed)
                    return ProtocolError($"ENDSUITE '{f.Suite}' counts {p} passed, {fl} failed but the frames showed " +
                        $"{suitePassed} passed, {suiteFailed} failed", at);
                openSuite.Duration += at - suiteStarted;
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
                    Crash($"kernel panic: {f.Text}", "KernelPanic", at);
                    return null;
                }
                if (bootPlanChecked && cursor < Result.Plan.Count)
                {
                    // Between tests: the kernel was on its way to the plan's next test, which did not get to run.
                    var next = Result.Plan[cursor];
                    StartTest(next.Suite, next.Name, at);
                    Crash($"kernel panic before this test started{Where(suiteOnly: true)}: {f.Text}", "KernelPanic", at);
                    return null;
                }
                return Broken($"kernel panic outside any test{Where()}: {f.Text}", f, at);
            case FrameKind.End:
                if (openSuite != null)
                    return ProtocolError($"END while suite '{openSuite.Name}' is still open", at);
                var end = (Count(f.Fields[0]), Count(f.Fields[1]), Count(f.Fields[2]));
                if (end != (bootPassed, bootFailed, bootSkipped))
                    return ProtocolError($"END counts {end.Item1} passed, {end.Item2} failed, {end.Item3} skipped but the frames showed " +
                        $"{bootPassed} passed, {bootFailed} failed, {bootSkipped} skipped", at);
                if (cursor < Result.Plan.Count)
                    return ProtocolError($"END before the plan's test '{Result.Plan[cursor].FullName}' ran ({cursor} of {Result.Plan.Count} planned tests reported)", at);
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

    void StartTest(string suite, string name, TimeSpan at, bool notify = true)
    {
        var owner = openSuite ?? FindOrAddSuite(suite, at);
        runningTest = new TestResult { Suite = suite, Name = name };
        testStarted = at;
        owner.Tests.Add(runningTest);
        cursor++;
        if (notify) observer.TestStarted(suite, name);
    }

    SuiteResult FindOrAddSuite(string name, TimeSpan at)
    {
        var suite = Result.Suites.FirstOrDefault(s => s.Name == name);
        if (suite == null)
        {
            suite = new SuiteResult { Name = name, Started = at };
            Result.Suites.Add(suite);
        }
        return suite;
    }

    void FinishTest(TestStatus status, TimeSpan at)
    {
        var test = runningTest!;
        test.Status = status;
        test.Duration = at - testStarted;
        runningTest = null;
        switch (status)
        {
            case TestStatus.Passed: bootPassed++; suitePassed++; break;
            case TestStatus.Failed: bootFailed++; suiteFailed++; break;
            case TestStatus.Skipped: bootSkipped++; break;
        }
        observer.TestFinished(test);
    }

    /// <summary>
    /// The running test crashed the boot (a panic, a hang, QEMU's exit): it is an error of
    /// <paramref name="type"/> with <paramref name="message"/>; the boot ends, and when the plan has tests
    /// after it the run goes on in a new boot (<see cref="ResumeFrom"/>), else it is finished.
    /// </summary>
    void Crash(string message, string type, TimeSpan at)
    {
        var test = runningTest!;
        test.ErrorType = type;
        MarkRunningTest(TestStatus.Error, message, at);
        if (openSuite != null) { openSuite.Duration += at - suiteStarted; openSuite = null; }
        if (cursor < Result.Plan.Count)
        {
            Result.Duration = at;
            Current = Phase.BootEnded;
            return;
        }
        FinishWithVerdict(at);
    }

    /// <summary>Every planned test is accounted for: exit 0 when all passed or were skipped, else 1 with the counts.</summary>
    void FinishWithVerdict(TimeSpan at)
    {
        int failed = Result.Failed, errors = Result.Errors;
        if (failed == 0 && errors == 0) { Finish(RunExitCode.Passed, "", at); return; }
        string crashed = string.Join(", ", Result.AllTests.Where(t => t.Status == TestStatus.Error).Select(t => t.FullName));
        string reason = errors == 0 ? $"{failed} test(s) failed"
            : failed == 0 ? $"{errors} test(s) crashed the kernel or hung: {crashed}"
            : $"{failed} test(s) failed, {errors} crashed the kernel or hung: {crashed}";
        Finish(RunExitCode.TestsFailed, reason, at);
    }

    /// <summary>
    /// At the first frame after the PLAN frames of a boot: the plan is complete; on a later boot it must be the first boot's.
    /// False when it is not (the run then ended with a protocol error).
    /// </summary>
    bool CheckBootPlan(Frame f, TimeSpan at)
    {
        bootPlanChecked = true;
        if (bootPlanSuites.Count == 0 && f.Kind != FrameKind.End)
        {
            ProtocolError($"{Word(f)} frame before any PLAN frame (the kernel announces every test of the request before the first runs)", at);
            return false;
        }
        if (Result.Boots == 1)
        {
            Result.Plan.AddRange(bootPlan);
            planSuites.UnionWith(bootPlanSuites);
            return true;
        }
        if (!bootPlan.SequenceEqual(Result.Plan) || !bootPlanSuites.SetEquals(planSuites))
        {
            ProtocolError($"the kernel's plan in boot {Result.Boots} ({bootPlan.Count} tests) is not the plan of boot 1 ({Result.Plan.Count} tests)", at);
            return false;
        }
        return true;
    }

    /// <summary>Null when the frame's test is the plan's next one, else the protocol error.</summary>
    string? NotNextInPlan(Frame f)
    {
        if (cursor >= Result.Plan.Count)
            return $"{Word(f)} '{f.Suite}/{f.Test}' after every test of the plan was reported";
        var next = Result.Plan[cursor];
        return next.Suite == f.Suite && next.Name == f.Test ? null
            : $"{Word(f)} '{f.Suite}/{f.Test}' but the plan's next test is '{next.FullName}'";
    }

    string PlanSuitesNote() => planSuites.Count == 0 ? "no suite" : string.Join(", ", planSuites);

    /// <summary>The planned tests that never ran become errors saying why, so a broken run still reports the whole plan.</summary>
    void AccountForTestsNotRun(string reason, TimeSpan at)
    {
        for (; cursor < Result.Plan.Count; cursor++)
        {
            var t = Result.Plan[cursor];
            FindOrAddSuite(t.Suite, at).Tests.Add(new TestResult
            {
                Suite = t.Suite, Name = t.Name, Status = TestStatus.Error, ErrorType = "NotRun",
                Message = $"not run: {reason}",
            });
        }
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
        if (openSuite != null) { openSuite.Duration += at - suiteStarted; openSuite = null; }
        if (code is RunExitCode.Broken or RunExitCode.Interrupted) AccountForTestsNotRun(reason, at);
        Result.Conclude(code, reason, at);
        Current = Phase.Finished;
    }

    string Where(bool suiteOnly = false) =>
        runningTest != null && !suiteOnly ? $" (in test '{runningTest.FullName}')"
        : openSuite != null ? $" (in suite '{openSuite.Name}')"
        : "";

    string OpenSuiteNote() => openSuite == null ? " (no suite is open)" : $" (open suite is '{openSuite.Name}')";

    static string Word(Frame f) => FrameParser.KindWord(f.Kind);
    static long Count(string s) => (long)Math.Min(ulong.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture), long.MaxValue);
    static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.#} s";
}
