using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>The whole path through a real child process: launch, serial both ways, time limit, exit status.</summary>
public class ProcessLevelTests
{
    static Task<RunResult> Run(FakeEmulator fake, string suite = "all", double timeoutSeconds = 10, string memory = "256M") =>
        TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(fake.IsoPath, BootMedium.Iso, MemorySize.Parse(memory), fake.ProgramPath),
            Suite = suite,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            ExitGrace = TimeSpan.FromSeconds(1),
        });

    [Fact]
    public async Task A_healthy_kernel_run_passes_and_QEMU_gets_the_contracts_arguments()
    {
        using var fake = new FakeEmulator(["SeaBIOS", "GRUB", Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@exit 33"]);
        var result = await Run(fake, memory: "6G");
        Assert.Equal(RunExitCode.Passed, result.ExitCode);
        Assert.Equal(2, result.Passed);
        Assert.Equal(["test all"], fake.Received);
        Assert.Equal(
            ["-machine", "q35,accel=tcg", "-cpu", "max", "-m", "6G", "-cdrom", fake.IsoPath, "-boot", "d",
             "-display", "none", "-no-reboot", "-monitor", "none", "-chardev", "stdio,id=com1,signal=off",
             "-serial", "chardev:com1", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
            fake.Arguments);
        Assert.Equal(33, result.EmulatorStatus);
    }

    [Fact]
    public async Task The_chosen_suite_is_what_the_runner_asks_for()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("heap"), .. Kernel.Passing("heap", "rat"),
            Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 0), "@exit 33"]);
        var result = await Run(fake, suite: "heap");
        Assert.Equal(["test heap"], fake.Received);
        Assert.Equal(RunExitCode.Passed, result.ExitCode);
    }

    [Fact]
    public async Task A_failing_test_gives_exit_code_1_through_a_real_process()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("selftest-fail"),
            .. Kernel.Passing("selftest-fail", "passes"), .. Kernel.Failing("selftest-fail", "fails", "deliberate failure: expected 1 but was 2"),
            Kernel.EndSuite("selftest-fail", 1, 1), Kernel.End(1, 1, 0), "@exit 35"]);
        var result = await Run(fake, suite: "selftest-fail");
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        Assert.Equal("deliberate failure: expected 1 but was 2", Assert.Single(result.AllTests, t => t.Status == TestStatus.Failed).Message);
    }

    [Fact]
    public async Task An_emulator_whose_file_is_still_open_for_writing_starts_once_it_is_closed()
    {
        // ETXTBSY: exec of a file that some process still holds open for writing fails; the
        // launcher tries again instead of reporting a boot failure.
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@exit 33"]);
        var writer = new FileStream(fake.ProgramPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        // A thread of its own: the launcher's retries block a pool thread while they wait.
        var release = new Thread(() => { Thread.Sleep(100); writer.Dispose(); });
        release.Start();
        var result = await Run(fake);
        release.Join();
        Assert.True(result.ExitCode == RunExitCode.Passed, $"{result.ExitCode}: {result.Reason}");
    }

    [Fact]
    public async Task Frames_split_across_writes_and_CRLF_line_ends_are_decoded()
    {
        string pass = Kernel.Pass("runtime", "strings");
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("runtime"), "@crlf " + Kernel.Test("runtime", "strings"),
            "@raw " + pass[..9], "@sleep 0.2", pass[9..], Kernel.EndSuite("runtime", 1, 0), Kernel.End(1, 0, 0), "@exit 33"]);
        var result = await Run(fake);
        Assert.True(result.ExitCode == RunExitCode.Passed, $"{result.ExitCode}: {result.Reason}");
        Assert.Equal("strings", Assert.Single(result.AllTests).Name);
    }

    [Fact]
    public async Task A_kernel_that_never_becomes_READY_is_stopped_at_the_time_limit_with_exit_code_2()
    {
        using var fake = new FakeEmulator(["SeaBIOS", "GRUB loading", "@sleep 30"]);
        var result = await Run(fake, timeoutSeconds: 1);
        Assert.Equal(RunExitCode.Broken, result.ExitCode);
        Assert.Contains("no READY", result.Reason);
        Assert.Equal(["SeaBIOS", "GRUB loading"], result.SerialTail);
    }

    [Fact]
    public async Task QEMU_exiting_after_a_test_started_without_END_gives_exit_code_2()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("runtime"), Kernel.Test("runtime", "strings"), "@exit 0"]);
        var result = await Run(fake);
        Assert.Equal(RunExitCode.Broken, result.ExitCode);
        Assert.Contains("before the END frame", result.Reason);
        Assert.Equal(0, result.EmulatorStatus);
    }

    [Fact]
    public async Task QEMUs_own_error_messages_reach_the_serial_tail()
    {
        using var fake = new FakeEmulator(["@stderr qemu-system-x86_64: -cdrom kernel.iso: Could not open 'kernel.iso'", "@exit 1"]);
        var result = await Run(fake);
        Assert.Equal(RunExitCode.Broken, result.ExitCode);
        Assert.Contains(result.SerialTail, l => l.Contains("Could not open"));
    }

    [Fact]
    public async Task A_panic_inside_a_test_fails_it_and_ends_the_run_with_exit_code_1()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("selftest-fault"), Kernel.Test("selftest-fault", "page_fault"),
            "PANIC: CPU exception 14 (#PF) CR2=0x0000dead", Kernel.Panic("CPU exception 14 (#PF) CR2=0x0000dead"), "@exit 37"]);
        var result = await Run(fake);
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        Assert.Contains("#PF", Assert.Single(result.AllTests).Message);
    }

    [Fact]
    public async Task Interrupting_a_run_stops_QEMU_and_gives_exit_code_130()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("heap"), Kernel.Test("heap", "slow"), "@sleep 30"]);
        using var cancel = new CancellationTokenSource();
        var run = TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(fake.IsoPath, BootMedium.Iso, MemorySize.Default, fake.ProgramPath),
            Timeout = TimeSpan.FromSeconds(20),
            Observer = new CancelOnTestStart(cancel),
        }, cancel.Token);
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(RunExitCode.Interrupted, result.ExitCode);
        Assert.Equal("interrupted (in test 'heap/slow'): QEMU was stopped", result.Reason);
        Assert.Equal(TestStatus.Error, Assert.Single(result.AllTests).Status);
    }

    sealed class CancelOnTestStart(CancellationTokenSource cancel) : IRunObserver
    {
        public void TestStarted(string suite, string test) => cancel.Cancel();
    }

    [Fact]
    public async Task A_missing_ISO_is_refused_before_anything_starts()
    {
        using var fake = new FakeEmulator([]);
        var result = await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(Path.Combine(fake.Folder, "nope.iso"), BootMedium.Iso, MemorySize.Default, fake.ProgramPath),
        });
        Assert.Equal(RunExitCode.Broken, result.ExitCode);
        Assert.Equal($"kernel ISO not found: looked for {Path.Combine(fake.Folder, "nope.iso")}", result.Reason);
        Assert.False(File.Exists(fake.ArgsPath));
    }

    [Fact]
    public async Task A_test_run_without_the_debug_exit_device_is_refused_before_anything_starts()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@exit 33"]);
        var result = await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(fake.IsoPath, BootMedium.Iso, MemorySize.Default, fake.ProgramPath) { DebugExitDevice = false },
        });
        Assert.Equal(RunExitCode.Broken, result.ExitCode);
        Assert.StartsWith("a test run needs QEMU's isa-debug-exit device", result.Reason);
        Assert.False(File.Exists(fake.ArgsPath));
    }

    [Fact]
    public async Task A_script_is_fed_one_command_per_READY_and_ends_with_halt()
    {
        using var fake = new FakeEmulator(["booting", Kernel.Ready(), "@read", "MemFree: 1000 kB", Kernel.Ready(), "@read",
            "PID NAME", "1 init", Kernel.Ready(), "@read", "@exit 33"]);
        var result = await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = new KernelTarget(fake.IsoPath, BootMedium.Iso, MemorySize.Default, fake.ProgramPath),
            Timeout = TimeSpan.FromSeconds(10),
        }, ["meminfo", "ps"]);
        Assert.Equal(RunExitCode.Passed, result.ExitCode);
        Assert.Equal(["meminfo", "ps", "halt"], fake.Received);
        Assert.Equal(["PID NAME", "1 init"], result.Exchanges[1].Output);
    }
}
