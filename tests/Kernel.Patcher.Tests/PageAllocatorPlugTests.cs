using System.Reflection;
using Kernel.Patcher;
using MemoryManager.Allocator;
using Xunit;

namespace Kernel.Patcher.Tests;

/// <summary>
/// The page-allocator seam on the host (docs/plugs.md, "The page-allocator seam"): the host build
/// of MemoryManager is patched with the page-allocator template exactly as the kernel build patches
/// MemoryManager.Kernel (the template's source, the patcher, MemoryManager.Allocator.FreeLists as
/// the target), loaded beside an unpatched copy, and both run the same seeded workload of mixed
/// orders through the zoned allocator (per-cpu lists, watermarks, the fast and slow paths). Every
/// block goes through the plug: the template's free lists keep every invariant the checker knows,
/// but, never merging, they end fragmented where the buddy's end whole.
/// </summary>
public sealed class PageAllocatorPlugTests : IDisposable
{
    const string Driver = """
        using System;
        using System.Collections.Generic;
        using System.Runtime.InteropServices;
        using System.Text;
        using MemoryManager.Allocator;
        using MemoryManager.Common;
        using MemoryManager.Core;

        namespace Driver
        {
            public sealed class Sink : ITextSink
            {
                public readonly StringBuilder Text = new StringBuilder();
                public void Write(string s) => Text.Append(s);
                public void Write(char c) => Text.Append(c);
            }

            public static unsafe class Run
            {
                /// <summary>64 MiB, 20000 seeded steps of order 0..5 allocations and frees, then everything freed. Answers key=value lines.</summary>
                public static string Workload(int seed)
                {
                    var map = new MemoryMap();
                    map.Add(0, 64UL << 20);
                    var o = new AllocatorOptions { PerCpuLists = true };
                    Page* memmap = (Page*)NativeMemory.AllocZeroed((nuint)PageAllocator.MemmapBytes(map));
                    if (PageAllocator.Create(map, memmap, null, o, out PageAllocator pa) != MmResult.Ok) return "create=failed";
                    var log = new Sink();
                    pa.Log = log;
                    var task = new TaskContext(100, "driver", TaskFlags.None);
                    ulong order10AtStart = pa.GetZone(0, ZoneType.Dma32).NrFreeBlocks(10);
                    var rng = new Random(seed);
                    var held = new List<(ulong Pfn, int Order)>();
                    int misaligned = 0, failed = 0;
                    for (int step = 0; step < 20000; step++)
                    {
                        if (held.Count > 0 && (held.Count > 3000 || rng.Next(3) == 0))
                        {
                            int i = rng.Next(held.Count);
                            var b = held[i];
                            held[i] = held[held.Count - 1];
                            held.RemoveAt(held.Count - 1);
                            if (pa.FreePages(b.Pfn, b.Order, task.Pid) != MmResult.Ok) return "free=refused";
                            continue;
                        }
                        int order = rng.Next(4) == 0 ? rng.Next(1, 6) : 0;
                        ulong pfn = pa.AllocPages(ref task, Gfp.GFP_ATOMIC | Gfp.NoWarn, order);
                        if (pfn == PageAllocator.NoPfn) { failed++; continue; }
                        if ((pfn & ((1UL << order) - 1)) != 0) misaligned++;
                        held.Add((pfn, order));
                    }
                    bool busyOk = pa.CheckInvariants(log);
                    foreach (var b in held) pa.FreePages(b.Pfn, b.Order, task.Pid);
                    pa.DrainPerCpuLists();
                    bool idleOk = pa.CheckInvariants(log);
                    return "name=" + FreeLists.Name + "\nmerges=" + FreeLists.Merges
                        + "\nbusy_invariants=" + busyOk + "\nidle_invariants=" + idleOk
                        + "\nmisaligned=" + misaligned + "\nfailed=" + failed
                        + "\nfree=" + pa.NrFreePages + "\nmanaged=" + pa.TotalManagedPages
                        + "\norder10_at_start=" + order10AtStart + "\norder10_at_end=" + pa.GetZone(0, ZoneType.Dma32).NrFreeBlocks(10)
                        + "\norder0_at_end=" + pa.GetZone(0, ZoneType.Dma32).NrFreeBlocks(0)
                        + "\nlog=" + log.Text.ToString().Replace('\n', '|');
                }
            }
        }
        """;

    readonly Fixtures fixtures = new();
    public void Dispose() => fixtures.Dispose();

