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

    /// <summary>Runs the command line as Program.Main does: parse errors and usage lines go to the error text.</summary>
    static async Task<(int Exit, string Output, string Error)> Run(string[] args, CancellationToken interrupt = default)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Entry.RunAsync(args, output, error, fancy: false, interrupt: interrupt);
        return (exit, output.ToString(), error.ToString());
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
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", Kernel.Plan("s", "t"), Kernel.Suite("s"), .. Kernel.Failing("s", "t", "expected 1 but was 2"),
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

    [Theory]
    [InlineData("test")]
    [InlineData("run")]
    [InlineData("script")]
    public async Task Iso_with_config_or_heap_is_refused_as_a_usage_error(string command)
    {
        using var fake = new FakeEmulator([]);
        foreach (var other in new[] { "--config", "--heap" })
        {
            string[] args = [command, .. command == "script" ? [fake.TranscriptPath] : Array.Empty<string>(),
                "--iso", fake.IsoPath, other, other == "--config" ? "Debug" : "rat", "--qemu", fake.ProgramPath];
            var (exit, _, error) = await Run(args);
            Assert.Equal(2, exit);
            Assert.Contains($"error: --iso and {other} cannot be used together", error);
            Assert.Contains($"usage: TestRunner {command} ", error);
        }
        Assert.False(fake.Started);
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
    public async Task Script_with_trace_runs_the_sampler_around_the_script_and_writes_the_CSV_the_plots_and_the_report()
    {
        const string sample = "4/100\t0 DMA32 2000 10 12 15 1000 0\t0 running\t0 0 0 0 0 1 0 1\t3 memhog 400 0\t3 3 memhog";
        List<string> transcript =
        [
            Kernel.Ready(), "@read", "trace: a SAMPLE frame every 5 tick(s) of 100 Hz",
            Kernel.Ready(), "@read", $"#KT1 SAMPLE {sample.Length} {sample}", "Out of memory: Killed process 3 (memhog)",
            Kernel.Ready(), "@read", "kernel> trace off", "trace: off", "trace: off, 1 sample(s) (0 missed, 0 dropped), 120 bytes sent", "trace: cost 9 cycles sampling, 9 cycles sending",
        ];
        foreach (var file in TestRunner.Running.ScriptTrace.ProcFiles) transcript.AddRange([Kernel.Ready(), "@read", $"kernel> {file}", $"{file} text"]);
        transcript.AddRange([Kernel.Ready(), "@read", "@exit 33"]);
        using var fake = new FakeEmulator(transcript);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "run memhog 1M\n");
        string folder = Path.Combine(fake.Folder, "out");
        var (exit, output) = await Invoke("script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "10", "--trace", folder);
        Assert.True(exit == 0, output);
        Assert.Equal(["trace 5", "run memhog 1M", "trace off", .. TestRunner.Running.ScriptTrace.ProcFiles, "halt"], fake.Received);
        Assert.Equal(["memory.png", "memory.svg", "report.html", "trace.csv"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Equal(2, File.ReadAllLines(Path.Combine(folder, "trace.csv")).Length);
        string report = File.ReadAllText(Path.Combine(folder, "report.html"));
        Assert.Contains("<td>3</td><td>memhog</td>", report);
        Assert.Contains("trace: cost 9 cycles sampling, 9 cycles sending", report);
        Assert.Contains("<pre class=\"proc\" id=\"proc-vmstat\">vmstat text</pre>", report);
        Assert.DoesNotContain("#KT1 SAMPLE", output);
        Assert.Contains("trace: 1 sample(s), 1 OOM kill(s)", output);
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
        string script = Path.GetTempFileName();
        try { Assert.Empty(Commands.Root(TextWriter.Null).Parse(["script", script, "--no-debug-exit"]).Errors); }
        finally { File.Delete(script); }
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
    public async Task Script_refuses_a_file_that_does_not_exist_as_a_usage_error()
    {
        using var fake = new FakeEmulator([]);
        string missing = Path.Combine(fake.Folder, "missing.txt");
        var (exit, _, error) = await Run(["script", missing, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains($"error: <file>: '{missing}' does not exist", error);
        Assert.Contains("usage: TestRunner script <file> ", error);
        Assert.False(fake.Started);
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

    [Theory]
    [InlineData("--junit")]
    [InlineData("--log")]
    public async Task Test_stops_with_exit_2_before_booting_when_a_file_it_writes_cannot_be_created(string option)
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", .. Kernel.HealthyRun(), "@exit 33"]);
        string path = Path.Combine(fake.IsoPath, "under-a-file.xml");   // its folder is a file
        string[] other = option == "--log" ? ["--junit", Path.Combine(fake.Folder, "junit.xml")] : ["--log", Path.Combine(fake.Folder, "serial.log")];
        var (exit, output) = await Invoke(["test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, .. other, option, path]);
        Assert.Equal(2, exit);
        Assert.Contains($"error: {option}: cannot write '{path}': ", output);
        Assert.False(fake.Started);
    }

    [Fact]
    public async Task Test_with_a_suite_the_kernel_does_not_have_says_so_lists_its_suites_and_exits_2()
    {
        // The kernel answers with a console line, the NOSUITE frame, and goes back to its prompt.
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "no suite named 'nosuch'; suites: all, runtime, heap, selftest-fail",
            Kernel.NoSuite("nosuch", "runtime", "heap", "selftest-fail"), Kernel.Ready(), "@sleep 30"]);
        var started = DateTime.UtcNow;
        var (exit, output) = await Invoke(TestArgs(fake, "--suite", "nosuch"));
        Assert.Equal(2, exit);
        Assert.Contains("error: the kernel has no suite named 'nosuch'; use --suite all or one of: runtime, heap, selftest-fail", output);
        Assert.Equal(["test nosuch"], fake.Received);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "the runner waited for the time limit instead of ending at NOSUITE");
        Assert.False(fake.IsRunning, "QEMU was left running");
    }

    /// <summary>Runs the command line and interrupts it (as Ctrl-C would) once <paramref name="ready"/> holds.</summary>
    static async Task<(int Exit, string Output, string Error)> Interrupt(string[] args, Func<bool> ready)
    {
        using var interrupt = new CancellationTokenSource();
        var run = Run(args, interrupt.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!ready() && !run.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(ready(), "the run never reached the point where it is interrupted");
        await interrupt.CancelAsync();
        return await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Interrupting_test_says_so_stops_QEMU_and_exits_130()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "@sleep 30"]);
        var (exit, output, _) = await Interrupt(TestArgs(fake), () => fake.Received.Length > 0);
        Assert.Equal(130, exit);
        Assert.Contains("error: interrupted: QEMU was stopped", output);
        Assert.Contains("exit 130", output);
        Assert.False(fake.IsRunning, "QEMU was left running");
        var kernelSuite = XDocument.Load(Path.Combine(fake.Folder, "junit.xml")).Root!.Element("testsuite")!;
        Assert.Equal("kernel", (string)kernelSuite.Attribute("name")!);
        var error = kernelSuite.Descendants("error").Single();
        Assert.Equal("interrupted: QEMU was stopped", (string)error.Attribute("message")!);
        Assert.Equal("Interrupted", (string)error.Attribute("type")!);
    }

    [Fact]
    public async Task Interrupting_script_says_which_command_was_running_stops_QEMU_and_exits_130()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "@sleep 30"]);
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "meminfo\nps\n");
        var (exit, output, _) = await Interrupt(["script", script, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "20"],
            () => fake.Received.Length > 0);
        Assert.Equal(130, exit);
        Assert.Contains("error: interrupted while 'meminfo' ran: QEMU was stopped", output);
        Assert.Equal(["meminfo"], fake.Received);
        Assert.False(fake.IsRunning, "QEMU was left running");
    }

    [Fact]
    public async Task Interrupting_run_stops_QEMU_says_so_and_exits_130()
    {
        using var fake = new FakeEmulator(["@sleep 30"]);
        var (exit, output, _) = await Interrupt(["run", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath], () => fake.Started);
        Assert.Equal(130, exit);
        Assert.Contains("error: interrupted: QEMU was stopped", output);
        Assert.False(fake.IsRunning, "QEMU was left running");
    }
}
