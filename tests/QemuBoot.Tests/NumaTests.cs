using System.Text.RegularExpressions;
using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// The kernel on a NUMA machine (TestRunner --numa N): the in-kernel numa suite at 2 and 4 nodes
/// (one boot each: small memory, and 2 nodes at 3G and 4G, where RAM lies above 4 GiB), and the shell's numa, numastat and buddyinfo showing the nodes
/// QEMU was given (QemuCommand.NumaArguments: memory split evenly, distance 10 + 10 x |i - j|).
/// </summary>
public class NumaTests
{
    static async Task NumaSuitePasses(int nodes, string memory)
    {
        var run = await KernelImage.RunAsync("numa", memory, timeoutSeconds: 180, numaNodes: nodes);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Equal(0, run.Failed);
        Assert.Equal(0, run.Skipped);
        Assert.True(run.Passed >= 7, KernelImage.Describe(run));
    }

    [Fact]
    public Task The_numa_suite_passes_with_2_nodes_at_128M() => NumaSuitePasses(2, "128M");

    [Fact]
    public Task The_numa_suite_passes_with_4_nodes_at_256M() => NumaSuitePasses(4, "256M");

    // q35 keeps 2 GiB of RAM below the PCI hole and puts the rest at 4 GiB. At 3G node 1 is
    // [1.5 GiB, 2 GiB) and [4 GiB, 5 GiB): a DMA32 and a Normal zone. Each node's DMA32 zone is a
    // GiB or more, so its per-cpu list holds 378 pages (6 x batch 63): zone reclaim's freed pages
    // stay on it until it is full, which the suite's zone_reclaim_mode test had not allowed for.
    [Fact]
    public Task The_numa_suite_passes_with_2_nodes_at_3G_node_1_across_the_4_GiB_boundary() => NumaSuitePasses(2, "3G");

    // At 4G node 1 is [4 GiB, 6 GiB) alone: a Normal zone only, and the largest usable region, so
    // the heap's boot arena and the collector's maps lie on node 1, not node 0.
    [Fact]
    public Task The_numa_suite_passes_with_2_nodes_at_4G_node_1_wholly_above_4_GiB() => NumaSuitePasses(2, "4G");

    [Fact]
    public async Task Numa_shows_the_zonelists_of_nodes_with_DMA32_and_Normal_zones_in_node_and_zone_order()
    {
        var run = await KernelImage.ScriptAsync(["numa", "sysctl numa_zonelist_order zone", "numa"], "3G", timeoutSeconds: 120, numaNodes: 2);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string node = string.Join("\n", run.Exchanges[0].Output);
        Assert.Contains("SRAT: Node 1 PXM 1 [mem 0x0060000000-0x007fffffff]", node);
        Assert.Contains("SRAT: Node 1 PXM 1 [mem 0x0100000000-0x013fffffff]", node);
        // Node order: the node's own zones from the highest down, then the next node's.
        Assert.Contains("zonelist order: Node", node);
        Assert.Contains("node 0 zonelist: 0/DMA32 0/DMA 1/Normal 1/DMA32", node);
        Assert.Contains("node 1 zonelist: 1/Normal 1/DMA32 0/DMA32 0/DMA", node);
        // Zone order: each zone type across the nodes by distance, the highest type first, so
        // node 0's GFP_KERNEL allocations start on node 1's Normal and keep node 0's DMA32 for last but DMA.
        string zone = string.Join("\n", run.Exchanges[2].Output);
        Assert.Contains("zonelist order: Zone", zone);
        Assert.Contains("node 0 zonelist: 1/Normal 0/DMA32 1/DMA32 0/DMA", zone);
        Assert.Contains("node 1 zonelist: 1/Normal 1/DMA32 0/DMA32 0/DMA", zone);
    }

    [Fact]
    public async Task Script_with_two_nodes_shows_both_nodes_in_numa_numastat_and_buddyinfo()
    {
        var run = await KernelImage.ScriptAsync(["numa", "numastat", "buddyinfo"], "128M", timeoutSeconds: 90, numaNodes: 2);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string numa = string.Join("\n", run.Exchanges[0].Output);
        // The SRAT ranges are QEMU's split of 128M: node 1 is [64M, 128M).
        Assert.Contains("SRAT: Node 1 PXM 1 [mem 0x0004000000-0x0007ffffff]", numa);
        Assert.Contains("available: 2 nodes (0-1)", numa);
        int d = QemuCommand.NumaDistance(0, 1);   // what --numa gave QEMU's SLIT
        Assert.Contains($"node distances:\nnode    0   1\n  0:   10  {d}\n  1:   {d}  10", numa);
        Assert.Matches(new Regex(@"^\s+node0\s+node1$", RegexOptions.Multiline), string.Join("\n", run.Exchanges[1].Output));
        Assert.Matches(new Regex(@"^numa_hit\s+\d+\s+\d+$", RegexOptions.Multiline), string.Join("\n", run.Exchanges[1].Output));
        string buddy = string.Join("\n", run.Exchanges[2].Output);
        Assert.Contains("Node 0, zone    DMA32", buddy);
        Assert.Contains("Node 1, zone    DMA32", buddy);
    }

