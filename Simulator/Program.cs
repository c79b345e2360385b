using System;
using System.IO;
using Simulator.Engine;

// Simulator: runs a scenario file on the host and prints what the memory manager does.
//   dotnet run --project Simulator -c Release -- Simulator/scenarios/oom-kill.sim [--check]
if (args.Length < 1 || args[0] == "-h" || args[0] == "--help")
{
    Console.WriteLine("usage: Simulator <scenario.sim> [--check]");
    Console.WriteLine("  Runs a scenario (format: docs/reclaim-and-oom.md) and prints vmstat, buddyinfo and OOM lines.");
    Console.WriteLine("  --check  verifies after every tick that no page is lost (slower).");
    return args.Length < 1 ? 2 : 0;
}
string path = args[0];
if (!File.Exists(path)) { Console.Error.WriteLine($"{path}: no such file"); return 2; }
if (!Scenario.TryParse(File.ReadAllText(path), out Scenario scenario, out string error))
{
    Console.Error.WriteLine($"{path}: {error}");
    return 1;
}
if (Array.IndexOf(args, "--check") > 0) scenario.Check = true;
using var machine = new Machine(scenario, Console.WriteLine);
if (!machine.Boot(out string bootError)) { Console.Error.WriteLine($"{path}: {bootError}"); return 1; }
bool ok = machine.Run();
Console.WriteLine($"--- end: {machine.OomVictims.Count} OOM kill(s), {machine.SwapIns} swap-ins checked, {machine.Corruptions} corrupted page(s){(scenario.Check ? (ok ? ", census clean" : ", CENSUS FAILED") : "")}");
return ok && machine.Corruptions == 0 ? 0 : 3;
