using System.Diagnostics;
using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>
/// The one event loop both kinds of headless run go through, against the fake emulator: the time limit,
/// an interrupt and QEMU exiting mid-run end a test run and a script run the same way, and QEMU is
/// never left running.
/// </summary>
public class EmulatorSessionTests
{
    public static TheoryData<string> Kinds => ["test", "script"];

    static IRunStateMachine NewRun(string kind, TimeSpan limit) => kind switch
    {
        "test" => new TestRunState("all", "256M", limit),
        "script" => new ScriptRunState(["meminfo", "ps"], timeout: limit),
        _ => throw new ArgumentException(kind),
    };

    /// <summary>The line each kind sends on the first READY.</summary>
    static string FirstCommand(string kind) => kind == "test" ? "test all" : "meminfo";

    static RunOutcome Outcome(IRunStateMachine run) => run switch
    {
        TestRunState t => t.Result,
        ScriptRunState s => s.Result,
        _ => throw new ArgumentException(run.GetType().Name),
    };

    static Task Drive(IRunStateMachine run, FakeEmulator fake, TextWriter log, TimeSpan limit, CancellationToken cancel = default,
        TimeSpan? exitGrace = null, Func<EmulatorProcess, CancellationToken, Task>? beforeSending = null, string? program = null) =>
        EmulatorSession.RunAsync(run, new EmulatorSessionOptions
        {
            Command = QemuCommand.Headless(program ?? fake.ProgramPath, fake.IsoPath, BootMedium.Iso, MemorySize.Default),
            Timeout = limit,
            ExitGrace = exitGrace,
            SerialLog = log,
            BeforeSending = beforeSending,
        }, cancel).WaitAsync(TimeSpan.FromSeconds(15));

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_kernel_that_goes_quiet_is_stopped_at_the_time_limit_with_exit_code_2(string kind)
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "working on it", "@sleep 30"]);
        var run = NewRun(kind, TimeSpan.FromSeconds(1));
        var log = new StringWriter();
        await Drive(run, fake, log, TimeSpan.FromSeconds(1));

        var outcome = Outcome(run);
        Assert.Equal(RunExitCode.Broken, outcome.ExitCode);
        Assert.StartsWith("timeout", outcome.Reason);
        Assert.Contains("1 s", outcome.Reason);
        Assert.Null(outcome.EmulatorStatus);
        Assert.Contains("working on it", outcome.SerialTail);
        Assert.Contains($">> {FirstCommand(kind)}\n", log.ToString());
        Assert.False(fake.IsRunning, "QEMU was left running");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_interrupt_stops_QEMU_and_ends_the_run_with_exit_code_130(string kind)
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "working on it", "@sleep 30"]);
        var run = NewRun(kind, TimeSpan.FromSeconds(30));
        using var interrupt = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var session = Drive(run, fake, new StringWriter(), TimeSpan.FromSeconds(30), interrupt.Token);
        while (fake.Received.Length == 0 && !session.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20);
        Assert.Equal([FirstCommand(kind)], fake.Received);
        interrupt.Cancel();
        await session;

        var outcome = Outcome(run);
        Assert.Equal(RunExitCode.Interrupted, outcome.ExitCode);
        Assert.StartsWith("interrupted", outcome.Reason);
        Assert.EndsWith(": QEMU was stopped", outcome.Reason);
        Assert.Null(outcome.EmulatorStatus);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the interrupt took {clock.Elapsed} to end the run");
        Assert.False(fake.IsRunning, "QEMU was left running");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task QEMU_exiting_mid_run_ends_it_with_exit_code_2_naming_the_status_and_keeping_QEMUs_last_words(string kind)
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "half way", "@stderr qemu-system-x86_64: terminating on signal 15", "@exit 0"]);
        var run = NewRun(kind, TimeSpan.FromSeconds(10));
        await Drive(run, fake, new StringWriter(), TimeSpan.FromSeconds(10));

        var outcome = Outcome(run);
        Assert.Equal(RunExitCode.Broken, outcome.ExitCode);
        Assert.Equal(0, outcome.EmulatorStatus);
        Assert.Contains("QEMU exited", outcome.Reason);
        Assert.Contains(EmulatorStatus.Describe(0), outcome.Reason);
        // The serial line comes through QEMU's stdout and its last words through stderr: two pipes,
        // with no order between them, so the tail ends with both in either order.
        Assert.Equal(["[qemu] qemu-system-x86_64: terminating on signal 15", "half way"], outcome.SerialTail[^2..].Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task An_emulator_that_cannot_start_refuses_the_run_with_exit_code_2(string kind)
    {
        using var fake = new FakeEmulator([]);
        string missing = Path.Combine(fake.Folder, "no-such-qemu");
        var run = NewRun(kind, TimeSpan.FromSeconds(10));
        await Drive(run, fake, new StringWriter(), TimeSpan.FromSeconds(10), program: missing);

        var outcome = Outcome(run);
        Assert.Equal(RunExitCode.Broken, outcome.ExitCode);
        Assert.StartsWith($"cannot start '{missing}'", outcome.Reason);
        Assert.Null(outcome.EmulatorStatus);
        Assert.Empty(outcome.SerialTail);
    }

    [Fact]
    public async Task Once_only_QEMUs_exit_is_missing_the_exit_grace_replaces_the_time_limit()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@sleep 30"]);
        var run = new TestRunState("all", "256M", TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        await Drive(run, fake, new StringWriter(), TimeSpan.FromSeconds(20), exitGrace: TimeSpan.FromMilliseconds(500));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the run took {clock.Elapsed}: the grace did not cut the 20 s limit short");
        Assert.Equal(RunExitCode.Passed, run.Result.ExitCode);
        Assert.Contains(run.Result.Warnings, w => w.Contains("did not exit after the END frame"));
        Assert.False(fake.IsRunning, "QEMU was left running");
    }

    [Fact]
    public async Task A_run_that_ends_before_its_line_is_sent_does_not_send_it()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "@sleep 30"]);
        var run = new ScriptRunState(["meminfo"]);
        var log = new StringWriter();
        await Drive(run, fake, log, TimeSpan.FromSeconds(10), beforeSending: (qemu, _) =>
        {
            run.OnScreendumpFailed("no QMP socket", qemu.Elapsed);
            return Task.CompletedTask;
        });

        Assert.Equal(RunExitCode.Broken, run.Result.ExitCode);
        Assert.Equal("screendump failed: no QMP socket", run.Result.Reason);
        Assert.DoesNotContain(">> ", log.ToString());
        Assert.Empty(fake.Received);
        Assert.False(fake.IsRunning, "QEMU was left running");
    }
}