    static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Kernel.sln"))) return dir.FullName;
        throw new InvalidOperationException("no Kernel.sln above " + AppContext.BaseDirectory);
    }

    static string MemoryManagerPath => typeof(PageAllocator).Assembly.Location;

    /// <summary>The driver, compiled once per test: every run loads this one file (see Fixtures.Compile).</summary>
    string? driverPath;

    /// <summary>Runs the driver over <paramref name="inputs"/> (MemoryManager, patched or not, and the plug) in a context of its own.</summary>
    Dictionary<string, string> RunWorkload(IEnumerable<string> inputs, int seed)
    {
        driverPath ??= fixtures.Compile("Driver", Driver, MemoryManagerPath);
        using var loaded = new Fixtures.Loaded(inputs.Append(driverPath));
        var run = loaded.Type("Driver", "Driver.Run").GetMethod("Workload", BindingFlags.Public | BindingFlags.Static)!;
        string text = (string)run.Invoke(null, [seed])!;
        return text.Split('\n').Select(l => l.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
    }

    static string TemplateSource => File.ReadAllText(Path.Combine(RepoRoot(), "CosmosKernel/Plugs/PageAllocatorTemplate/TemplateFreeLists.cs"));

    /// <summary>The host MemoryManager patched with a page-allocator plug compiled from <paramref name="source"/>: the inputs to load.</summary>
    IReadOnlyList<string> Patched(string source, string plugClass = "Kernel.Plugs.PageAllocatorTemplate.TemplateFreeLists")
    {
        string plug = fixtures.Compile("Kernel.Plugs.PageAllocatorTemplate", source + "\n" + Fixtures.Attributes, MemoryManagerPath);
        var patched = PlugPatcher.Patch(new PatchRequest([MemoryManagerPath], [new PlugInput(plug, "Kernel.Plugs.PageAllocatorTemplate.csproj")], fixtures.OutputDirectory));
        Assert.True(patched.Succeeded, string.Join("\n", patched.Diagnostics));
        Assert.Contains(patched.Applied, line => line.StartsWith($"plugged MemoryManager.Allocator.FreeLists with {plugClass} (4 methods"));
        return patched.IlcInputs;
    }

    [Fact]
    public void Under_the_page_template_every_block_goes_through_its_free_lists_which_keep_the_invariants_but_never_merge()
    {
        var template = RunWorkload(Patched(TemplateSource), seed: 12);
        var buddy = RunWorkload([MemoryManagerPath], seed: 12);

        Assert.Equal(("template", "False"), (template["name"], template["merges"]));
        Assert.Equal(("buddy", "True"), (buddy["name"], buddy["merges"]));
        foreach (var run in new[] { template, buddy })
        {
            Assert.True(run["busy_invariants"] == "True" && run["idle_invariants"] == "True", run["name"] + ": " + run["log"]);
            Assert.Equal("0", run["misaligned"]);
            Assert.Equal(run["managed"], run["free"]);            // every page came back
        }
        // The same memory at rest: the buddy has merged it back into whole 4 MiB blocks, the template has not.
        Assert.Equal(buddy["order10_at_start"], buddy["order10_at_end"]);
        Assert.True(long.Parse(template["order10_at_end"]) < long.Parse(template["order10_at_start"]),
            $"template: order-10 blocks {template["order10_at_start"]} at start, {template["order10_at_end"]} at the end");
        Assert.True(long.Parse(template["order0_at_end"]) > long.Parse(buddy["order0_at_end"]));
    }

    [Fact]
    public void A_page_allocator_that_does_not_count_the_blocks_it_puts_on_a_list_is_caught_by_the_invariant_checker()
    {
        const string count = "z.FreeAreaNrFree[order]++;";
        Assert.Contains(count, TemplateSource);
        var broken = RunWorkload(Patched(TemplateSource.Replace(count, "")), seed: 12);
        Assert.Equal("False", broken["idle_invariants"]);
        Assert.Contains("invariant broken: free list length differs from nr_free", broken["log"]);
    }

    [Fact]
    public void Lab_02s_reference_solution_merges_like_the_buddy_and_passes_the_checkers_merge_rule()
    {
        string source = File.ReadAllText(Path.Combine(RepoRoot(), "teacher/lab02-buddy/BuddyFreeLists.cs"));
        var reference = RunWorkload(Patched(source, "Kernel.Plugs.BuddyFreeLists.BuddyFreeLists"), seed: 12);
        var buddy = RunWorkload([MemoryManagerPath], seed: 12);
        Assert.Equal(("lab02-reference", "True"), (reference["name"], reference["merges"]));
        Assert.True(reference["busy_invariants"] == "True" && reference["idle_invariants"] == "True", reference["log"]);
        Assert.Equal(reference["managed"], reference["free"]);
        Assert.Equal(buddy["order10_at_end"], reference["order10_at_end"]);
        Assert.Equal(buddy["order0_at_end"], reference["order0_at_end"]);
    }
}
