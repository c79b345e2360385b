using TestRunner.Emulator;
using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>Options of one headless test run.</summary>
public sealed record TestRunOptions
{
    public required KernelTarget Target { get; init; }
    /// <summary>The suite to run: a suite name or <c>all</c>.</summary>
    public string Suite { get; init; } = "all";
    /// <summary>Host-side limit for the whole run, boot included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>How long QEMU may take to exit after the END frame before it is stopped.</summary>
    public TimeSpan ExitGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Receives the raw serial log, when set.</summary>
    public TextWriter? SerialLog { get; init; }
    public IRunObserver? Observer { get; init; }
}

/// <summary>
/// Boots the kernel headless, sends <c>test &lt;suite&gt;</c> once it is READY, and turns what
/// comes back into a <see cref="RunResult"/> through <see cref="TestRunState"/>. Never hangs:
/// the time limit stops QEMU and the run ends with exit code 2; cancelling <c>cancel</c> (an
/// interrupt) stops QEMU and ends it with exit code 130.
/// </summary>
public static class TestRun
{
    /// <summary>Runs the suite and returns the result; exceptions only for programming errors.</summary>
    public static async Task<RunResult> RunAsync(TestRunOptions options, CancellationToken cancel = default)
    {
        var state = new TestRunState(options.Suite, options.Target.Memory.ToString(), options.Timeout, options.Observer);
        if (ValidateSuiteName(options.Suite) is string bad)
            return Refused(options, bad);
        if (!options.Target.DebugExitDevice)
            return Refused(options, "a test run needs QEMU's isa-debug-exit device: the kernel reports its verdict through it (leave out --no-debug-exit)");
        if (options.Target.Check(out var emulator) is string missing)
            return Refused(options, missing);

        var command = QemuCommand.Headless(emulator, options.Target.Image, options.Target.Medium, options.Target.Memory);
        EmulatorProcess qemu;
        try { qemu = EmulatorProcess.Start(command, options.SerialLog); }
        catch (InvalidOperationException e) { return Refused(options, e.Message); }

        await using (qemu)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(options.Timeout);
            bool graceArmed = false;
            try
            {
                await foreach (var e in qemu.Events.ReadAllAsync(limit.Token).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case SerialReceived s:
                            if (state.OnSerial(s.Event, s.At) is string line)
                                await qemu.SendLineAsync(line).ConfigureAwait(false);
                            break;
                        case EmulatorMessage m:
                            state.OnSerial(new ConsoleLine("[qemu] " + m.Text), m.At);
                            break;
                        case EmulatorExited x:
                            // Ctrl-C on a terminal reaches QEMU too; its exit then is the interrupt's doing.
                            if (cancel.IsCancellationRequested) state.OnInterrupted(x.At);
                            state.OnEmulatorExited(x.Status, x.At);
                            break;
                    }
                    if (state.IsFinished) break;
                    if (state.Current == TestRunState.Phase.AfterEnd && !graceArmed)
                    {
                        graceArmed = true;
                        limit.CancelAfter(options.ExitGrace);
                    }
                }
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                state.OnTimeout(qemu.Elapsed);
            }
            catch (OperationCanceledException)
            {
                state.OnInterrupted(qemu.Elapsed);
            }
            if (!state.IsFinished) state.OnEmulatorExited(-1, qemu.Elapsed);
            qemu.Kill();
        }
        return state.Result;
    }

    /// <summary>The longest suite name the runner sends (the kernel's command line holds 120 characters).</summary>
    public const int MaxSuiteName = 64;

    /// <summary>
    /// Returns a message when <paramref name="suite"/> cannot be a suite's name (one word of ASCII
    /// letters, digits, '-', '_' and '.', as the kernel's suites are named), else null. Anything else
    /// would not reach the kernel as typed: its shell splits at spaces and drops non-ASCII characters.
    /// </summary>
    public static string? ValidateSuiteName(string suite) =>
        suite.Length is > 0 and <= MaxSuiteName && suite.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? null
            : $"'{suite}' is not a suite name: use 'all' or one suite's name (letters, digits, '-', '_', '.'; at most {MaxSuiteName} characters)";

    static RunResult Refused(TestRunOptions options, string message)
    {
        var result = new RunResult { RequestedSuite = options.Suite, Memory = options.Target.Memory.ToString() };
        result.ExitCode = RunExitCode.Broken;
        result.Reason = message;
        return result;
    }
}