    [Fact]
    public async Task Script_FILE_with_numa_2_prints_two_nodes_in_numastat_and_buddyinfo()
    {
        // Issue 15's "done when", through the command line exactly as a person types it.
        var layout = await KernelImage.RequireAsync();
        string file = Path.Combine(Path.GetTempPath(), $"numa-script-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, "numastat\nbuddyinfo\n");
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            int exit = await TestRunner.Cli.Entry.RunAsync(["script", file, "--numa", "2", "--memory", "128M", "--iso", layout.IsoPath, "--timeout", "90"], output, error, fancy: false);
            string text = output.ToString().Replace("\r\n", "\n");
            Assert.True(exit == 0, $"exit {exit}\n{text}\n{error}");
            Assert.Matches(new Regex(@"^\s+node0\s+node1$", RegexOptions.Multiline), text);
            Assert.Matches(new Regex(@"^numa_hit\s+\d+\s+\d+$", RegexOptions.Multiline), text);
            Assert.Matches(new Regex(@"^Node 0, zone    DMA32(\s+\d+){11}\s*$", RegexOptions.Multiline), text);
            Assert.Matches(new Regex(@"^Node 1, zone    DMA32(\s+\d+){11}\s*$", RegexOptions.Multiline), text);
            Assert.DoesNotContain("Node 2,", text);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task Numa_zonelist_order_zone_on_the_kernel_command_line_builds_the_zonelists_in_zone_order()
    {
        // An ISO boot: the per-run grub.cfg puts the option on the multiboot2 line (tag 1).
        var serial = new StringWriter();
        var run = await KernelImage.ScriptAsync(["numa"], "128M", timeoutSeconds: 90, numaNodes: 2, commandLine: "numa_zonelist_order=zone", serialLog: serial);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string boot = serial.ToString();
        Assert.Contains("Kernel command line: numa_zonelist_order=zone", boot);
        Assert.Contains("numa_zonelist_order: zone order (from the command line)", boot);
        string numa = string.Join("\n", run.Exchanges[0].Output);
        Assert.Contains("zonelist order: Zone", numa);
        // Zone order: each node's DMA32 by distance, then DMA (node order would be 0/DMA32 0/DMA 1/DMA32).
        Assert.Contains("node 0 zonelist: 0/DMA32 1/DMA32 0/DMA", numa);
        Assert.Contains("node 1 zonelist: 1/DMA32 0/DMA32 0/DMA", numa);
    }

    [Fact]
    public async Task A_bad_numa_zonelist_order_is_refused_at_boot_with_a_message_and_node_order_is_kept()
    {
        // A direct boot: QEMU's multiboot1 loader passes -append's text behind the image's path.
        var serial = new StringWriter();
        var run = await KernelImage.ScriptAsync(["numa"], "128M", timeoutSeconds: 90, numaNodes: 2, medium: BootMedium.Direct,
            commandLine: "numa_zonelist_order=sideways", serialLog: serial);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains("numa_zonelist_order: bad value \"sideways\" refused (node or zone): node order, the default, is used", serial.ToString());
        string numa = string.Join("\n", run.Exchanges[0].Output);
        Assert.Contains("zonelist order: Node", numa);
        Assert.Contains("node 0 zonelist: 0/DMA32 0/DMA 1/DMA32", numa);
        Assert.Contains("node 1 zonelist: 1/DMA32 0/DMA32 0/DMA", numa);
    }

    [Fact]
    public async Task Without_numa_the_machine_is_one_node()
    {
        var run = await KernelImage.ScriptAsync(["numa", "numastat"], "64M", timeoutSeconds: 90);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string numa = string.Join("\n", run.Exchanges[0].Output);
        Assert.Contains("numa: one node: no SRAT (one node)", numa);
        Assert.Contains("available: 1 node (0)", numa);
        Assert.Matches(new Regex(@"^\s+node0$", RegexOptions.Multiline), string.Join("\n", run.Exchanges[1].Output));
    }
}
