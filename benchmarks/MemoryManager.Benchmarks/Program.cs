using System;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// Runs the memory-manager benchmarks (docs/performance.md says which and how).
//   dotnet run -c Release --project benchmarks/MemoryManager.Benchmarks -- --filter '*'
// Without a --job option the suite uses the "mm" job below: one launch, 3 warm-up and 10
// measured iterations of about 250 ms each, which keeps the RAT's 64 GiB scans bounded.
// `--job short` (3 + 3 iterations) is the quick variant.
public partial class Program
{
    public static int Main(string[] args)
    {
        // `swing <MiB>`: the no-pcp pair's run-to-run probe (SwingProbe.cs), not a BenchmarkDotNet run.
        if (args.Length > 0 && args[0] == "swing") return MemoryManager.Benchmarks.SwingProbe.Run(args);
        bool jobGiven = Array.Exists(args, a => a == "--job" || a == "-j" || a.StartsWith("--job=", StringComparison.Ordinal));
        // Min and Median beside the Mean: the cores are shared, and the fastest iteration is the
        // one least disturbed by other processes.
        IConfig config = DefaultConfig.Instance.AddColumn(StatisticColumn.Min, StatisticColumn.Median);
        if (!jobGiven)
        {
            config = config.AddJob(Job.Default
                .WithLaunchCount(1)
                .WithWarmupCount(3)
                .WithIterationCount(10)
                .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
                .WithId("mm")
                .AsDefault());
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
