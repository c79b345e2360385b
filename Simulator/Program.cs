using System;

// Simulator: runs a scenario file on the host and prints what the memory manager does.
//   dotnet run --project Simulator -c Release -- Simulator/scenarios/oom-kill.sim [--check]
return Simulator.Cli.Run(args, Console.Out, Console.Error);
