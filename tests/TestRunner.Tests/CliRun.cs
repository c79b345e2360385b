using TestRunner.Cli;

namespace TestRunner.Tests;

/// <summary>The runner's command line as a user runs it, in process: exit code, standard output and standard error, plain (no colours).</summary>
public static class CliRun
{
    public static async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Entry.RunAsync(args, output, error, fancy: false);
        return (exit, output.ToString(), error.ToString());
    }
}
