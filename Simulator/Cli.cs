using System;
using System.IO;
using Simulator.Engine;

namespace Simulator
{
    /// <summary>The simulator command: parse arguments, load the scenario, run it, report.</summary>
    public static class Cli
    {
        public const int ExitOk = 0, ExitBadScenario = 1, ExitUsage = 2, ExitLostOrCorrupted = 3;

        /// <summary>Runs `Simulator &lt;scenario.sim&gt; [--check]`; output lines to <paramref name="o"/>, errors to <paramref name="e"/>; returns the exit code.</summary>
        public static int Run(string[] args, TextWriter o, TextWriter e)
        {
            if (args.Length < 1 || args[0] == "-h" || args[0] == "--help")
            {
                o.WriteLine("usage: Simulator <scenario.sim> [--check]");
                o.WriteLine("  Runs a scenario (format: docs/reclaim-and-oom.md) and prints vmstat, buddyinfo and OOM lines.");
                o.WriteLine("  --check  verifies after every tick that no page is lost (slower).");
                return args.Length < 1 ? ExitUsage : ExitOk;
            }
            string path = args[0];
            for (int i = 1; i < args.Length; i++)
                if (args[i] != "--check") { e.WriteLine($"unknown option '{args[i]}'"); return ExitUsage; }
            if (!File.Exists(path)) { e.WriteLine($"{path}: no such file"); return ExitUsage; }
            if (!Scenario.TryParse(File.ReadAllText(path), out Scenario scenario, out string error))
            {
                e.WriteLine($"{path}: {error}");
                return ExitBadScenario;
            }
            if (Array.IndexOf(args, "--check") > 0) scenario.Check = true;
            using var machine = new Machine(scenario, o.WriteLine);
            if (!machine.Boot(out string bootError)) { e.WriteLine($"{path}: {bootError}"); return ExitBadScenario; }
            bool ok = machine.Run();
            o.WriteLine($"--- end: {machine.OomVictims.Count} OOM kill(s), {machine.SwapIns} swap-ins checked, {machine.Corruptions} corrupted page(s){(scenario.Check ? (ok ? ", census clean" : ", CENSUS FAILED") : "")}");
            return ok && machine.Corruptions == 0 ? ExitOk : ExitLostOrCorrupted;
        }
    }
}
