using System.CommandLine;
using TestRunner.Cli;

namespace TestRunner;

public static class Program
{
    /// <summary>Parses the command line; usage errors print the problem and exit 2.</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = Commands.Root(Console.Out);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("run with --help for usage");
            return 2;
        }
        return await parse.InvokeAsync();
    }
}
