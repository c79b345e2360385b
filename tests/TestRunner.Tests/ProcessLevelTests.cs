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
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("heap", "rat"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "rat"),
            Kernel.EndSuite("heap", 1, 0), Kernel.End(1, 0, 0), "@exit 33"]);
        var result = await Run(fake, suite: "heap");
        Assert.Equal(["test heap"], fake.Received);
        Assert.Equal(RunExitCode.Passed, result.ExitCode);
    }

    [Fact]
    public async Task A_failing_test_gives_exit_code_1_through_a_real_process()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("selftest-fail", "passes", "fails"), Kernel.Suite("selftest-fail"),
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
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("runtime", "strings"), Kernel.Suite("runtime"), "@crlf " + Kernel.Test("runtime", "strings"),
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
    public async Task QEMU_exiting_during_the_last_test_makes_it_an_error_and_gives_exit_code_1()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("runtime", "strings"), Kernel.Suite("runtime"), Kernel.Test("runtime", "strings"), "@exit 0"]);
        var result = await Run(fake);
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        var test = Assert.Single(result.AllTests);
        Assert.Equal((TestStatus.Error, "EmulatorExit"), (test.Status, test.ErrorType));
        Assert.Contains("QEMU exited (status 0", test.Message);
        Assert.Equal(0, result.EmulatorStatus);
        Assert.Equal(1, fake.Boots);
    }

    [Fact]
    public async Task After_a_panic_in_a_test_the_runner_boots_again_and_runs_the_tests_after_it()
    {
        using var fake = FakeEmulator.Booting(
            [Kernel.Ready(), "@read", Kernel.Plan("heap", "a", "crashes", "c"), Kernel.Plan("mm", "d"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"),
             Kernel.Test("heap", "crashes"), "PANIC: CPU exception 14 (#PF) at address 0xea", Kernel.Panic("CPU exception 14 (#PF) at address 0xea"), "@exit 37"],
            [Kernel.Ready(), "@read", Kernel.Plan("heap", "a", "crashes", "c"), Kernel.Plan("mm", "d"), Kernel.Suite("heap"), .. Kernel.Passing("heap", "c"),
             Kernel.EndSuite("heap", 1, 0), Kernel.Suite("mm"), .. Kernel.Failing("mm", "d", "expected 1 but was 2"), Kernel.EndSuite("mm", 0, 1),
             Kernel.End(1, 1, 0), "@exit 35"]);
        var result = await Run(fake);
        Assert.Equal(["test all", "test all 2"], fake.Received);
        Assert.Equal(2, result.Boots);
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        Assert.Equal(["heap/a passed", "heap/crashes error", "heap/c passed", "mm/d failed"],
            result.AllTests.Select(t => $"{t.FullName} {t.Status.ToString().ToLowerInvariant()}"));
        Assert.Equal(["heap", "mm"], result.Suites.Select(s => s.Name));
        Assert.Equal("kernel panic: CPU exception 14 (#PF) at address 0xea", result.AllTests.Single(t => t.Name == "crashes").Message);
        Assert.Equal("1 test(s) failed, 1 crashed the kernel or hung: heap/crashes", result.Reason);
    }

    [Fact]
    public async Task A_test_that_hangs_is_an_error_after_the_time_limit_and_the_run_goes_on_in_a_new_boot()
    {
        using var fake = FakeEmulator.Booting(
            [Kernel.Ready(), "@read", Kernel.Plan("sched", "hangs", "b"), Kernel.Suite("sched"), Kernel.Test("sched", "hangs"), "@sleep 30"],
            [Kernel.Ready(), "@read", Kernel.Plan("sched", "hangs", "b"), Kernel.Suite("sched"), .. Kernel.Passing("sched", "b"),
             Kernel.EndSuite("sched", 1, 0), Kernel.End(1, 0, 0), "@exit 33"]);
        var result = await Run(fake, timeoutSeconds: 2);
        Assert.Equal(["test all", "test all 1"], fake.Received);
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        var hung = result.AllTests.First();
        Assert.Equal((TestStatus.Error, "Timeout"), (hung.Status, hung.ErrorType));
        Assert.Equal(TestStatus.Passed, result.AllTests.Last().Status);
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
    public async Task A_panic_inside_the_last_test_makes_it_an_error_and_ends_the_run_with_exit_code_1()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("selftest-fault", "page_fault"), Kernel.Suite("selftest-fault"), Kernel.Test("selftest-fault", "page_fault"),
            "PANIC: CPU exception 14 (#PF) CR2=0x0000dead", Kernel.Panic("CPU exception 14 (#PF) CR2=0x0000dead"), "@exit 37"]);
        var result = await Run(fake);
        Assert.Equal(RunExitCode.TestsFailed, result.ExitCode);
        var test = Assert.Single(result.AllTests);
        Assert.Equal((TestStatus.Error, "KernelPanic"), (test.Status, test.ErrorType));
        Assert.Contains("#PF", test.Message);
        Assert.Equal(1, fake.Boots);
    }

    [Fact]
    public async Task Interrupting_a_run_stops_QEMU_and_gives_exit_code_130()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("heap", "slow"), Kernel.Suite("heap"), Kernel.Test("heap", "slow"), "@sleep 30"]);
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
