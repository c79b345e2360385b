using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MemoryManager;
using MemoryManager.Oom;
using MemoryManager.Processes;
using Simulator.Engine;
using Xunit;

namespace MemoryManager.Tests.Reclaim.Scenarios
{
    /// <summary>Whole-system scenarios on the simulated clock, checked after every tick.</summary>
    public class ScenarioTests
    {
        private static Simulator.Engine.Machine Run(string text, Action<Simulator.Engine.Machine, string> onLine = null)
        {
            Assert.True(Scenario.TryParse(text, out Scenario s, out string error), error);
            s.Check = true;
            Simulator.Engine.Machine m = null;
            m = new Simulator.Engine.Machine(s, line => onLine?.Invoke(m, line));
            Assert.True(m.Boot(out string bootError), bootError);
            m.Run();
            return m;
        }

        private const string SlowHog = @"
memory 24M
swap 32M
at 0 spawn hog memhog pages=8000 rate=8
run 1500
";

        private const string FastHog = @"
memory 24M
swap 32M
at 0 spawn hog memhog pages=8000 rate=200
run 150
";

        [Fact]
        public void Kswapd_wakes_below_low_and_stops_at_or_above_high()
        {
            using var m = Run(SlowHog);
            var wakes = m.KswapdEvents.Where(e => e.Woken).ToList();
            var stops = m.KswapdEvents.Where(e => !e.Woken).ToList();
            Assert.NotEmpty(wakes);
            Assert.NotEmpty(stops);
            Assert.All(wakes, e => Assert.True(e.BelowLow, $"woken at t={e.Tick} with a zone above low"));
            Assert.All(stops, e => Assert.True(e.Balanced && e.Free >= e.High, $"stopped at t={e.Tick}: free {e.Free} high {e.High}"));
            Assert.Empty(m.CensusFailures);
        }

        [Fact]
        public void Direct_reclaim_is_not_needed_while_kswapd_keeps_up()
        {
            using var m = Run(SlowHog);
            Assert.True(m.Pa.Stat.PgstealKswapd > 1000);
            Assert.Equal(0UL, m.Pa.Stat.Allocstall);
            Assert.Equal(0UL, m.Pa.Stat.PgscanDirect);
            Assert.Empty(m.AllocStalls);
        }

        [Fact]
        public void Direct_reclaim_happens_when_kswapd_cannot_keep_up()
        {
            using var m = Run(FastHog);
            Assert.True(m.Pa.Stat.PgstealKswapd > 0);
            Assert.True(m.Pa.Stat.Allocstall > 0);
            Assert.True(m.Pa.Stat.PgstealDirect > 0);
            // Each stall reached the simulation as it happened, all of them the hog's.
            Assert.Equal(m.Pa.Stat.Allocstall, (ulong)m.AllocStalls.Count);
            int hog = m.Processes.Single(p => p.Name == "hog").Pid;
            Assert.All(m.AllocStalls, s => Assert.Equal(hog, s.Pid));
            Assert.Empty(m.CensusFailures);
        }

        [Fact]
        public void Oom_kills_the_highest_badness_process_and_never_init_kswapd_or_minus_1000()
        {
            const string text = @"
memory 24M
swap 0
at 0 spawn keeper idle pages=2500 adj=-1000
at 0 spawn small memhog pages=800 rate=20
at 0 spawn medium memhog pages=1500 rate=20
at 10 spawn big memhog pages=8000 rate=40
run 400
";
            var checkedKills = new List<int>();
            using var m = Run(text, (mach, line) =>
            {
                int at = line.IndexOf("Killed process ", StringComparison.Ordinal);
                if (at < 0) return;
                // The line is written as the kill happens: every candidate is still in the table.
                int pid = int.Parse(line.Substring(at + 15).Split(' ')[0]);
                ulong total = mach.Vm.Oom.TotalPages, best = 0;
                for (int s = 0; s < mach.Vm.Procs.Capacity; s++)
                {
                    ref Process t = ref mach.Vm.Procs.At(s);
                    if (t.Pid != pid) best = Math.Max(best, OomKiller.OomBadness(ref t, total));
                }
                Assert.True(OomKiller.OomBadness(ref mach.Vm.Procs.Get(pid), total) >= best);
                checkedKills.Add(pid);
            });
            int big = m.Processes.Single(p => p.Name == "big").Pid;
            int keeper = m.Processes.Single(p => p.Name == "keeper").Pid;
            Assert.Contains(big, m.OomVictims);
            Assert.Equal(m.OomVictims, checkedKills);
            Assert.Equal(m.Pa.Stat.OomKill, (ulong)m.OomVictims.Count);
            Assert.DoesNotContain(ProcessTable.InitPid, m.OomVictims);
            Assert.DoesNotContain(m.Vm.Nodes[0].Kswapd.Pid, m.OomVictims);
            Assert.DoesNotContain(keeper, m.OomVictims);
            Assert.True(m.Vm.Procs.Exists(keeper));
            Assert.False(m.Panicked);
            Assert.Empty(m.CensusFailures);
        }

