using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Simulator.Engine;

namespace Simulator
{
    /// <summary>The simulator command: parse arguments, load the scenario, run it, report.</summary>
    public static class Cli
    {
        public const int ExitOk = 0, ExitBadScenario = 1, ExitUsage = 2, ExitLostOrCorrupted = 3, ExitPanicked = 4;

        /// <summary>Ticks between samples with --trace: the kernel runner's (TestRunner's ScriptTrace.Every).</summary>
        public const ulong TraceEvery = 5;

        /// <summary>The /proc files a trace's report shows at the end, in order.</summary>
        public static readonly string[] TraceProcFiles = { "meminfo", "vmstat", "zoneinfo", "buddyinfo", "ps" };

        /// <summary>
        /// Runs `Simulator &lt;scenario.sim&gt; [--check] [--trace DIR]`; output lines to <paramref name="o"/>, errors to
        /// <paramref name="e"/>; returns the exit code: 0 ran clean, 1 bad scenario, 2 bad command line, 3 a page was
        /// lost or corrupted, 4 the simulated kernel panicked (panic_on_oom, or nothing left to kill).
        /// </summary>
        public static int Run(string[] args, TextWriter o, TextWriter e)
        {
            if (args.Length < 1 || args[0] == "-h" || args[0] == "--help")
            {
                o.WriteLine("usage: Simulator <scenario.sim> [--check] [--trace DIR]");
                o.WriteLine("  Runs a scenario (format: docs/reclaim-and-oom.md) and prints vmstat, buddyinfo and OOM lines.");
                o.WriteLine("  --check      verifies after every tick that no page is lost (slower).");
                o.WriteLine($"  --trace DIR  samples memory every {TraceEvery} ticks and writes DIR/trace.csv, memory.svg, memory.png");
                o.WriteLine("               and report.html (docs/memory-trace.md).");
                o.WriteLine("  exit: 0 clean, 1 bad scenario, 2 bad command line, 3 a page lost or corrupted, 4 the kernel panicked");
                return args.Length < 1 ? ExitUsage : ExitOk;
            }
            string path = args[0];
            bool check = false;
            string traceDir = null;
            for (int i = 1; i < args.Length; i++)
            {
                if (args[i] == "--check") check = true;
                else if (args[i] == "--trace")
                {
                    if (i + 1 >= args.Length || args[i + 1].Length == 0 || args[i + 1].StartsWith("--")) { e.WriteLine("--trace needs a folder: --trace DIR"); return ExitUsage; }
                    traceDir = args[++i];
                    if (File.Exists(traceDir)) { e.WriteLine($"--trace: '{traceDir}' is a file, not a folder"); return ExitUsage; }
                }
                else { e.WriteLine($"unknown option '{args[i]}'"); return ExitUsage; }
            }
            if (!File.Exists(path)) { e.WriteLine($"{path}: no such file"); return ExitUsage; }
            if (!Scenario.TryParse(File.ReadAllText(path), out Scenario scenario, out string error))
            {
                e.WriteLine($"{path}: {error}");
                return ExitBadScenario;
            }
            if (check) scenario.Check = true;
            var transcript = new List<string>();
            using var machine = new Machine(scenario, line => { o.WriteLine(line); if (traceDir != null) transcript.Add(line); });
            if (!machine.Boot(out string bootError)) { e.WriteLine($"{path}: {bootError}"); return ExitBadScenario; }
            if (traceDir != null) machine.StartTrace(TraceEvery);
            bool ok = machine.Run();
            string end = $"--- end: {machine.OomVictims.Count} OOM kill(s), {machine.SwapIns} swap-ins checked, {machine.Corruptions} corrupted page(s){(scenario.Check ? (ok ? ", census clean" : ", CENSUS FAILED") : "")}{(machine.Panicked ? ", the kernel panicked" : "")}";
            o.WriteLine(end);
            transcript.Add(end);
            if (traceDir != null && !WriteTrace(traceDir, path, machine, transcript, o, e)) return ExitUsage;
            if (!ok || machine.Corruptions != 0) return ExitLostOrCorrupted;
            return machine.Panicked ? ExitPanicked : ExitOk;
        }

        private static bool WriteTrace(string folder, string scenarioPath, Machine machine, List<string> transcript, TextWriter o, TextWriter e)
        {
            var samples = new List<MemoryTrace.Sample>();
            foreach (string payload in machine.TraceSamples)
                samples.Add(MemoryTrace.Sample.Parse(payload, out string bad) ?? throw new InvalidOperationException($"the simulator wrote a SAMPLE that does not parse ({bad}): {payload}"));
            var run = new MemoryTrace.TraceRun
            {
                Title = Path.GetFileName(scenarioPath),
                Machine = $"the host simulator, {machine.Scenario.MemoryBytes >> 20} MiB, {machine.Scenario.Nodes} node(s), {machine.Scenario.SwapBytes >> 20} MiB swap",
                Samples = samples,
                Every = (int)TraceEvery,
                Transcript = transcript,
                ProcFiles = TraceProcFiles.Select(f => (f, machine.ProcText(f))).ToList(),
            };
            try
            {
                var files = MemoryTrace.TraceOutput.Write(folder, run);
                o.WriteLine($"--- trace: {samples.Count} sample(s): {string.Join("  ", files)}");
                return true;
            }
            catch (Exception x) when (x is IOException or UnauthorizedAccessException)
            {
                e.WriteLine($"--trace: cannot write into '{folder}': {x.Message}");
                return false;
            }
        }
    }
}
