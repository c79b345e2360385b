using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>The collector seen from the shell: process lifetimes leave nothing behind once `gc` has run (docs/gc.md).</summary>
public class GcScriptTests
{
    static long Kb(IEnumerable<string> lines, string key)
    {
        var m = Regex.Match(string.Join("\n", lines), Regex.Escape(key) + @"\s+(\d+) kB");
        Assert.True(m.Success, key + " not found in:\n" + string.Join("\n", lines));
        return long.Parse(m.Groups[1].Value);
    }

    /// <summary>
    /// What a collection may keep of the garbage: nothing, once the two false roots are gone
    /// that used to pin the latest lifetime or two (8 to 20 kB of MemFree): stale task pointers in
    /// unwritten slots of the shell's frames (the shell now zeroes its dead stack before each
    /// command) and the boot page tables, whose entries (2 MiB * k | 0x83) read as addresses inside
    /// heap objects (no longer scanned). The object count keeps two of slack: the live count after
    /// a collection moves by up to two from run to run (60 to 62 in 24 runs here, in either
    /// collection), with MemFree equal in all of them.
    /// </summary>
    const int SlackObjects = 2;

    [Fact]
    public async Task Three_hundred_idle_process_lifetimes_then_gc_bring_MemFree_back_to_its_boot_value()
    {
        const int lifetimes = 300;
        int firstPid = 3;   // 1 init, 2 kswapd0
        // The first lifetimes create the program table's objects once: two slots, since a program
        // killed by one line may still be exiting when the next line starts another (the kill
        // wakes it; it exits when it next runs). `gc` then gives the boot baseline.
        var commands = new List<string> { "run idle 1M", "run idle 1M", $"kill {firstPid}", $"kill {firstPid + 1}", "sleep 100", "gc", "meminfo" };
        for (int i = 2; i < lifetimes; i++) { commands.Add("run idle 1M"); commands.Add($"kill {firstPid + i}"); }
        commands.AddRange(["sleep 300", "run idle 1M", $"kill {firstPid + lifetimes}", "sleep 300", "gc", "meminfo", "vmstat"]);
        var run = await KernelImage.ScriptAsync(commands, memory: "128M", timeoutSeconds: 400);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);
        var meminfo = run.Exchanges.Where(e => e.Output.Any(l => l.StartsWith("MemFree:"))).ToList();
        var gcs = run.Exchanges.Where(e => e.Output.Any(l => l.StartsWith("gc: collection"))).ToList();
        Assert.True(meminfo.Count == 2 && gcs.Count == 2, KernelImage.Describe(run));
        long boot = Kb(meminfo[0].Output, "MemFree:");
        string gc = string.Join("\n", gcs[1].Output);
        long after = Kb(meminfo[1].Output, "MemFree:");
        var objects = Regex.Match(gc, @"objects (\d+) -> (\d+)");
        Assert.True(objects.Success, gc);
        // Each later lifetime leaves its task object and its wait queue as garbage: all of it goes.
        long collected = long.Parse(objects.Groups[1].Value) - long.Parse(objects.Groups[2].Value);
        Assert.True(collected >= 2 * (lifetimes - 1) - SlackObjects, gc);   // the first two lifetimes are in the baseline, the last one is garbage too
        // vmstat carries the collector's totals: the two collections and what they freed.
        var vmstat = run.Exchanges.Single(e => e.Command == "vmstat").Output;
        string totals = string.Join("\n", gcs[1].Output);
        Assert.Contains("gc_collections 2", vmstat);
        Assert.Contains("gc_objects_freed " + Regex.Match(totals, @"gc_objects_freed (\d+)").Groups[1].Value, vmstat);
        Assert.Contains("gc_pages_freed " + Regex.Match(totals, @"gc_pages_freed (\d+)").Groups[1].Value, vmstat);
        Assert.True(after == boot, $"MemFree {after} kB after {lifetimes} lifetimes and gc; {boot} kB at boot\n{string.Join("\n", gcs[0].Output)}\n{gc}");
    }
}