        [Fact]
        public void Swapped_out_data_comes_back_bit_exact()
        {
            using var m = Run(FastHog);
            Assert.True(m.SwapIns > 1000, $"only {m.SwapIns} swap-ins");
            Assert.Equal(0UL, m.Corruptions);
        }

        [Fact]
        public void Page_cache_pages_read_back_after_writeback_and_reclaim_hold_the_file_bytes()
        {
            const string text = @"
memory 16M
swap 8M
file big 24M
file log 1M
at 0 spawn cat reader file=big rate=64
at 0 spawn logger writer file=log rate=8
run 300
";
            using var m = Run(text);
            Assert.True(m.Pa.Stat.PgstealKswapd + m.Pa.Stat.PgstealDirect > 6000);
            Assert.Equal(0UL, m.Corruptions);
            Assert.Empty(m.CensusFailures);
        }

        [Fact]
        public void No_page_is_lost_at_any_step_of_any_shipped_scenario()
        {
            foreach (string file in ShippedScenarios())
            {
                using var m = Run(File.ReadAllText(file));
                Assert.True(m.CensusFailures.Count == 0, Path.GetFileName(file) + ": " + string.Join("; ", m.CensusFailures));
                Assert.True(m.Corruptions == 0, Path.GetFileName(file) + " corrupted pages");
            }
        }

        [Fact]
        public void The_same_scenario_gives_the_same_output_every_time()
        {
            string text = File.ReadAllText(ShippedScenarios().First(f => f.EndsWith("oom-kill.sim")));
            var a = new List<string>();
            var b = new List<string>();
            using (var m = Run(text, (_, l) => a.Add(l))) { }
            using (var m = Run(text, (_, l) => b.Add(l))) { }
            Assert.True(a.Count > 10);
            Assert.Equal(a, b);
        }

        [Fact]
        public void Panic_on_oom_stops_the_simulation_with_the_panic_line()
        {
            string text = File.ReadAllText(ShippedScenarios().First(f => f.EndsWith("panic-on-oom.sim")));
            using var m = Run(text);
            Assert.True(m.Panicked);
            Assert.Contains(m.OomLog, l => l.Contains("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled"));
            Assert.Empty(m.OomVictims);
        }

        /// <summary>remote-rescan.sim (fair pass on) or remote-rescan-2.6.sim (off), cut to <paramref name="ticks"/> ticks.</summary>
        private static Simulator.Engine.Machine RunRemoteRescan(bool fair, int ticks)
        {
            string text = File.ReadAllText(ShippedScenarios().First(f => f.EndsWith(fair ? "remote-rescan.sim" : "remote-rescan-2.6.sim")));
            Assert.Contains(fair ? "option fair_zone_alloc 1" : "option fair_zone_alloc 0", text);
            text = System.Text.RegularExpressions.Regex.Replace(text, @"^(at \d+ print .*|run \d+)$", "", System.Text.RegularExpressions.RegexOptions.Multiline) + $"run {ticks}\n";
            return Run(text);
        }

