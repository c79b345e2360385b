using System.Text;
using TestRunner.Protocol;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

public class ScriptRunStateTests
{
    readonly List<string> sent = new();
    TimeSpan clock;

    void Serial(ScriptRunState state, params string[] lines)
    {
        var decoder = new SerialDecoder();
        foreach (var line in lines)
            foreach (var e in decoder.Feed(Encoding.UTF8.GetBytes(line + "\n")))
                if (state.OnSerial(e, clock += TimeSpan.FromMilliseconds(5)) is string reply) sent.Add(reply);
    }

    [Fact]
    public void Each_command_waits_for_the_next_READY_and_halt_follows_the_last()
    {
        var state = new ScriptRunState(["meminfo", "buddyinfo"]);
        Serial(state, "booting", Kernel.Ready());
        Assert.Equal(["meminfo"], sent);
        Serial(state, "MemTotal: 262144 kB", "MemFree: 200000 kB");
        Assert.Single(sent);
        Serial(state, Kernel.Ready());
        Assert.Equal(["meminfo", "buddyinfo"], sent);
        Serial(state, "Node 0, zone DMA 1 1 1", Kernel.Ready());
        Assert.Equal(["meminfo", "buddyinfo", "halt"], sent);
        state.OnEmulatorExited(EmulatorStatus.AllPassed, clock);

        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        Assert.Equal(["booting"], state.Result.BootOutput);
        Assert.Equal(["MemTotal: 262144 kB", "MemFree: 200000 kB"], state.Result.Exchanges[0].Output);
        Assert.Equal("buddyinfo", state.Result.Exchanges[1].Command);
    }

    [Fact]
    public void A_halt_in_the_script_ends_it_without_a_second_halt()
    {
        var state = new ScriptRunState(["ps", "halt"]);
        Serial(state, Kernel.Ready(), "PID NAME", Kernel.Ready());
        Assert.Equal(["ps", "halt"], sent);
        Assert.Equal(ScriptRunState.Phase.Halting, state.Current);
        state.OnEmulatorExited(EmulatorStatus.AllPassed, clock);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
    }

    [Fact]
    public void A_panic_after_a_command_gives_exit_code_1_and_names_the_command()
    {
        var state = new ScriptRunState(["alloc 30"]);
        Serial(state, Kernel.Ready(), Kernel.Panic("out of memory"));
        Assert.Equal(RunExitCode.TestsFailed, state.Result.ExitCode);
        Assert.Contains("after 'alloc 30'", state.Result.Reason);
    }

    [Fact]
    public void No_READY_after_a_command_before_the_timeout_gives_exit_code_2()
    {
        var state = new ScriptRunState(["memhog 1G"], timeout: TimeSpan.FromSeconds(3));
        Serial(state, Kernel.Ready(), "allocating...");
        state.OnTimeout(clock);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Equal("timeout after 3 s: no READY after 'memhog 1G'", state.Result.Reason);
    }

    [Fact]
    public void The_kernel_halting_before_the_script_ends_gives_exit_code_2()
    {
        var state = new ScriptRunState(["one", "two", "three"]);
        Serial(state, Kernel.Ready());
        state.OnEmulatorExited(EmulatorStatus.AllPassed, clock);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("2 script command(s) not sent", state.Result.Reason);
    }

    [Fact]
    public void Without_the_debug_exit_device_QEMU_status_0_after_halt_is_a_clean_end()
    {
        var state = new ScriptRunState(["acpi"], debugExitDevice: false);
        Serial(state, Kernel.Ready(), "S5: SLP_TYPa 0", Kernel.Ready(), "halt: ACPI S5 poweroff");
        Assert.Equal(["acpi", "halt"], sent);
        state.OnEmulatorExited(EmulatorStatus.QemuQuit, clock);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        Assert.Equal("", state.Result.Reason);
        Assert.Equal(0, state.Result.EmulatorStatus);
    }

    [Fact]
    public void Without_the_debug_exit_device_QEMU_status_0_before_halt_is_still_a_crash()
    {
        var during = new ScriptRunState(["run memhog 1G"], debugExitDevice: false);
        Serial(during, Kernel.Ready());
        during.OnEmulatorExited(EmulatorStatus.QemuQuit, clock);
        Assert.Equal(RunExitCode.Broken, during.Result.ExitCode);
        Assert.Contains("after 'run memhog 1G' with status 0", during.Result.Reason);

        var booting = new ScriptRunState(["ps"], debugExitDevice: false);
        Serial(booting, "GRUB loading");
        booting.OnEmulatorExited(EmulatorStatus.QemuQuit, clock);
        Assert.Equal(RunExitCode.Broken, booting.Result.ExitCode);
        Assert.StartsWith("boot failure", booting.Result.Reason);
    }

    [Fact]
    public void Without_the_debug_exit_device_a_halt_in_the_middle_of_the_script_still_counts_the_commands_not_sent()
    {
        var state = new ScriptRunState(["halt", "ps"], debugExitDevice: false);
        Serial(state, Kernel.Ready());
        state.OnEmulatorExited(EmulatorStatus.QemuQuit, clock);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("1 script command(s) not sent", state.Result.Reason);
    }

    [Fact]
    public void With_the_debug_exit_device_QEMU_status_0_after_halt_is_not_a_clean_end()
    {
        var state = new ScriptRunState(["ps"]);
        Serial(state, Kernel.Ready(), "PID NAME", Kernel.Ready());
        Assert.Equal(ScriptRunState.Phase.Halting, state.Current);
        state.OnEmulatorExited(EmulatorStatus.QemuQuit, clock);
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("with status 0: QEMU quit without the kernel writing isa-debug-exit", state.Result.Reason);
    }

    [Fact]
    public void A_corrupted_frame_during_a_script_gives_exit_code_2()
    {
        var state = new ScriptRunState(["meminfo"]);
        Serial(state, Kernel.Ready(), "#KT1 READY 5 x");
        Assert.Equal(RunExitCode.Broken, state.Result.ExitCode);
        Assert.Contains("corrupted frame", state.Result.Reason);
    }

    [Fact]
    public void Script_files_skip_blank_lines_and_comments()
    {
        var commands = ScriptRun.ParseScript("# lab 1\nmeminfo\n\n  buddyinfo  \r\n# done\n", out var error);
        Assert.Null(error);
        Assert.Equal(["meminfo", "buddyinfo"], commands);
    }

    [Fact]
    public void A_script_line_with_a_control_character_is_refused_with_its_line_number()
    {
        ScriptRun.ParseScript("meminfo\nfree \u0007 3\n", out var error);
        Assert.Equal("script line 2 contains a control character", error);
    }
}
