using TestRunner.Cli;
using TestRunner.Emulator;
using Xunit;

using static TestRunner.Tests.CliRun;

namespace TestRunner.Tests;

/// <summary>--numa N: QEMU gets N RAM backends of memory/N each, a -numa node per backend and a SLIT of 10 + 10 x |i - j|.</summary>
public class NumaOptionTests : IDisposable
{
    readonly FakeEmulator fake = new([]);

    public void Dispose() => fake.Dispose();

    [Fact]
    public void Two_nodes_split_the_memory_evenly_and_are_20_apart()
    {
        var cmd = QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Parse("128M"), numaNodes: 2);
        string line = cmd.ToString();
        Assert.Contains("-m 128M -object memory-backend-ram,id=ram0,size=64M -numa node,nodeid=0,memdev=ram0 " +
                        "-object memory-backend-ram,id=ram1,size=64M -numa node,nodeid=1,memdev=ram1 " +
                        "-numa dist,src=0,dst=1,val=20 -numa dist,src=1,dst=0,val=20 -cdrom kernel.iso", line);
    }

    [Fact]
    public void The_last_node_takes_what_does_not_divide_evenly_and_distances_grow_along_the_chain()
    {
        var args = QemuCommand.NumaArguments(MemorySize.Parse("130M"), 4);
        Assert.Equal(["memory-backend-ram,id=ram0,size=32M", "memory-backend-ram,id=ram1,size=32M", "memory-backend-ram,id=ram2,size=32M", "memory-backend-ram,id=ram3,size=34M"],
            args.Where(a => a.StartsWith("memory-backend-ram")));
        Assert.Contains("dist,src=0,dst=3,val=40", args);
        Assert.Contains("dist,src=2,dst=1,val=20", args);
        Assert.Equal(12, args.Count(a => a.StartsWith("dist,")));
    }

    [Fact]
    public void Without_numa_the_command_has_no_numa_arguments()
    {
        Assert.Empty(QemuCommand.NumaArguments(MemorySize.Default, 0));
        Assert.DoesNotContain("-numa", QemuCommand.Headless("qemu", "kernel.iso", BootMedium.Iso, MemorySize.Default).Arguments);
    }

    [Theory]
    [InlineData("1", "--numa: '1' is out of range: use 2 to 8 nodes")]
    [InlineData("9", "--numa: '9' is out of range: use 2 to 8 nodes")]
    [InlineData("two", "--numa: 'two' is not a whole number of nodes (2 to 8)")]
    public async Task A_node_count_outside_2_to_8_is_refused_and_nothing_starts(string value, string message)
    {
        var (exit, output, error) = await Run("test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--numa", value);
        Assert.Equal(2, exit);
        Assert.Contains($"error: {message}", error);
        Assert.Equal("", output);
        Assert.False(fake.Started, "the emulator was started");
    }

    [Fact]
    public async Task Nodes_smaller_than_16_MiB_are_refused_with_the_memory_that_would_do()
    {
        var (exit, _, error) = await Run("test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--numa", "4", "--memory", "32M");
        Assert.Equal(2, exit);
        Assert.Contains("error: --numa 4 with --memory 32M gives each node 8 MiB: each node needs at least 16 MiB (use --memory 64M or more)", error);
        Assert.False(fake.Started, "the emulator was started");
    }
}
