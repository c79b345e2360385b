using System.Text.RegularExpressions;
using System.Xml.Linq;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// A [Fact] of the long run: skipped unless <c>KERNEL_TESTS_LONG=1</c>, so that ./test.sh stays
/// short (docs/test-runner.md, "The long run"). Such tests also carry the trait
/// <c>Category=LongRun</c>, so <c>--filter Category=LongRun</c> runs just them.
/// </summary>
public sealed class LongRunFactAttribute : FactAttribute
{
    public const string Variable = "KERNEL_TESTS_LONG";

    public LongRunFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
            Skip = $"long run only: {Variable}=1 dotnet test tests/QemuBoot.Tests -c Release --filter Category=LongRun (docs/test-runner.md)";
    }
}

/// <summary>
/// The minimum RAM an image states (the kernel derives it from its image and tables,
/// docs/kernel-heap.md): read from its boot banner ("memory: 256 MiB of RAM; this kernel needs
/// at least N MiB"). Booted once per image and test process.
/// </summary>
public static class KernelMinimum
{
    static readonly Dictionary<string, Lazy<Task<int>>> Known = new();
    static readonly Regex Banner = new(@"^memory: \d+ MiB of RAM; this kernel needs at least (\d+) MiB");

    public static Task<int> OfAsync(string? heap = null)
    {
        Lazy<Task<int>> once;
        lock (Known)
        {
            if (!Known.TryGetValue(heap ?? "", out once!))
                Known[heap ?? ""] = once = new Lazy<Task<int>>(() => LearnAsync(heap));
        }
        return once.Value;
    }

    static async Task<int> LearnAsync(string? heap)
    {
        var run = await KernelImage.ScriptAsync([], timeoutSeconds: 60, heap: heap);
        var m = run.BootOutput.Select(l => Banner.Match(l)).FirstOrDefault(x => x.Success);
        Assert.True(m != null, "the boot banner should state the kernel's minimum:\n" + KernelImage.Describe(run));
        return int.Parse(m!.Groups[1].Value);
    }
}

/// <summary>
/// Memory sizes are stated, not discovered: the kernel says how much RAM it needs and stops
/// cleanly below that; a suite or test that needs more says so in its SKIP; the boot banner
/// agrees with /proc/meminfo about RAM, the heap and swap.
/// </summary>
public class MemorySizeTests
{
    [Fact]
    public async Task Below_its_minimum_the_kernel_stops_at_boot_saying_how_much_RAM_it_needs_and_the_runner_reports_a_boot_failure()
    {
        int minimum = await KernelMinimum.OfAsync();
        Assert.InRange(minimum, 7, 64);
        // One MiB short, and 8 MiB (where the process table's constructor used to fail an allocation).
        foreach (int mib in new[] { minimum - 1, 8 }.Distinct())
        {
            var run = await KernelImage.RunAsync("all", $"{mib}M", timeoutSeconds: 60);
            string summary = $"this kernel needs at least {minimum} MiB of RAM; the machine has {mib} MiB";
            Assert.True(run.ExitCode == RunExitCode.Broken, KernelImage.Describe(run));
            Assert.Equal(summary, run.Panic);
            Assert.Equal($"boot failure: kernel panic before READY: {summary}", run.Reason);
            Assert.Empty(run.AllTests);
            // A sentence and the budget that explains it, not an allocator's failure report and a backtrace.
            Assert.Contains(summary, run.SerialTail);
            Assert.Contains($"on a machine of {minimum} MiB this kernel takes:", run.SerialTail);
            Assert.Contains(run.SerialTail, l => Regex.IsMatch(l, @"^\s+\d+ KiB  process table \(14 page tables\) and pid map$"));
            Assert.DoesNotContain(run.SerialTail, l => l.Contains("page allocation failure") || l.Contains("KERNEL PANIC") || l.Contains("backtrace"));
        }
    }

