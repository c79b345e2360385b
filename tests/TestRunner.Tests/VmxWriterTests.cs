using TestRunner.Emulator;
using TestRunner.Reports;
using Xunit;

namespace TestRunner.Tests;

public class VmxWriterTests
{
    static Dictionary<string, string> Keys(string vmx) =>
        vmx.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var parts = line.Split(" = ", 2);
            Assert.True(parts.Length == 2 && parts[1].StartsWith('"') && parts[1].EndsWith('"'), $"not a key = \"value\" line: {line}");
            return (parts[0], parts[1][1..^1]);
        }).ToDictionary(p => p.Item1, p => p.Item2);

    [Fact]
    public void The_VM_boots_the_ISO_from_its_CD_ROM_drive()
    {
        var keys = Keys(VmxWriter.Content("kernel.iso", MemorySize.Default));
        Assert.Equal("TRUE", keys["ide1:0.present"]);
        Assert.Equal("cdrom-image", keys["ide1:0.deviceType"]);
        Assert.Equal("kernel.iso", keys["ide1:0.fileName"]);
        Assert.Equal("TRUE", keys["ide1:0.startConnected"]);
        Assert.Equal("other-64", keys["guestOS"]);
        Assert.Equal("bios", keys["firmware"]);
    }

    [Fact]
    public void COM1_goes_to_a_file_beside_the_vmx()
    {
        var keys = Keys(VmxWriter.Content("kernel.iso", MemorySize.Default));
        Assert.Equal("TRUE", keys["serial0.present"]);
        Assert.Equal("file", keys["serial0.fileType"]);
        Assert.Equal(VmxWriter.SerialLogName, keys["serial0.fileName"]);
    }

    [Theory]
    [InlineData("256M", "256")]
    [InlineData("6G", "6144")]
    [InlineData("130M", "132")]
    public void Memory_is_given_in_MiB_rounded_up_to_the_multiple_of_4_VMware_requires(string size, string memsize) =>
        Assert.Equal(memsize, Keys(VmxWriter.Content("kernel.iso", MemorySize.Parse(size)))["memsize"]);

    [Fact]
    public void Quotes_in_a_value_are_escaped_the_VMware_way()
    {
        var keys = Keys(VmxWriter.Content("my \"best\" kernel.iso", MemorySize.Default));
        Assert.Equal("my |22best|22 kernel.iso", keys["ide1:0.fileName"]);
    }

    [Fact]
    public void The_vmx_is_written_beside_the_ISO_and_names_it_relatively()
    {
        var dir = Directory.CreateTempSubdirectory("vmx-test");
        try
        {
            var iso = Path.Combine(dir.FullName, "kernel.iso");
            File.WriteAllText(iso, "");
            var path = VmxWriter.WriteBeside(iso, MemorySize.Default);
            Assert.Equal(Path.Combine(dir.FullName, "kernel.vmx"), path);
            Assert.Equal("kernel.iso", Keys(File.ReadAllText(path))["ide1:0.fileName"]);
        }
        finally { dir.Delete(true); }
    }
}
