using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Cli;
using TestRunner.Emulator;
using TestRunner.Protocol;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

/// <summary>
/// --deterministic (docs/test-runner.md, "Deterministic runs"): QEMU's instruction-counted clock, and the
/// commands handed to the kernel as a boot module instead of being sent over serial.
/// </summary>
public class DeterministicModeTests
{
    static string RepoRoot => KernelLayout.FindRepoRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}");

    static List<string> Fed(IRunStateMachine state, params string[] lines)
    {
        var sent = new List<string>();
        var decoder = new SerialDecoder();
        var clock = TimeSpan.Zero;
        foreach (var line in lines)
            foreach (var e in decoder.Feed(Encoding.UTF8.GetBytes(line + "\n")))
                if (state.OnSerial(e, clock += TimeSpan.FromMilliseconds(5)) is string reply) sent.Add(reply);
        return sent;
    }

    [Fact]
    public void A_deterministic_ISO_boot_adds_the_instruction_counted_clock_and_a_fixed_RTC_and_keeps_the_rest_of_the_command()
    {
        var plain = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default);
        var exact = QemuCommand.Headless("qemu", "run.iso", BootMedium.Iso, MemorySize.Default, determinism: new Determinism("/tmp/script"));
        Assert.Equal(["-icount", "shift=0,sleep=off", "-rtc", "base=2000-01-01T00:00:00,clock=vm"],
            exact.Arguments.SkipWhile(a => a != "-icount").Take(4));
        Assert.Equal(plain.Arguments.Select(a => a == "kernel.iso" ? "run.iso" : a),
            exact.Arguments.Where((a, i) => !QemuCommand.DeterministicArguments.Contains(a)));
        Assert.DoesNotContain("-initrd", exact.Arguments);   // the per-run ISO carries the module
        Assert.DoesNotContain("-icount", plain.Arguments);
    }

    [Fact]
    public void A_deterministic_direct_boot_hands_the_script_to_QEMUs_multiboot_loader_with_initrd()
    {
        var exact = QemuCommand.Headless("qemu", "kernel.elf", BootMedium.Direct, MemorySize.Default, determinism: new Determinism("/tmp/a,b/script"));
        Assert.Equal(["-kernel", "kernel.elf", "-initrd", "/tmp/a,,b/script"], exact.Arguments.SkipWhile(a => a != "-kernel").Take(4));
        Assert.Contains("-icount", exact.Arguments);
    }

    [Fact]
    public void With_the_commands_in_a_module_the_script_run_sends_nothing_yet_files_each_answer_under_its_command()
    {
        var state = new ScriptRunState(["meminfo", "ps"], commandsInModule: true);
        var sent = Fed(state, "booting", Kernel.Ready(), "kernel> meminfo", "MemFree: 1000 kB",
            Kernel.Ready(), "kernel> ps", "  PID STATE", Kernel.Ready(), "kernel> halt", "halting.");
        state.OnEmulatorExited(EmulatorStatus.AllPassed, TimeSpan.FromSeconds(1));

        Assert.Empty(sent);
        Assert.Equal(RunExitCode.Passed, state.Result.ExitCode);
        Assert.Equal(["meminfo", "ps", "halt"], state.Result.Exchanges.Select(e => e.Command));
        Assert.Equal(["kernel> meminfo", "MemFree: 1000 kB"], state.Result.Exchanges[0].Output);
        Assert.Equal(["kernel> halt", "halting."], state.Result.Exchanges[2].Output);
    }

    [Fact]
    public void With_the_command_in_a_module_the_test_run_sends_nothing_at_READY()
    {
        var state = new TestRunState("heap", "256M", TimeSpan.FromSeconds(120), commandInModule: true);
        Assert.Empty(Fed(state, Kernel.Ready()));
        Assert.Equal("test heap", state.Command);
    }

    [Fact]
    public void After_a_crash_the_next_boots_module_holds_the_resume_command_and_nothing_is_sent()
    {
        var state = new TestRunState("heap", "256M", TimeSpan.FromSeconds(120), commandInModule: true);
        Assert.Empty(Fed(state, Kernel.Ready(), Kernel.Plan("heap", "a", "b", "c"), Kernel.Suite("heap"), Kernel.Test("heap", "a"), Kernel.Pass("heap", "a"),
            Kernel.Test("heap", "b"), Kernel.Panic("CPU exception 14 (#PF)")));
        Assert.Equal(2, state.ResumeFrom);
        state.StartNextBoot(TimeSpan.FromSeconds(5));
        Assert.Equal("test heap 2", state.Command);   // what TestRun puts in the next boot's module
        Assert.Empty(Fed(state, Kernel.Ready()));
    }

    [Fact]
    public void The_module_holds_the_commands_one_per_line_and_a_script_over_the_kernels_limit_is_refused()
    {
        Assert.Equal("watermarks\nrun memhog 128M 512\n", BootModule.Text(["watermarks", "run memhog 128M 512"], out var none));
        Assert.Null(none);
        var tooLong = Enumerable.Repeat("sleep 1000", BootModule.MaxBytes / 11 + 1).ToArray();
        Assert.Null(BootModule.Text(tooLong, out var error));
        Assert.Contains($"at most {BootModule.MaxBytes} bytes", error);
    }

    [Fact]
    public void The_runners_module_limit_is_the_kernels()
    {
        string bootInfo = File.ReadAllText(Path.Combine(RepoRoot, "CosmosKernel", "Kernel.Hal", "BootInfo.cs"));
        Assert.Matches(new Regex($@"public const int MaxModuleBytes = {BootModule.MaxBytes};"), bootInfo);
    }

    [Fact]
    public void The_per_run_grub_cfg_is_the_kernels_with_one_module2_line_after_the_kernel()
    {
        var kernel = File.ReadAllText(Path.Combine(RepoRoot, "CosmosKernel", "Kernel", "grub", "grub.cfg")).Replace("\r\n", "\n").Split('\n').ToList();
        kernel.Insert(kernel.FindIndex(l => l.Trim().StartsWith("multiboot2 ")) + 1, $"    module2 {BootModule.IsoPath} script");
        Assert.Equal(string.Join("\n", kernel).TrimEnd('\n'), BootModule.GrubConfig.TrimEnd('\n'));
    }

    [Fact]
    public async Task An_ISO_boot_gets_a_per_run_ISO_holding_the_kernel_elf_the_script_and_the_module_line()
    {
        var dir = Directory.CreateTempSubdirectory("det-iso-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "kernel.iso"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel.elf"), "not really an ELF");
            var target = new KernelTarget(Path.Combine(dir.FullName, "kernel.iso"), BootMedium.Iso, MemorySize.Default);
            var (module, error) = await BootModule.PrepareAsync(target, "meminfo\n");
            Assert.True(module != null, error);
            string extracted = Path.Combine(dir.FullName, "out");
            using (module)
            {
                Assert.NotEqual(target.Image, module!.Image);
                Assert.Equal("meminfo\n", File.ReadAllText(module.Determinism!.Module));
                var xorriso = Process.Start(new ProcessStartInfo("xorriso", ["-osirrox", "on", "-indev", module.Image, "-extract", "/boot", extracted])
                    { RedirectStandardError = true, RedirectStandardOutput = true })!;
                await xorriso.WaitForExitAsync();
                Assert.Equal(0, xorriso.ExitCode);
            }
            Assert.False(File.Exists(module.Image), "the per-run ISO is deleted with the module");
            Assert.Equal("meminfo\n", File.ReadAllText(Path.Combine(extracted, "script")));
            Assert.Equal("not really an ELF", File.ReadAllText(Path.Combine(extracted, "kernel.elf")));
            Assert.Equal(BootModule.GrubConfig, File.ReadAllText(Path.Combine(extracted, "grub", "grub.cfg")));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task An_ISO_without_a_kernel_elf_beside_it_is_refused_with_where_it_was_looked_for()
    {
        var dir = Directory.CreateTempSubdirectory("det-iso-");
        try
        {
            var target = new KernelTarget(Path.Combine(dir.FullName, "kernel.iso"), BootMedium.Iso, MemorySize.Default);
            var (module, error) = await BootModule.PrepareAsync(target, "meminfo\n");
            Assert.Null(module);
            Assert.Contains($"looked for {Path.Combine(dir.FullName, "kernel.elf")}", error);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public async Task Script_deterministic_boots_with_the_clock_and_the_module_and_sends_nothing_over_serial()
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "kernel> meminfo", "MemFree: 1000 kB", Kernel.Ready(), "kernel> halt", "@exit 33"]);
        File.WriteAllText(Path.Combine(fake.Folder, "kernel.elf"), "");
        var script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "# a lab\nmeminfo\n");
        var output = new StringWriter();
        var parse = Commands.Root(output, fancy: false).Parse(["script", script, "--iso", fake.IsoPath, "--direct", "--qemu", fake.ProgramPath, "--timeout", "10", "--deterministic"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(0, await parse.InvokeAsync());
        Assert.Empty(fake.Received);
        Assert.Contains("-icount", fake.Arguments);
        Assert.Equal(Path.Combine(fake.Folder, "kernel.elf"), fake.Arguments.SkipWhile(a => a != "-kernel").Skip(1).First());
        Assert.Matches(@"kt-det-\w+/script$", fake.Arguments.SkipWhile(a => a != "-initrd").Skip(1).First());
        Assert.Contains("> meminfo\nkernel> meminfo\nMemFree: 1000 kB\n> halt", output.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void Deterministic_is_an_option_of_script_and_test_and_cannot_go_with_a_screendump()
    {
        var root = Commands.Root(TextWriter.Null, fancy: false);
        Assert.Contains(root.Subcommands.Single(c => c.Name == "test").Options, o => o.Name == "--deterministic");
        Assert.Contains(root.Subcommands.Single(c => c.Name == "script").Options, o => o.Name == "--deterministic");
        Assert.DoesNotContain(root.Subcommands.Single(c => c.Name == "run").Options, o => o.Name == "--deterministic");
        var parse = root.Parse(["script", "x.txt", "--deterministic", "--screendump", "s.png"]);
        Assert.Contains(parse.Errors, e => e.Message.Contains("--deterministic and --screendump cannot be used together"));
    }
}