        [Fact]
        public void With_the_fair_pass_the_home_node_zones_share_its_pages_in_proportion_to_their_batches()
        {
            using var fair = RunRemoteRescan(true, 40);
            using var single = RunRemoteRescan(false, 40);
            // 1640 pages in: node 0's DMA (15 MiB) and DMA32 (8 MiB) both serve with the fair pass...
            ulong dma = fair.Pa.Stat.PgallocDma, dma32 = fair.Pa.Stat.PgallocDma32;
            Assert.InRange(dma * 100 / (dma + dma32), 50UL, 80UL);
            // ...while the 2.6 single scan takes all of them from DMA32, which is not yet at low.
            Assert.True(single.Pa.Stat.PgallocDma * 100 < single.Pa.Stat.PgallocDma32, $"pgalloc_dma {single.Pa.Stat.PgallocDma}, pgalloc_dma32 {single.Pa.Stat.PgallocDma32}");
            foreach (var m in new[] { fair, single })
            {
                m.Pa.NumaCounters(1, out ulong hit1, out ulong miss1, out _, out _, out _);
                Assert.Equal(0UL, hit1 + miss1);   // node 0 is above low: nothing went remote yet
            }
        }

        [Fact]
        public void With_or_without_the_fair_pass_the_rescan_spills_to_the_remote_node_only_at_low_and_before_any_reclaim()
        {
            foreach (bool fairPass in new[] { true, false })
            {
                using var m = RunRemoteRescan(fairPass, 150);
                m.Pa.NumaCounters(1, out _, out ulong miss1, out _, out _, out ulong other1);
                m.Pa.NumaCounters(0, out _, out _, out ulong foreign0, out _, out _);
                Assert.True(miss1 > 0, $"fair={fairPass}: the hog's later pages came from node 1");
                Assert.Equal(miss1, other1);
                Assert.Equal(miss1, foreign0);
                for (int t = 0; t < 2; t++)
                {
                    ref var z = ref m.Pa.GetZone(0, (MemoryManager.Common.ZoneType)t);
                    Assert.True(z.NrFree <= z.WatermarkLow + z.Protection(1), $"fair={fairPass}: node 0 zone {t} at low when it spilled");
                }
                Assert.Equal(0UL, m.Pa.Stat.PgscanKswapd + m.Pa.Stat.PgscanDirect);
                Assert.DoesNotContain(m.KswapdEvents, e => e.Woken);
                Assert.Empty(m.CensusFailures);
            }
        }

        [Theory]
        [InlineData("memory 24M\nnodes 2\ndistance 0 0 10\nrun 10", "line 3: distance: a node is 10 from itself")]
        [InlineData("memory 24M\nnodes 2\ndistance 0 1 10\nrun 10", "line 3: distance: between two nodes it is 11..254")]
        [InlineData("memory 24M\ndistance 0 1 20\nrun 10", "line 2: distance: nodes are 0..0 (declare 'nodes' first)")]
        [InlineData("memory 24M\nnodes 2\nat 0 spawn a memhog pages=10 node=2\nrun 10", "line 3: node must be 0..1")]
        [InlineData("memory 24M\noption zone_reclaim_mode 8\nrun 10", "line 2: zone_reclaim_mode is 0..7")]
        [InlineData("memory 24M\noption zonelist_order numa\nrun 10", "line 2: zonelist_order is 'node' or 'zone'")]
        public void A_bad_numa_line_is_reported_with_its_line_number(string text, string expected)
        {
            Assert.False(Scenario.TryParse(text, out _, out string error));
            Assert.StartsWith(expected, error);
        }

