using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// Exceptions at the shell (docs/exceptions.md): a command that throws is reported with a named
/// backtrace and the shell prompts again; a task that throws ends alone; a program that fills
/// memory with managed objects inside a try catches OutOfMemoryException and MemFree comes back.
/// </summary>
public class ExceptionScriptTests
{
    static string OutputOf(ScriptResult run, string command) =>
        string.Join("\n", run.Exchanges.Where(e => e.Command == command).SelectMany(e => e.Output));

    [Fact]
    public async Task A_command_that_throws_is_reported_with_function_names_and_the_shell_answers_the_next_command()
    {
        var run = await KernelImage.ScriptAsync(["throw", "throw null", "throw task", "ps"], timeoutSeconds: 90);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);
        string thrown = OutputOf(run, "throw");
        Assert.Contains("command failed with an unhandled exception: System.InvalidOperationException: thrown by the 'throw' command", thrown);
        Assert.Matches(new Regex(@"0x[0-9a-f]+  Kernel_Kernel_Shell__ThrowCommand\+0x[0-9a-f]+"), thrown);
        Assert.Matches(new Regex(@"0x[0-9a-f]+  Kernel_Kernel_Shell__Run\+0x[0-9a-f]+"), thrown);
        // A null dereference (a #PF at address 0) in a command is a NullReferenceException, not a panic.
        Assert.Contains("System.NullReferenceException: Object reference not set to an instance of an object.", OutputOf(run, "throw null"));
        string task = OutputOf(run, "throw task");
        Assert.Matches(new Regex(@"task \d+ 'thrower' ended by an unhandled exception: System.InvalidOperationException: thrown by the 'throw task' command"), task);
        Assert.Contains("Kernel_Kernel_Shell_Thrower__Run+0x", task);
        Assert.Matches(new Regex(@"throw: task \d+ is dead; the shell goes on"), task);
        Assert.NotEmpty(OutputOf(run, "ps"));
    }

    [Fact]
    public async Task A_program_that_allocates_beyond_RAM_in_a_try_catches_OutOfMemoryException_and_MemFree_comes_back()
    {
        var run = await KernelImage.ScriptAsync(["oomcatch", "oomcatch", "mem"], memory: "128M", timeoutSeconds: 180);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Null(run.Panic);
        string output = OutputOf(run, "oomcatch");
        var caught = Regex.Matches(output, @"caught System.OutOfMemoryException after (\d+) objects \((\d+) MiB\)");
        Assert.Equal(2, caught.Count);
        var memFree = Regex.Matches(output, @"MemFree (\d+) kB when the task ended, (\d+) kB after gc \(before: (\d+) kB\)");
        Assert.Equal(2, memFree.Count);
        long After(int i) => long.Parse(memFree[i].Groups[2].Value);
        long Before(int i) => long.Parse(memFree[i].Groups[3].Value);
        // Every time, the first exhaustion of the boot included, MemFree after the collection is
        // the value before the program ran, to the kB (docs/exceptions.md).
        Assert.True(After(0) == Before(0), $"first: MemFree {After(0)} kB after, {Before(0)} kB before:\n{output}");
        Assert.True(After(1) == Before(1), $"second: MemFree {After(1)} kB after, {Before(1)} kB before:\n{output}");
        // The first program held most of the free memory when new threw.
        long mib = long.Parse(caught[0].Groups[2].Value), freeMiB = long.Parse(memFree[0].Groups[3].Value) / 1024;
        Assert.True(mib * 2 >= freeMiB, output);
    }
}
