using System.Text.RegularExpressions;
using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// `halt` switches a machine off that has no isa-debug-exit device (VMware Player, a plain QEMU):
/// through ACPI S5, with the registers and sleep type the kernel read from the firmware's tables.
/// The values checked are those of QEMU 7.2's q35 machine under SeaBIOS: the ICH9 power-management
/// block at port 0x600 (PM1a_CNT 0x604, no PM1b), the APM control port 0xB2 taking ACPI_ENABLE 2,
/// the 0xCF9 reset register with value 0x0F, and sleep type 0 for soft-off.
/// </summary>
public class AcpiTests
{
    static string OutputOf(ScriptResult run, string command) =>
        string.Join("\n", run.Exchanges.Where(e => e.Command == command).SelectMany(e => e.Output));

    [Fact]
    public async Task Halt_without_the_debug_exit_device_powers_QEMU_off_through_ACPI_S5()
    {
        var run = await KernelImage.ScriptAsync([], debugExitDevice: false, timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        // QEMU ended by itself with its own status 0 (a kill at the time limit is no exit status, or a signal's).
        Assert.Equal(0, run.EmulatorStatus);
        Assert.True(run.Duration < TimeSpan.FromSeconds(50), $"the run took {run.Duration}");
        string halt = OutputOf(run, "halt");
        Assert.Contains("halt: still running after isa-debug-exit", halt);
        Assert.Contains("halt: ACPI S5 poweroff: SLP_TYPa 0 | SLP_EN into PM1a_CNT I/O 0x0604", halt);
        Assert.DoesNotContain("could not be powered off", halt);
        Assert.DoesNotContain("still running 1 s after the S5 write", halt);
    }

    [Fact]
    public async Task Halt_with_the_debug_exit_device_still_leaves_through_it_before_ACPI()
    {
        var run = await KernelImage.ScriptAsync([]);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Equal(EmulatorStatus.AllPassed, run.EmulatorStatus);
        Assert.DoesNotContain("ACPI", OutputOf(run, "halt"));
    }

    [Theory]
    [InlineData("256M", "0x000ff")]   // the tables sit right below the top of RAM ...
    [InlineData("6G", "0x007ff")]     // ... which q35 ends at 2 GiB below 4 GiB when the rest goes above
    public async Task Acpi_reports_the_tables_and_registers_of_QEMUs_q35_machine(string memory, string tablePrefix)
    {
        var run = await KernelImage.ScriptAsync(["acpi"], memory: memory);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains("acpi: RSDP revision 0 from multiboot2 tag 14, RSDT with 5 tables; S5: SLP_TYPa 0 via PM1a_CNT I/O 0x0604", run.BootOutput);
        Assert.DoesNotContain(run.BootOutput, l => l.StartsWith("warning: ACPI table"));

        string acpi = OutputOf(run, "acpi");
        Assert.Matches(new Regex(@"^RSDP: revision 0 \(ACPI 1\.0\), OEM 'BOCHS ', at 0x[0-9a-f]{10} \(multiboot2 tag 14\)$", RegexOptions.Multiline), acpi);
        Assert.Matches(new Regex($@"^RSDT at {tablePrefix}[0-9a-f]{{5}}: 5 entries$", RegexOptions.Multiline), acpi);
        var tables = Regex.Matches(acpi, @"^  (\w{4})  (0x[0-9a-f]{10})  length +(\d+)  rev \d+  (.*)$", RegexOptions.Multiline);
        Assert.Equal(["FACP", "APIC", "HPET", "MCFG", "WAET", "DSDT"], tables.Select(m => m.Groups[1].Value));
        foreach (Match t in tables)
        {
            Assert.StartsWith(tablePrefix, t.Groups[2].Value);
            Assert.StartsWith("ok, in reserved", t.Groups[4].Value);
        }
        Assert.EndsWith("(from the FADT)", tables[^1].Groups[4].Value);
        Assert.Contains("FADT: PM1a_CNT I/O 0x0604, PM1b_CNT none, SMI_CMD 0xb2 ACPI_ENABLE 0x02", acpi);
        Assert.Contains("reset register I/O 0x0cf9 value 0x0f", acpi);
        Assert.Matches(new Regex(@"^S5: SLP_TYPa 0, SLP_TYPb 0 \(Name\(_S5, Package\) in the DSDT at offset 0x[0-9a-f]{4}\)$", RegexOptions.Multiline), acpi);
    }

    [Fact]
    public async Task Without_a_loader_tag_the_RSDP_is_found_in_the_BIOS_area_and_the_acpi_suite_passes()
    {
        // QEMU's -kernel loader speaks multiboot1, which has no ACPI tag: the EBDA and 0xE0000-0xFFFFF are searched.
        var run = await KernelImage.ScriptAsync(["acpi", "test acpi"], medium: BootMedium.Direct);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains("acpi: RSDP revision 0 from the BIOS area 0xE0000-0xFFFFF, RSDT with 5 tables; S5: SLP_TYPa 0 via PM1a_CNT I/O 0x0604", run.BootOutput);
        Assert.Matches(new Regex(@"^RSDP: revision 0 \(ACPI 1\.0\), OEM 'BOCHS ', at 0x00000[ef][0-9a-f]{4} \(the BIOS area 0xE0000-0xFFFFF\)$", RegexOptions.Multiline),
            OutputOf(run, "acpi"));
        var frames = run.Exchanges.Single(e => e.Command == "test acpi").Frames;
        Assert.True(frames.Count(f => f.Kind == TestRunner.Protocol.FrameKind.Pass) >= 20, string.Join("\n", frames));
        Assert.DoesNotContain(frames, f => f.Kind == TestRunner.Protocol.FrameKind.Fail);
    }
}
