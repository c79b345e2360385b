using System.CommandLine;
using TestRunner.Running;

namespace TestRunner.Cli;

/// <summary>
/// The command line from arguments to exit code: parse, refuse a bad command line with its
/// errors and the command's usage line (exit 2), run the command, and never let an exception
/// out (exit 3 with the exception printed: that is a bug in the runner).
/// </summary>
public static class Entry
{
    /// <summary>The exit code of a bad command line: an unknown option, a missing or bad value.</summary>
    public const int UsageError = (int)RunExitCode.Broken;

    /// <summary>The exit code when the runner itself fails with an exception no command handled.</summary>
    public const int InternalError = 3;

    /// <param name="args">The command line, without the program name.</param>
    /// <param name="output">Where the commands' output goes (progress, results, --help).</param>
    /// <param name="error">Where parse errors, usage lines and internal errors go.</param>
    /// <param name="fancy">Spectre.Console output; by default only on an interactive terminal outside CI.</param>
    /// <param name="interrupt">Cancelled on Ctrl-C, SIGINT or SIGTERM: the command stops QEMU and exits 130.</param>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, bool? fancy = null,
        CancellationToken interrupt = default)
    {
        try
        {
            var root = Commands.Root(output, fancy);
            // No @response files: an argument such as a script's path is taken as it is written.
            var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parse.Errors.Count > 0)
            {
                foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
                error.WriteLine(Commands.Usage(parse));
                return UsageError;
            }
            var invocation = new InvocationConfiguration
            {
                Output = output,
                Error = error,
                // Exceptions come here, below; interrupts come through `interrupt`, which Program ties to the signals.
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return await parse.InvokeAsync(invocation, interrupt);
        }
        catch (Exception e)
        {
            try
            {
                error.WriteLine($"error: the runner failed unexpectedly (this is a bug in TestRunner): {e.GetType().FullName}: {e.Message}");
                error.WriteLine(e.StackTrace);
            }
            catch (Exception) { }   // the error stream itself is broken: the exit code still tells
            return InternalError;
        }
    }
}