        [Theory]
        [InlineData("memory 24M\nfrobnicate 3\nrun 10", "line 2: unknown command 'frobnicate'")]
        [InlineData("memory 24X\nrun 10", "line 1: usage: memory <size>")]
        [InlineData("memory 24M\n\n# comment\nat 0 spawn a memhog pages=lots\nrun 10", "line 4: pages must be a count of pages")]
        [InlineData("memory 24M\nat 0 spawn r reader file=missing\nrun 10", "line 2: reader needs file=NAME")]
        [InlineData("memory 24M\nat 0 spawn a sleeper\nrun 10", "line 2: unknown process kind 'sleeper'")]
        [InlineData("memory 24M\nat 0 print everything\nrun 10", "line 2: cannot print 'everything'")]
        [InlineData("memory 24M\noption kswapd_balance 2.6\nrun 10", "line 2: kswapd_balance is '4.8' or 'pre-4.8'")]
        [InlineData("memory 24M\nrun 10\nat 5 print ps", "line 3: nothing may follow 'run'")]
        [InlineData("memory 24M\nat 0 print ps", "line 2: the scenario must end with 'run <ticks>'")]
        [InlineData("memory 24M\nevery 0 print ps\nrun 10", "line 2: usage: every <ticks> print <what>")]
        public void A_bad_scenario_line_is_reported_with_its_line_number(string text, string expected)
        {
            Assert.False(Scenario.TryParse(text, out _, out string error));
            Assert.StartsWith(expected, error);
        }

        [Fact]
        public void A_spawn_with_an_out_of_range_oom_score_adj_is_refused_with_its_line_number()
        {
            var lines = new List<string>();
            using var m = Run("memory 24M\nat 0 spawn a memhog pages=10 adj=1500\nrun 5", (_, l) => lines.Add(l));
            Assert.Contains(lines, l => l.Contains("line 2: spawn refused: oom_score_adj must be in -1000..1000"));
            Assert.Empty(m.Processes);
        }

        /// <summary>The example scenarios under Simulator/scenarios, found from the test's output directory upwards.</summary>
        public static IEnumerable<string> ShippedScenarios()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "Simulator", "scenarios");
                if (Directory.Exists(candidate))
                {
                    string[] files = Directory.GetFiles(candidate, "*.sim");
                    Array.Sort(files, StringComparer.Ordinal);
                    Assert.NotEmpty(files);
                    return files;
                }
            }
            throw new DirectoryNotFoundException("Simulator/scenarios not found above " + AppContext.BaseDirectory);
        }
    }
}

namespace MemoryManager.Tests.Reclaim.Scenarios
{
    public class SimulatorCommandTests
    {
        [Fact]
        public void The_command_reports_a_bad_scenario_file_with_its_line_number_and_exit_code_1()
        {
            string path = Path.Combine(Path.GetTempPath(), "bad-" + Guid.NewGuid().ToString("N") + ".sim");
            File.WriteAllText(path, "memory 24M\nswap lots\nrun 10\n");
            try
            {
                var o = new StringWriter();
                var e = new StringWriter();
                Assert.Equal(Simulator.Cli.ExitBadScenario, Simulator.Cli.Run(new[] { path }, o, e));
                Assert.Equal($"{path}: line 2: usage: swap <size>  (0 for none)", e.ToString().Trim());
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void The_command_runs_a_shipped_scenario_and_prints_the_oom_line_and_a_clean_census()
        {
            string file = ScenarioTests.ShippedScenarios().First(f => f.EndsWith("oom-kill.sim"));
            var o = new StringWriter();
            var e = new StringWriter();
            Assert.Equal(Simulator.Cli.ExitOk, Simulator.Cli.Run(new[] { file, "--check" }, o, e));
            string text = o.ToString();
            Assert.Matches(@"\] Out of memory: Killed process \d+ \(big\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:\d+kB", text);
            Assert.Contains("--- vmstat ---", text);
            Assert.Contains("census clean", text);
            Assert.Equal("", e.ToString());
        }

        [Fact]
        public void The_command_refuses_a_missing_file_and_unknown_options()
        {
            Assert.Equal(Simulator.Cli.ExitUsage, Simulator.Cli.Run(new[] { "/nonexistent.sim" }, new StringWriter(), new StringWriter()));
            Assert.Equal(Simulator.Cli.ExitUsage, Simulator.Cli.Run(new[] { "x.sim", "--fast" }, new StringWriter(), new StringWriter()));
            Assert.Equal(Simulator.Cli.ExitUsage, Simulator.Cli.Run(new string[0], new StringWriter(), new StringWriter()));
        }
    }
}
