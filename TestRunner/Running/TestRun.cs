using TestRunner.Build;
using TestRunner.Emulator;

namespace TestRunner.Running;

/// <summary>Options of one headless test run.</summary>
public sealed record TestRunOptions
{
    public required KernelTarget Target { get; init; }
    /// <summary>The suite to run: a suite name or <c>all</c>.</summary>
    public string Suite { get; init; } = "all";
    /// <summary>Host-side limit for each boot of the run (the first, and each one after a crash), boot included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>How long QEMU may take to exit after the END frame before it is stopped.</summary>
    public TimeSpan ExitGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Receives the raw serial log, when set.</summary>
    public TextWriter? SerialLog { get; init; }
    public IRunObserver? Observer { get; init; }
    /// <summary>
    /// A deterministic run (docs/test-runner.md): QEMU counts instructions for its clock and <c>test &lt;suite&gt;</c>
    /// reaches the kernel as a boot module that its shell runs; the runner sends nothing.
    /// </summary>
    public bool Deterministic { get; init; }
}

/// <summary>
/// Boots the kernel headless, sends <c>test &lt;suite&gt;</c> once it is READY, and turns what
/// comes back into a <see cref="RunResult"/> through <see cref="TestRunState"/>, driven by
/// <see cref="EmulatorSession"/>. Never hangs:
/// the time limit stops QEMU and the run ends with exit code 2; cancelling <c>cancel</c> (an
/// interrupt) stops QEMU and ends it with exit code 130.
/// </summary>
public static class TestRun
{
    /// <summary>Runs the suite and returns the result; exceptions only for programming errors.</summary>
    public static async Task<RunResult> RunAsync(TestRunOptions options, CancellationToken cancel = default)
    {
        var state = new TestRunState(options.Suite, options.Target.Memory.ToString(), options.Timeout, options.Observer, options.Deterministic);
        if (ValidateSuiteName(options.Suite) is string bad)
            state.Refuse(bad);
        else if (!options.Target.DebugExitDevice)
            state.Refuse("a test run needs QEMU's isa-debug-exit device: the kernel reports its verdict through it (leave out --no-debug-exit)");
        else if (options.Target.Check(out var emulator) is string missing)
            state.Refuse(missing);
        else
        {
            // One boot, and one more after each test that crashed the kernel while tests were left (TestRunState.ResumeFrom).
            await BootAsync(state, options, emulator, cancel).ConfigureAwait(false);
            while (state.ResumeFrom != null)
            {
                if (cancel.IsCancellationRequested) { state.OnInterrupted(state.Result.Duration); break; }
                state.StartNextBoot(state.Result.Duration);
                await BootAsync(state, options, emulator, cancel).ConfigureAwait(false);
            }
        }
        return state.Result;
    }

    /// <summary>One boot of the run: QEMU started, <c>state.Command</c> sent (or put in the boot module), the session to its end.</summary>
    static async Task BootAsync(TestRunState state, TestRunOptions options, string emulator, CancellationToken cancel)
    {
        if (BootModule.IsNeeded(options.Target, options.Deterministic))
        {
            var (module, failure) = await BootModule.PrepareAsync(options.Target, options.Deterministic ? BootModule.Text([state.Command], out _)! : null, cancel).ConfigureAwait(false);
            if (module == null) state.Refuse(failure!);
            else
                using (module)
                    await EmulatorSession.RunAsync(state, new EmulatorSessionOptions
                    {
                        Command = QemuCommand.Headless(emulator, module.Image, options.Target.Medium, options.Target.Memory, determinism: module.Determinism, numaNodes: options.Target.NumaNodes,
                            commandLine: options.Target.CommandLine),
                        Timeout = options.Timeout,
                        ExitGrace = options.ExitGrace,
                        SerialLog = options.SerialLog,
                    }, cancel).ConfigureAwait(false);
        }
        else
            await EmulatorSession.RunAsync(state, new EmulatorSessionOptions
            {
                Command = QemuCommand.Headless(emulator, options.Target.Image, options.Target.Medium, options.Target.Memory, numaNodes: options.Target.NumaNodes,
                    commandLine: options.Target.CommandLine),
                Timeout = options.Timeout,
                ExitGrace = options.ExitGrace,
                SerialLog = options.SerialLog,
            }, cancel).ConfigureAwait(false);
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
}
