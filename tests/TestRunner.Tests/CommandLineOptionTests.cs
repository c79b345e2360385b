using System.Diagnostics;
using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Cli;
using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

using static TestRunner.Tests.CliRun;

namespace TestRunner.Tests;

/// <summary>
/// --cmdline TEXT: the kernel command line. A direct boot gives it to QEMU's multiboot1 loader with
/// -append; an ISO boot gets a per-run ISO whose grub.cfg has it on the multiboot2 line (BootModule).
/// Text GRUB's config language would read, or longer than the kernel keeps, is refused before anything starts.
/// </summary>
public class CommandLineOptionTests
{
    static string RepoRoot => KernelLayout.FindRepoRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}");

    [Fact]
    public void A_direct_boot_passes_the_command_line_with_append_and_an_ISO_boot_does_not()
    {
        var direct = QemuCommand.Headless("qemu", "kernel.elf", BootMedium.Direct, MemorySize.Default, commandLine: "numa_zonelist_order=zone");
        Assert.Equal("numa_zonelist_order=zone", direct.Arguments.SkipWhile(a => a != "-append").Skip(1).First());
        Assert.Equal("kernel.elf", direct.Arguments.SkipWhile(a => a != "-kernel").Skip(1).First());
        var iso = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default, commandLine: "numa_zonelist_order=zone");
        Assert.DoesNotContain("-append", iso.Arguments);
        Assert.DoesNotContain("-append", QemuCommand.Headless("qemu", "kernel.elf", BootMedium.Direct, MemorySize.Default).Arguments);
    }

    [Fact]
    public void The_per_run_grub_cfg_is_the_kernels_with_the_command_line_after_the_kernels_path()
    {
        var kernel = File.ReadAllText(Path.Combine(RepoRoot, "CosmosKernel", "Kernel", "grub", "grub.cfg")).Replace("\r\n", "\n").Split('\n').ToList();
        int at = kernel.FindIndex(l => l.Trim().StartsWith("multiboot2 "));
        kernel[at] += " numa_zonelist_order=zone";
        Assert.Equal(string.Join("\n", kernel).TrimEnd('\n'), BootModule.GrubConfigFor("numa_zonelist_order=zone", module: false).TrimEnd('\n'));
        Assert.Contains("    multiboot2 /boot/kernel.elf numa_zonelist_order=zone\n    module2 /boot/script script\n", BootModule.GrubConfigFor("numa_zonelist_order=zone", module: true));
    }

    [Fact]
    public void Only_a_deterministic_run_or_an_ISO_boot_with_a_command_line_needs_a_per_run_image()
    {
        var iso = new KernelTarget("kernel.iso", BootMedium.Iso, MemorySize.Default);
        var elf = new KernelTarget("kernel.elf", BootMedium.Direct, MemorySize.Default);
        Assert.False(BootModule.IsNeeded(iso, deterministic: false));
        Assert.True(BootModule.IsNeeded(iso with { CommandLine = "numa_zonelist_order=zone" }, deterministic: false));
        Assert.False(BootModule.IsNeeded(elf with { CommandLine = "numa_zonelist_order=zone" }, deterministic: false));
        Assert.True(BootModule.IsNeeded(elf, deterministic: true));
    }

    [Fact]
    public async Task An_ISO_boot_with_a_command_line_gets_a_per_run_ISO_whose_grub_cfg_carries_it_and_no_script()
    {
        var dir = Directory.CreateTempSubdirectory("cmdline-iso-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "kernel.iso"), "");
            File.WriteAllText(Path.Combine(dir.FullName, "kernel.elf"), "not really an ELF");
            var target = new KernelTarget(Path.Combine(dir.FullName, "kernel.iso"), BootMedium.Iso, MemorySize.Default) { CommandLine = "numa_zonelist_order=zone" };
            var (perRun, error) = await BootModule.PrepareAsync(target, null);
            Assert.True(perRun != null, error);
            string extracted = Path.Combine(dir.FullName, "out");
            using (perRun)
            {
                Assert.NotEqual(target.Image, perRun!.Image);
                Assert.Null(perRun.Determinism);
                var xorriso = Process.Start(new ProcessStartInfo("xorriso", ["-osirrox", "on", "-indev", perRun.Image, "-extract", "/boot", extracted])
                    { RedirectStandardError = true, RedirectStandardOutput = true })!;
                await xorriso.WaitForExitAsync();
                Assert.Equal(0, xorriso.ExitCode);
            }
            Assert.False(File.Exists(perRun.Image), "the per-run ISO is deleted with its folder");
            Assert.Equal(BootModule.GrubConfigFor("numa_zonelist_order=zone", module: false), File.ReadAllText(Path.Combine(extracted, "grub", "grub.cfg")));
            Assert.Equal("not really an ELF", File.ReadAllText(Path.Combine(extracted, "kernel.elf")));
            Assert.False(File.Exists(Path.Combine(extracted, "script")), "no script module without --deterministic");
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void The_runners_command_line_limit_is_the_kernels()
    {
        string bootInfo = File.ReadAllText(Path.Combine(RepoRoot, "CosmosKernel", "Kernel.Hal", "BootInfo.cs"));
        Assert.Matches(new Regex($@"public const int MaxCommandLineBytes = {QemuCommand.MaxCommandLineBytes};"), bootInfo);
    }

    [Theory]
    [InlineData("numa_zonelist_order=\"zone\"", "contains '\"'")]
    [InlineData("a=1; reboot", "contains ';'")]
    [InlineData("root=$x", "contains '$'")]
    [InlineData("  ", "the kernel command line is empty")]
    [InlineData("tab\there", "contains the character U+0009")]
    public async Task A_command_line_GRUB_would_read_is_refused_and_nothing_starts(string value, string message)
    {
        using var fake = new FakeEmulator([]);
        var (exit, output, error) = await Run("script", fake.IsoPath, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--cmdline", value);
        Assert.Equal(2, exit);
        Assert.Contains("error: --cmdline: ", error);
        Assert.Contains(message, error);
        Assert.Equal("", output);
        Assert.False(fake.Started, "the emulator was started");
    }

    [Fact]
    public async Task A_command_line_longer_than_the_kernel_keeps_is_refused()
    {
        using var fake = new FakeEmulator([]);
        var (exit, _, error) = await Run("test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--cmdline", new string('x', QemuCommand.MaxCommandLineBytes + 1));
        Assert.Equal(2, exit);
        Assert.Contains($"error: --cmdline: the kernel command line is {QemuCommand.MaxCommandLineBytes + 1} characters; the kernel keeps at most {QemuCommand.MaxCommandLineBytes}", error);
        Assert.False(fake.Started, "the emulator was started");
    }

    [Fact]
    public async Task Script_direct_with_a_command_line_boots_QEMU_with_append()
    {
        using var fake = new FakeEmulator([FakeKernelReady(), "kernel> halt", "@exit 33"]);
        File.WriteAllText(Path.Combine(fake.Folder, "kernel.elf"), "");
        var script = Path.Combine(fake.Folder, "s.txt");
        File.WriteAllText(script, "");
        var (exit, _, error) = await Run("script", script, "--iso", fake.IsoPath, "--direct", "--qemu", fake.ProgramPath, "--timeout", "10",
            "--cmdline", "numa_zonelist_order=zone");
        Assert.True(exit == 0, error);
        Assert.Equal("numa_zonelist_order=zone", fake.Arguments.SkipWhile(a => a != "-append").Skip(1).First());
    }

    static string FakeKernelReady() => Kernel.Ready();
}
