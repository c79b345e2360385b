using System.Xml.Linq;
using TestRunner.Cli;
using Xunit;

namespace TestRunner.Tests;

/// <summary>The commands as a user types them, with the fake emulator behind --qemu.</summary>
public class CommandLineTests
{
    static async Task<(int Exit, string Output)> Invoke(params string[] args)
    {
        var output = new StringWriter();
        var parse = Commands.Root(output, fancy: false).Parse(args);
        Assert.Empty(parse.Errors);
        int exit = await parse.InvokeAsync();
        return (exit, output.ToString());
    }

    static string[] TestArgs(FakeEmulator fake, params string[] more) =>
        ["test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--junit", Path.Combine(fake.Folder, "junit.xml"), "--timeout", "10", .. more];

    [Fact]
    public async Task Test_exits_0_writes_JUnit_a_serial_log_and_a_vmx_when_every_test_passes()
    {
        using var fake = new FakeEmulator(["GRUB", Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@exit 33"]);
        var (exit, output) = await Invoke(TestArgs(fake));
        Assert.Equal(0, exit);
        Assert.Contains("2 passed, 0 failed, 0 skipped", output);
        Assert.Equal(2, (int)XDocument.Load(Path.Combine(fake.Folder, "junit.xml")).Root!.Attribute("tests")!);
        Assert.Contains("#KT1 END", File.ReadAllText(Path.Combine(fake.Folder, "serial-all.log")));
        Assert.Contains(">> test all", File.ReadAllText(Path.Combine(fake.Folder, "serial-all.log")));
        Assert.True(File.Exists(Path.Combine(fake.Folder, "kernel.vmx")));
    }

    [Fact]
    public async Task Test_exits_1_and_shows_the_failure_message_when_a_test_fails()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Suite("s"), .. Kernel.Failing("s", "t", "expected 1 but was 2"),
            Kernel.EndSuite("s", 0, 1), Kernel.End(0, 1, 0), "@exit 35"]);
        var (exit, output) = await Invoke(TestArgs(fake));
        Assert.Equal(1, exit);
        Assert.Contains("FAIL  s/t  expected 1 but was 2", output);
    }

    [Fact]
    public async Task Test_exits_2_and_prints_the_serial_tail_when_the_kernel_never_becomes_READY()
    {
        using var fake = new FakeEmulator(["GRUB loading", "kernel: triple fault ahead", "@exit 0"]);
        var (exit, output) = await Invoke(TestArgs(fake));
        Assert.Equal(2, exit);
        Assert.Contains("boot failure", output);
        Assert.Contains("last 2 line(s) of the serial log", output);
        Assert.Contains("kernel: triple fault ahead", output);
        Assert.Equal("kernel", (string)XDocument.Load(Path.Combine(fake.Folder, "junit.xml")).Root!.Element("testsuite")!.Attribute("name")!);
    }

    [Fact]
    public async Task Test_exits_2_on_a_corrupted_frame_and_names_it()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "#KT1 SUITE 12 runtime", "@exit 33"]);
        var (exit, output) = await Invoke(TestArgs(fake));
        Assert.Equal(2, exit);
        Assert.Contains("LEN mismatch: LEN says 12 bytes but the payload has 7", output);
    }

    [Fact]
    public async Task A_bad_memory_size_is_refused_with_exit_2_before_booting()
    {
        using var fake = new FakeEmulator([]);
        var (exit, output) = await Invoke(TestArgs(fake, "--memory", "lots"));
        Assert.Equal(2, exit);
        Assert.Contains("memory size 'lots' is not valid", output);
        Assert.False(File.Exists(fake.ArgsPath));
    }

    [Fact]
    public async Task Iso_and_config_together_are_refused()
    {
        using var fake = new FakeEmulator([]);
        var (exit, output) = await Invoke(TestArgs(fake, "--config", "Debug"));
        Assert.Equal(2, exit);
        Assert.Contains("either --iso or --config", output);
    }

    [Fact]
    public async Task Iso_and_heap_together_are_refused()
    {
        using var fake = new FakeEmulator([]);
        var (exit, output) = await Invoke(TestArgs(fake, "--heap", "template"));
        Assert.Equal(2, exit);
        Assert.Contains("either --iso or --heap", output);
    }

    [Fact]
    public async Task Script_prints_each_command_and_what_the_kernel_answered()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "MemFree: 1000 kB", Kernel.Ready(), "@read", "@exit 33"]);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "# a lab\nmeminfo\n");
        var (exit, output) = await Invoke("script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "10");
        Assert.Equal(0, exit);
        Assert.Contains("> meminfo\nMemFree: 1000 kB\n> halt", output.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Script_with_a_screendump_starts_QEMU_with_a_QMP_socket_and_exits_2_when_QEMU_gives_no_screen()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "MemFree: 1000 kB", Kernel.Ready(), "@raw kernel> ", "@sleep 15"]);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "meminfo\n");
        var (exit, output) = await Invoke("script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "20",
            "--screendump", Path.Combine(fake.Folder, "screen.png"));
        Assert.Equal(2, exit);
        Assert.Contains("screendump failed: cannot connect to QEMU's QMP socket", output);
        Assert.Matches(@"^unix:.*kt-qmp-\w+\.sock,server=on,wait=off$", fake.Arguments.SkipWhile(a => a != "-qmp").Skip(1).First());
        Assert.Equal(["meminfo"], fake.Received);            // halt was not sent: the run stopped at the failed screendump
        Assert.False(File.Exists(Path.Combine(fake.Folder, "screen.png")));
    }

    [Fact]
    public async Task Script_with_no_debug_exit_boots_without_the_device_and_an_ACPI_poweroff_after_halt_exits_0()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "RSDP: revision 0", Kernel.Ready(), "@read", "halt: ACPI S5 poweroff", "@exit 0"]);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "acpi\n");
        var (exit, output) = await Invoke("script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "10", "--no-debug-exit");
        Assert.Equal(0, exit);
        Assert.Equal(["acpi", "halt"], fake.Received);
        Assert.DoesNotContain(fake.Arguments, a => a.Contains("isa-debug-exit"));
        Assert.Contains("halt: ACPI S5 poweroff", output);
    }

    [Fact]
    public async Task Script_without_no_debug_exit_counts_QEMU_status_0_after_halt_as_broken()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "@exit 0"]);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "");
        var (exit, _) = await Invoke("script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "10");
        Assert.Equal(2, exit);
        Assert.Contains("isa-debug-exit,iobase=0xf4,iosize=0x04", fake.Arguments);
    }

    [Fact]
    public void No_debug_exit_is_an_option_of_script_and_run_but_not_of_test()
    {
        Assert.Empty(Commands.Root(TextWriter.Null).Parse(["script", "x.txt", "--no-debug-exit"]).Errors);
        Assert.Empty(Commands.Root(TextWriter.Null).Parse(["run", "--no-debug-exit"]).Errors);
        Assert.NotEmpty(Commands.Root(TextWriter.Null).Parse(["test", "--no-debug-exit"]).Errors);
    }

    [Fact]
    public void Script_refuses_a_screendump_file_that_is_neither_png_nor_ppm()
    {
        var parse = Commands.Root(TextWriter.Null).Parse(["script", "x.txt", "--screendump", "screen.jpg"]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("must end in .png or .ppm"));
    }

    [Fact]
    public async Task Script_refuses_a_file_that_does_not_exist()
    {
        using var fake = new FakeEmulator([]);
        var (exit, output) = await Invoke("script", Path.Combine(fake.Folder, "missing.txt"), "--iso", fake.IsoPath, "--qemu", fake.ProgramPath);
        Assert.Equal(2, exit);
        Assert.Contains("script file not found", output);
    }

    [Fact]
    public async Task Vmx_writes_kernel_vmx_beside_the_ISO_with_the_chosen_memory()
    {
        using var fake = new FakeEmulator([]);
        var (exit, _) = await Invoke("vmx", "--iso", fake.IsoPath, "-m", "512M");
        Assert.Equal(0, exit);
        Assert.Contains("memsize = \"512\"", File.ReadAllText(Path.Combine(fake.Folder, "kernel.vmx")));
    }

    [Fact]
    public async Task Run_boots_with_the_console_on_the_terminal_and_maps_a_clean_halt_to_exit_0()
    {
        using var fake = new FakeEmulator(["@exit 33"]);
        var (exit, output) = await Invoke("run", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "-m", "128M");
        Assert.Equal(0, exit);
        Assert.Contains("stdio,id=com1,signal=on", fake.Arguments);
        Assert.Contains("128M", fake.Arguments);
        Assert.Contains("QEMU exited: 33", output);
        Assert.True(File.Exists(Path.Combine(fake.Folder, "kernel.vmx")));
    }

    [Fact]
    public void A_usage_error_is_a_parse_error_not_a_run()
    {
        var parse = Commands.Root(TextWriter.Null).Parse(["test", "--timeout", "0"]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("--timeout must be a positive"));
    }
}
