using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using MemoryManager.Processes;
using Simulator.Engine;
using Xunit;

namespace MemoryManager.Tests.Reclaim.Scenarios
{
    /// <summary>
    /// The simulator speaks as the kernel does (ps in the kernel's units, a panic is a failure) and each shipped
    /// scenario's comments say what its settings are and what its run does.
    /// </summary>
    public class ScenarioParityTests
    {
        private static (Scenario Scenario, string[] Comments) Load(string file)
        {
            string text = File.ReadAllText(file);
            Assert.True(Scenario.TryParse(text, out Scenario s, out string error), error);
            string[] comments = text.Split('\n').Where(l => l.TrimStart().StartsWith('#')).Select(l => l.TrimStart('#', ' ').TrimEnd()).ToArray();
            return (s, comments);
        }

        private static Simulator.Engine.Machine Run(Scenario s)
        {
            var m = new Simulator.Engine.Machine(s, _ => { });
            Assert.True(m.Boot(out string error), error);
            m.Run();
            return m;
        }

        public static IEnumerable<object[]> Shipped() => ScenarioTests.ShippedScenarios().Select(f => new object[] { Path.GetFileName(f) });

        private static string PathOf(string name) => ScenarioTests.ShippedScenarios().Single(f => Path.GetFileName(f) == name);

        [Theory]
        [MemberData(nameof(Shipped))]
        public void A_scenarios_comments_name_only_sizes_rates_processes_and_files_its_settings_have(string name)
        {
            var (s, comments) = Load(PathOf(name));
            string said = string.Join(" ", comments);
            Assert.True(comments.Length > 0, $"{name} has no comment saying what it shows");
            var sizesMiB = new List<ulong> { s.MemoryBytes >> 20, s.SwapBytes >> 20 };
            sizesMiB.AddRange(s.Files.Select(f => (ulong)f.Pages * 4096 >> 20));
            foreach (Match m in Regex.Matches(said, @"(\d+) MiB"))
                Assert.True(sizesMiB.Contains(ulong.Parse(m.Groups[1].Value)), $"{name} says '{m.Value}' but its memory, swap and files are {string.Join(", ", sizesMiB)} MiB");
            var rates = s.Events.Where(e => e.Verb == "spawn").Select(e => e.Rate).Append(s.KswapdBatch).ToList();
            foreach (Match m in Regex.Matches(said, @"(\d+) (?:pages )?per tick"))
                Assert.True(rates.Contains(int.Parse(m.Groups[1].Value)), $"{name} says '{m.Value}' but its rates and kswapd batch are {string.Join(", ", rates)}");
            var names = s.Events.Where(e => e.Verb == "spawn").Select(e => e.Name).ToList();
            foreach (Match m in Regex.Matches(said, "\"([^\"]+)\""))
                Assert.True(names.Contains(m.Groups[1].Value), $"{name} names a process \"{m.Groups[1].Value}\" it does not spawn ({string.Join(", ", names)})");
            foreach (Match m in Regex.Matches(said, @"[\w.-]+\.sim"))
                Assert.True(ScenarioTests.ShippedScenarios().Any(f => Path.GetFileName(f) == m.Value), $"{name} refers to {m.Value}, which is not a shipped scenario");
            if (Regex.IsMatch(said, @"\bno swap\b")) Assert.Equal(0UL, s.SwapBytes);
            if (Regex.IsMatch(said, @"\bwith swap\b|\balthough there is swap\b")) Assert.True(s.SwapBytes > 0, $"{name} says it has swap");
            if (Regex.IsMatch(said, @"\bTwo NUMA nodes\b")) Assert.Equal(2, s.Nodes);
            if (said.Contains("panic_on_oom = 1")) Assert.True(s.PanicOnOom);
            if (said.Contains("pre-4.8 balance rule")) Assert.True(s.PreLinux48Balance);
        }

        [Fact]
        public void Page_cache_sim_reclaims_file_pages_and_swaps_nothing_out_as_its_comment_says()
        {
            using var m = Run(Load(PathOf("page-cache.sim")).Scenario);
            Assert.True(m.Pa.Stat.PgstealKswapd + m.Pa.Stat.PgstealDirect > 0, "nothing was reclaimed");
            Assert.Equal(0UL, m.Pa.Stat.Pswpout);
            int idler = m.Processes.Single(p => p.Name == "idler").Pid;
            Assert.Equal(0UL, m.Vm.Procs.Get(idler).SwapEnts);
        }

