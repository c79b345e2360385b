using TestRunner.Cli;

namespace TestRunner;

public static class Program
{
    /// <summary>
    /// Runs the command line (<see cref="Entry.RunAsync"/>): 0, 1 and 2 as each command documents,
    /// 2 for a bad command line, 130 after Ctrl-C, SIGINT or SIGTERM, 3 if the runner itself fails.
    /// </summary>
    public static async Task<int> Main(string[] args)
    {
        using var interruption = new Interruption(Console.Error);
        return await Entry.RunAsync(args, Console.Out, Console.Error, interrupt: interruption.Token);
    }
}
