using System.Text;
using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>The shell over serial, driven the way labs and scripted scenarios drive it (TestRunner's script mode).</summary>
public class ShellScriptTests
{
    static IEnumerable<string> AllOutput(ScriptResult run) => run.Exchanges.SelectMany(e => e.Output);

    static string OutputOf(ScriptResult run, string command) =>
        string.Join("\n", run.Exchanges.Where(e => e.Command == command).SelectMany(e => e.Output));

    [Fact]
    public async Task The_shell_halts_cleanly_when_the_script_ends()
    {
        var run = await KernelImage.ScriptAsync([]);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Equal("halt", Assert.Single(run.Exchanges).Command);
        Assert.Equal(EmulatorStatus.AllPassed, run.EmulatorStatus);
    }

    [Fact]
    public async Task Memhogs_beyond_RAM_and_swap_end_in_one_OOM_kill_with_the_Linux_line_and_kswapd_at_work()
    {
        var run = await KernelImage.ScriptAsync(
        [
            "run idle 4M adj=-1000",
            "run memhog 100M 512",
            "run memhog 80M 256",
            "sleep 3000",
            "ps",
            "kswapd",
            "vmstat",
        ], memory: "128M", timeoutSeconds: 120);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        string all = string.Join("\n", AllOutput(run));
        Assert.Matches(new Regex(@"Out of memory: Killed process \d+ \(memhog\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB"), all);
        Assert.Single(Regex.Matches(all, "Out of memory: Killed process"));
        Assert.Contains("memhog invoked oom-killer: gfp_mask=0x", all);
        Assert.Contains("exited after the OOM kill; its memory is reaped", all);
        Assert.Contains("oom_kill 1", OutputOf(run, "vmstat").Split('\n'));
        // The idle process at oom_score_adj -1000 is still there; kswapd is a kernel thread.
        string ps = OutputOf(run, "ps");
        Assert.Matches(new Regex(@"\n\s*3 running .* -1000 idle"), "\n" + ps);
        Assert.Contains("[kswapd0]", ps);
        var pageoutrun = Regex.Match(OutputOf(run, "kswapd"), @"pageoutrun (\d+)");
        Assert.True(pageoutrun.Success && long.Parse(pageoutrun.Groups[1].Value) > 0, "kswapd ran:\n" + OutputOf(run, "kswapd"));
    }

    [Fact]
    public async Task Bad_commands_numbers_and_out_of_range_values_get_usage_messages_and_the_kernel_keeps_running()
    {
        (string Command, string Expected)[] cases =
        [
            ("frob", "unknown command 'frob'"),
            ("kill", "usage: kill <pid>"),
            ("kill abc", "kill: 'abc' is not a pid"),
            ("kill 1", "kill: init and kernel threads cannot be killed"),
            ("kill 99", "kill: no such process 99"),
            ("oom_adj 1 5000", "oom_score_adj must be in -1000..1000"),
            ("oom_adj 1 -1001", "oom_score_adj must be in -1000..1000"),
            ("oom_adj 1 x", "oom_adj: 'x' is not a number"),
            ("run", "usage: run memhog"),
            ("run frobnicator", "run: no program named 'frobnicator'"),
            ("run memhog 12Q", "run: bad size '12Q'"),
            ("run memhog 1G", "run: size must be 1..32768 pages"),
            ("run memhog 4M 0", "run: rate must be 1..4096"),
            ("run memhog 4M adj=2000", "run: oom_score_adj must be in -1000..1000"),
            ("alloc 11", "alloc: order must be 0..10"),
            ("alloc 0 bogus", "alloc: unknown gfp 'bogus'"),
            ("free", "usage: free <pfn>"),
            ("watermarks scale 9999", "must be in 0..3000"),
            ("watermarks min_free_kbytes -5", "min_free_kbytes must be in 0..262144"),
            ("watermarks frob", "usage: watermarks"),
            ("sleep 0", "usage: sleep"),
            ("test", "usage: test <suite>|all"),
            ("test nosuch", "no suite named 'nosuch'"),
            ("test heap -1", "usage: test <suite>|all [<first test's number in the plan, from 0>]"),
            ("help", "commands: help"),
        ];
        var run = await KernelImage.ScriptAsync(cases.Select(c => c.Command).ToList(), timeoutSeconds: 90);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.Equal(cases[i].Command, run.Exchanges[i].Command);
            string output = string.Join("\n", run.Exchanges[i].Output);
            Assert.True(output.Contains(cases[i].Expected), $"'{cases[i].Command}' should answer '{cases[i].Expected}' but answered:\n{output}");
        }
    }

    [Fact]
    public async Task Random_bytes_and_long_lines_get_their_refusal_or_run_and_help_still_answers()
    {
        var random = new Random(6);   // seeded: the same bytes every run
        var lines = new List<string>();
        var refusals = new List<string?>();
        for (int i = 0; i < 150; i++)
        {
            int length = i % 10 == 0 ? 200 + random.Next(400) : random.Next(60);
            var sb = new StringBuilder();
            for (int k = 0; k < length; k++)
            {
                int c = random.Next(10) == 0 ? random.Next(32) : 32 + random.Next(95);   // control characters too
                if (c == '\n' || c == '\r') c = ' ';                                    // one line per command
                sb.Append((char)c);
            }
            string line = sb.ToString();
            // Never a command that ends or loads the machine: as the shell reads the line (backspace
            // erases, TAB separates), a first word that could be one is made unknown.
            if (ShellInput.Refusal(line, out var words) == null && words.Length > 0
                && (words[0] is "halt" or "test" or "run" or "alloc" or "sleep" or "bench" || words[0].StartsWith('#')))
                line = "x" + line;
            lines.Add(line);
            refusals.Add(ShellInput.Refusal(line, out _));
        }
        lines.Add("help");
        var run = await KernelImage.ScriptAsync(lines, timeoutSeconds: 120);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);
        Assert.True(refusals.Count(r => r != null) >= 50, "the seed should give many lines to refuse");
        for (int i = 0; i < refusals.Count; i++)
        {
            var answer = run.Exchanges[i].Output.Skip(1).ToList();   // after the echoed line
            if (refusals[i] is string refusal)
                Assert.True(answer.SequenceEqual([refusal]), $"line {i} should answer only '{refusal}' but answered:\n{string.Join("\n", answer)}");
            else
                Assert.DoesNotContain(answer, l => l.Contains("nothing was run"));
        }
        Assert.Contains(run.Exchanges.Last(e => e.Command == "help").Output, l => l.StartsWith("commands: help"));
    }

    static long FreePages(ScriptExchange mem)
    {
        var m = mem.Output.Select(l => Regex.Match(l, @"buddy\s+free (\d+) \+ per-cpu (\d+)")).First(x => x.Success);
        return long.Parse(m.Groups[1].Value) + long.Parse(m.Groups[2].Value);
    }

    [Fact]
    public async Task A_thousand_commands_leave_free_pages_within_a_few_pages_of_where_they_were()
    {
        string[] mix = ["ps", "kswapd", "frob", "oom_adj 1 5000", "watermarks", "vmstat", "run memhog 1Q", "kill 77", "buddyinfo", "alloc 12"];
        var commands = new List<string> { "mem" };
        for (int i = 0; i < 1000; i++) commands.Add(mix[i % mix.Length]);
        commands.Add("mem");
        var run = await KernelImage.ScriptAsync(commands, timeoutSeconds: 400);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        long before = FreePages(run.Exchanges[0]), after = FreePages(run.Exchanges[^2]);
        Assert.True(Math.Abs(before - after) <= 8, $"free pages before {before}, after 1000 commands {after}");
    }
}