        [Fact]
        public void Two_nodes_sim_wakes_the_kswapd_of_each_node_as_its_comment_says()
        {
            using var m = Run(Load(PathOf("two-nodes.sim")).Scenario);
            Assert.Contains(m.KswapdEvents, e => e.Woken && e.Nid == 0);
            Assert.Contains(m.KswapdEvents, e => e.Woken && e.Nid == 1);
        }

        [Fact]
        public void The_simulators_ps_is_the_kernels_table_in_the_kernels_units()
        {
            Assert.True(Scenario.TryParse("memory 24M\nswap 0\nat 0 spawn keeper idle pages=1500 adj=-1000\nrun 2", out Scenario s, out string error), error);
            using var m = Run(s);
            var ps = m.ProcText("ps").Split('\n');
            Assert.Equal(PsText.Header, ps[0]);
            Assert.Equal("  PID STATE    TASK       RSS_KB  SWAP_KB OOM_SCORE OOM_SCORE_ADJ COMMAND", ps[0]);
            // 1500 pages of 4 KiB are 6000 kB, as the kernel's ps shows them; kswapd in brackets, with its kswapd state.
            Assert.Contains("    3 running  -             6000        0         0         -1000 keeper", ps);
            Assert.Contains(ps, l => Regex.IsMatch(l, @"^    2 (sleeping|running |napping ) -\s+0\s+0\s+0\s+0 \[kswapd0\]$"));
        }

        [Fact]
        public void A_simulated_panic_exits_non_zero_and_says_so()
        {
            var o = new StringWriter();
            var e = new StringWriter();
            Assert.Equal(Simulator.Cli.ExitPanicked, Simulator.Cli.Run(new[] { PathOf("panic-on-oom.sim") }, o, e));
            Assert.NotEqual(0, Simulator.Cli.ExitPanicked);
            Assert.Contains("Kernel panic - not syncing", o.ToString());
            Assert.Contains(", the kernel panicked", o.ToString());
        }

        [Fact]
        public void The_simulator_with_trace_writes_the_CSV_the_plots_and_a_report_that_lists_its_OOM_kill()
        {
            string folder = Path.Combine(Path.GetTempPath(), "sim-trace-" + Guid.NewGuid().ToString("N"));
            try
            {
                var o = new StringWriter();
                Assert.Equal(Simulator.Cli.ExitOk, Simulator.Cli.Run(new[] { PathOf("oom-kill.sim"), "--trace", folder }, o, new StringWriter()));
                Assert.Equal(new[] { "memory.png", "memory.svg", "report.html", "trace.csv" }, Directory.GetFiles(folder).Select(Path.GetFileName).OrderBy(f => f, StringComparer.Ordinal));
                string[] csv = File.ReadAllLines(Path.Combine(folder, "trace.csv"));
                // run 300 at one sample every 5 ticks: ticks 0, 5, ..., 300.
                Assert.Equal(1 + 61, csv.Length);
                Assert.StartsWith("tick,seconds,node0_DMA_free,", csv[0]);
                string killed = Regex.Match(o.ToString(), @"Killed process (\d+) \((\w+)\)").Groups[1].Value;
                Assert.Single(csv, l => l.Contains($",{killed}:big,"));
                Assert.Contains($"<td>{killed}</td><td>big</td>", File.ReadAllText(Path.Combine(folder, "report.html")));
                // The same scenario samples the same trace.
                string again = folder + "-again";
                Simulator.Cli.Run(new[] { PathOf("oom-kill.sim"), "--trace", again }, new StringWriter(), new StringWriter());
                Assert.Equal(File.ReadAllText(Path.Combine(folder, "trace.csv")), File.ReadAllText(Path.Combine(again, "trace.csv")));
                Directory.Delete(again, recursive: true);
            }
            finally { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
        }

        [Fact]
        public void The_simulator_refuses_a_trace_option_without_a_folder_or_naming_a_file()
        {
            var e = new StringWriter();
            Assert.Equal(Simulator.Cli.ExitUsage, Simulator.Cli.Run(new[] { PathOf("oom-kill.sim"), "--trace" }, new StringWriter(), e));
            Assert.Contains("--trace needs a folder", e.ToString());
            e = new StringWriter();
            Assert.Equal(Simulator.Cli.ExitUsage, Simulator.Cli.Run(new[] { PathOf("oom-kill.sim"), "--trace", PathOf("oom-kill.sim") }, new StringWriter(), e));
            Assert.Contains("is a file, not a folder", e.ToString());
        }
    }
}