    [Fact]
    public async Task At_its_minimum_the_kernel_boots_and_its_banner_states_the_minimum_it_was_held_to()
    {
        int minimum = await KernelMinimum.OfAsync();
        var run = await KernelImage.ScriptAsync([], $"{minimum}M", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains($"memory: {minimum} MiB of RAM; this kernel needs at least {minimum} MiB (docs/kernel-heap.md)", run.BootOutput);
    }

    static long Field(Regex pattern, IEnumerable<string> lines, string what, int group = 1)
    {
        var m = lines.Select(l => pattern.Match(l)).FirstOrDefault(x => x.Success);
        Assert.True(m != null, $"no {what} line matching {pattern} in:\n  " + string.Join("\n  ", lines));
        return long.Parse(m!.Groups[group].Value);
    }

    static long SizeInKiB(string number, string unit) => long.Parse(number) * (unit == "MiB" ? 1024 : unit == "GiB" ? 1024 * 1024 : 1);

    [Theory]
    [InlineData(16)]
    [InlineData(128)]
    public async Task The_boot_banner_agrees_with_meminfo_about_RAM_the_heap_swap_and_the_address_space(int mib)
    {
        var run = await KernelImage.ScriptAsync(["meminfo", "run memhog 1G"], $"{mib}M", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        var banner = run.BootOutput;
        var meminfo = run.Exchanges[0].Output;

        Assert.Equal(mib, Field(new Regex(@"^memory: (\d+) MiB of RAM; this kernel needs at least \d+ MiB"), banner, "memory"));
        long heapPages = Field(new Regex(@"^heap: buddy, \S+ \S+ in (\d+) pages"), banner, "heap");
        Assert.Equal(heapPages * 4, Field(new Regex(@"^MemTotal:\s+(\d+) kB$"), meminfo, "MemTotal"));

        // Swap: the device's RAM is its segments; SwapTotal is one page less (slot 0 holds the header).
        long swapTotal = Field(new Regex(@"^SwapTotal:\s+(\d+) kB$"), meminfo, "SwapTotal");
        Assert.Equal(swapTotal, Field(new Regex(@"^SwapFree:\s+(\d+) kB$"), meminfo, "SwapFree"));
        var swap = banner.Select(l => Regex.Match(l, @"^swap: (\d+) (KiB|MiB) of RAM in (\d+) segment\(s\) of (\d+) (KiB|MiB), SwapTotal (\d+) kB \(slot 0: header; a teaching device\)$"))
                         .FirstOrDefault(m => m.Success);
        if (swap == null)
        {
            Assert.Contains(banner, l => Regex.IsMatch(l, @"^swap: none \(.+\); SwapTotal 0 kB$"));
            Assert.Equal(0, swapTotal);
        }
        else
        {
            long deviceKiB = SizeInKiB(swap.Groups[1].Value, swap.Groups[2].Value);
            long segments = long.Parse(swap.Groups[3].Value), segmentKiB = SizeInKiB(swap.Groups[4].Value, swap.Groups[5].Value);
            Assert.Equal(deviceKiB, segments * segmentKiB);
            Assert.Equal(deviceKiB - 4, swapTotal);
            Assert.Equal(swapTotal, long.Parse(swap.Groups[6].Value));
            // A quarter of the heap's RAM (at most 64 MiB), in whole segments.
            long quarterKiB = Math.Min(heapPages * 4 / 4, 64 * 1024);
            Assert.InRange(deviceKiB, quarterKiB - segmentKiB + 1, quarterKiB);
        }

        // The address space the banner states is the largest memhog the shell accepts.
        long addressSpaceMiB = Field(new Regex(@"^processes: .*, 14 slots of (\d+) MiB address space$"), banner, "processes");
        Assert.Contains($"run: size must be 1..{addressSpaceMiB * 256} pages", string.Join("\n", run.Exchanges[1].Output));
    }

    [Fact]
    public async Task A_test_that_needs_more_memory_than_the_machine_has_is_reported_skipped_with_its_minimum_in_the_results_and_the_JUnit_file()
    {
        var run = await KernelImage.RunAsync("measure", "16M", timeoutSeconds: 90);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        var skipped = Assert.Single(run.AllTests, t => t.Status == TestStatus.Skipped);
        Assert.Equal("Buddy_and_RAT_pages_and_objects_are_measured_in_the_same_boot", skipped.Name);
        Assert.Matches(@"^needs at least (\d+) MiB of RAM \(three 4 MiB blocks beyond the kernel's minimum: .+\); this machine has 16 MiB$", skipped.Message);
        Assert.True(run.Passed >= 3, KernelImage.Describe(run));

        var junit = XDocument.Load(KernelImage.JUnitPath("measure", "16M"));
        var skippedCase = Assert.Single(junit.Descendants("testcase"), c => c.Element("skipped") != null);
        Assert.Equal(skipped.Name, skippedCase.Attribute("name")?.Value);
        Assert.Equal(skipped.Message, skippedCase.Element("skipped")!.Attribute("message")?.Value);
    }

    [Fact]
    public async Task A_suite_whose_minimum_the_machine_lacks_is_reported_skipped_test_by_test_and_never_run()
    {
        var run = await KernelImage.RunAsync("selftest-memory", "16M", timeoutSeconds: 60);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        var suite = Assert.Single(run.Suites);
        Assert.Equal("selftest-memory", suite.Name);
        Assert.Equal(2, suite.Tests.Count);
        Assert.All(suite.Tests, t =>
        {
            Assert.Equal(TestStatus.Skipped, t.Status);
            Assert.Equal("needs at least 2097152 MiB of RAM (a deliberately impossible minimum); this machine has 16 MiB", t.Message);
        });
        Assert.Equal((0, 0, 2), run.End);
    }
}
