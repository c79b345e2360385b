using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// Memhog start/kill cycles with mixed oom_score_adj at 128 MiB: every cycle OOM-kills one
/// process, swaps, kills the rest, and must end with nothing lost. CI runs a few cycles; the long
/// soak is the same test with more (docs/testing.md): KERNEL_SOAK_CYCLES=200 dotnet test
/// tests/QemuBoot.Tests -c Release --filter Soak.
/// </summary>
public class SoakTests
{
    /// <summary>
    /// The leak per process lifetime once `gc` has run: none. (Before the collector, the task
    /// object and its joiners' wait queue stayed forever; the collector frees them once nothing
    /// refers to the reaped task.) What a collection may keep is not a leak but conservative
    /// retention: the latest one or two lifetimes' task objects (kmalloc-128) and wait queues
    /// (kmalloc-64), still named by stale words on a stack (docs/gc.md, "Limits"). That bound does
    /// not grow with the cycles. A cycle is three lifetimes.
    /// </summary>
    static readonly Dictionary<string, int> RetainedAtMost = new() { ["kmalloc-128"] = 2, ["kmalloc-64"] = 2 };
    const int LifetimesPerCycle = 3;

    static int Cycles => int.TryParse(Environment.GetEnvironmentVariable("KERNEL_SOAK_CYCLES"), out int n) && n >= 2 ? n : 4;

    record Snapshot(long MemFreeKb, long SwapFreeKb, Dictionary<string, (long Active, long SlabPages)> Slabs, string Text)
    {
        public long SlabPages => Slabs.Values.Sum(s => s.SlabPages);
    }

    static Snapshot Read(IEnumerable<string> lines)
    {
        var text = string.Join("\n", lines);
        long Kb(string field) => long.Parse(Regex.Match(text, $@"^{Regex.Escape(field)}\s+(\d+) kB", RegexOptions.Multiline).Groups[1].Value);
        var slabs = new Dictionary<string, (long, long)>();
        // name active_objs num_objs objsize objperslab pagesperslab : tunables ... : slabdata active_slabs num_slabs sharedavail
        foreach (Match m in Regex.Matches(text, @"^(kmalloc-\S+)\s+(\d+)\s+\d+\s+\d+\s+\d+\s+(\d+) : tunables.* : slabdata\s+\d+\s+(\d+)", RegexOptions.Multiline))
            slabs[m.Groups[1].Value] = (long.Parse(m.Groups[2].Value), long.Parse(m.Groups[3].Value) * long.Parse(m.Groups[4].Value));
        Assert.True(slabs.Count > 0, "no slabinfo in:\n" + text);
        return new Snapshot(Kb("MemFree:"), Kb("SwapFree:"), slabs, text);
    }

    [Fact]
    public async Task Memhog_cycles_with_mixed_oom_adj_end_every_cycle_with_memory_swap_and_slabs_back_and_no_page_corrupted()
    {
        int cycles = Cycles;
        var commands = new List<string> { "meminfo", "slabinfo" };
        int firstPid = 3;                       // 1 init, 2 kswapd0
        for (int c = 0; c < cycles; c++)
        {
            int pid = firstPid + LifetimesPerCycle * c;
            commands.AddRange(
            [
                "run memhog 48M 512 adj=-500",
                "run memhog 48M 512 adj=0",
                "run memhog 64M 512 adj=500",   // 160 MiB against 124 MiB of RAM and 28 MiB of swap
                "sleep 2500",
                $"kill {pid}", $"kill {pid + 1}", $"kill {pid + 2}",
                "sleep 300",
                "gc",
                "ps", "meminfo", "slabinfo",
            ]);
        }
        var run = await KernelImage.ScriptAsync(commands, memory: "128M", timeoutSeconds: 60 + 15 * cycles);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);

        IEnumerable<string> Out(int i) => run.Exchanges[i].Output;
        var boot = Read(Out(0).Concat(Out(1)));
        const int perCycle = 12;
        Snapshot? warm = null;
        for (int c = 0; c < cycles; c++)
        {
            int at = 2 + perCycle * c, pid = firstPid + LifetimesPerCycle * c;
            string cycle = string.Join("\n", Enumerable.Range(at, perCycle).SelectMany(Out));
            for (int k = 0; k < LifetimesPerCycle; k++)
                Assert.True(cycle.Contains($"started memhog pid {pid + k} "), $"cycle {c}: memhog pid {pid + k} was not started:\n{cycle}");
            // The OOM killer chose the adj=500 memhog, once; the others ended by kill.
            Assert.Single(Regex.Matches(cycle, "Out of memory: Killed process"));
            Assert.Contains($"Out of memory: Killed process {pid + 2} (memhog)", cycle);
            Assert.Contains($"memhog (pid {pid}) exited; its memory is freed", cycle);
            Assert.Contains($"memhog (pid {pid + 1}) exited; its memory is freed", cycle);
            var ps = string.Join("\n", Out(at + 9));
            var check = Regex.Match(ps, @"pages checked after swap-in since boot: (\d+), found corrupted: (\d+)");
            Assert.True(check.Success, ps);
            Assert.True(long.Parse(check.Groups[1].Value) > 0, $"cycle {c}: no page came back from swap:\n{ps}");
            Assert.Equal("0", check.Groups[2].Value);
            Assert.DoesNotContain(" memhog", ps.Replace("memhog (pid", ""));   // no memhog left in the table

            var now = Read(Out(at + 10).Concat(Out(at + 11)));
            Assert.True(now.SwapFreeKb == boot.SwapFreeKb, $"cycle {c}: SwapFree {now.SwapFreeKb} kB, at boot {boot.SwapFreeKb} kB");
            if (c == 0) { warm = now; continue; }   // the first cycle creates the program table's objects once
            // Every page is back: free memory moved only by the slab pages the stated leak needed.
            Assert.True(now.MemFreeKb + 4 * (now.SlabPages - warm!.SlabPages) == warm.MemFreeKb,
                $"cycle {c}: MemFree {now.MemFreeKb} kB, slab pages {now.SlabPages}; after the first cycle {warm.MemFreeKb} kB, {warm.SlabPages}");
            foreach (var (cache, (active, _)) in now.Slabs)
            {
                long allowed = RetainedAtMost.GetValueOrDefault(cache);
                long grown = active - warm.Slabs[cache].Active;
                Assert.True(Math.Abs(grown) <= allowed,
                    $"cycle {c}: {cache} has {active} active objects, {warm.Slabs[cache].Active} after the first cycle; conservative retention allows {allowed} more, and nothing may grow with the cycles");
            }
        }
    }
}
