using TestRunner.Emulator;
using Xunit;

namespace TestRunner.Tests;

public class MemorySizeTests
{
    [Theory]
    [InlineData("256M", 256)]
    [InlineData("256m", 256)]
    [InlineData("128MB", 128)]
    [InlineData("6G", 6144)]
    [InlineData("6GiB", 6144)]
    [InlineData("512", 512)]
    [InlineData("65536K", 64)]
    public void Sizes_are_read_the_way_QEMU_reads_them(string text, long mib) =>
        Assert.Equal(mib, MemorySize.Parse(text).MiB);

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("12X")]
    [InlineData("-1G")]
    [InlineData("1.5G")]
    [InlineData("100K")]
    [InlineData("5M")]
    [InlineData("2T")]
    [InlineData("17179869185T")]          // 2^64 KiB + 1 TiB: a wrapping multiplication would make it 1T
    [InlineData("1099511627776T")]        // 2^70 KiB: would wrap to 0
    [InlineData("99999999999999999999M")] // beyond any long
    public void Bad_or_out_of_range_sizes_are_refused_with_a_message(string text)
    {
        Assert.False(MemorySize.TryParse(text, out _, out var error));
        Assert.Contains($"'{text}'", error);
    }

    [Theory]
    [InlineData(256, "256M")]
    [InlineData(6144, "6G")]
    [InlineData(1536, "1536M")]
    public void The_QEMU_argument_uses_whole_GiB_when_it_can(long mib, string expected) =>
        Assert.Equal(expected, new MemorySize(mib).ToString());
}

public class QemuCommandTests
{
    [Fact]
    public void The_headless_command_is_the_contracts_command()
    {
        var cmd = QemuCommand.Headless("qemu-system-x86_64", "kernel.iso", BootMedium.Iso, MemorySize.Parse("256M"));
        Assert.Equal(
            "qemu-system-x86_64 -machine q35,accel=tcg -cpu max -m 256M -cdrom kernel.iso -boot d " +
            "-display none -no-reboot -monitor none -chardev stdio,id=com1,signal=off -serial chardev:com1 " +
            "-device isa-debug-exit,iobase=0xf4,iosize=0x04",
            cmd.ToString());
    }

    [Fact]
    public void A_screendump_run_adds_a_QMP_socket_and_keeps_the_rest_of_the_command()
    {
        var plain = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default);
        var withQmp = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default, "/tmp/a,b.sock");
        Assert.Equal(["-qmp", "unix:/tmp/a,,b.sock,server=on,wait=off"], withQmp.Arguments.SkipWhile(a => a != "-qmp").Take(2));
        Assert.Equal(plain.Arguments, withQmp.Arguments.Where((a, i) => a != "-qmp" && (i == 0 || withQmp.Arguments[i - 1] != "-qmp")));
        Assert.DoesNotContain("-qmp", plain.Arguments);
    }

    [Fact]
    public void Without_the_debug_exit_device_the_command_is_the_same_less_that_device()
    {
        var with = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default);
        var without = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default, debugExit: false);
        Assert.Equal(with.Arguments.Take(with.Arguments.Count - 2), without.Arguments);
        Assert.Equal(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"], with.Arguments.TakeLast(2));
        Assert.DoesNotContain(without.Arguments, a => a.Contains("debug-exit"));
        var interactive = QemuCommand.Interactive("qemu", "k.iso", BootMedium.Iso, MemorySize.Default, window: false, debugExit: false);
        Assert.DoesNotContain(interactive.Arguments, a => a.Contains("debug-exit"));
        Assert.Contains("-no-reboot", without.Arguments);
    }

    [Fact]
    public void Direct_boot_hands_QEMU_the_ELF_instead_of_the_ISO()
    {
        var cmd = QemuCommand.Headless("qemu", "kernel.elf", BootMedium.Direct, MemorySize.Parse("6G"));
        Assert.Equal(["-kernel", "kernel.elf"], cmd.Arguments.SkipWhile(a => a != "-kernel").Take(2));
        Assert.DoesNotContain("-cdrom", cmd.Arguments);
        Assert.Contains("6G", cmd.Arguments);
    }

    [Fact]
    public void The_interactive_command_lets_Ctrl_C_stop_QEMU_and_can_open_a_window()
    {
        var headless = QemuCommand.Interactive("qemu", "k.iso", BootMedium.Iso, MemorySize.Default, window: false);
        var window = QemuCommand.Interactive("qemu", "k.iso", BootMedium.Iso, MemorySize.Default, window: true);
        Assert.Contains("stdio,id=com1,signal=on", headless.Arguments);
        Assert.Contains("none", headless.Arguments.SkipWhile(a => a != "-display").Take(2));
        Assert.DoesNotContain("-display", window.Arguments);
    }

    [Fact]
    public void A_path_with_spaces_is_quoted_when_shown()
    {
        var cmd = QemuCommand.Headless("qemu", "/my isos/kernel.iso", BootMedium.Iso, MemorySize.Default);
        Assert.Contains("'/my isos/kernel.iso'", cmd.ToString());
        Assert.Contains("/my isos/kernel.iso", cmd.Arguments);
    }

    [Fact]
    public void A_missing_emulator_is_refused_with_the_Debian_package_to_install()
    {
        Assert.Null(QemuCommand.Locate("qemu-system-does-not-exist", out var error));
        Assert.Contains("qemu-system-x86", error);
    }
}
