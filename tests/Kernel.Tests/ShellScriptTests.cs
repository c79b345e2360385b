using TestRunner.Running;
using Xunit;

namespace Kernel.Tests;

/// <summary>The shell over serial, driven the way labs and scripted scenarios drive it.</summary>
public class ShellScriptTests
{
    [Fact]
    public async Task The_shell_halts_cleanly_when_the_script_ends()
    {
        var run = await KernelImage.ScriptAsync([]);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Equal("halt", Assert.Single(run.Exchanges).Command);
        Assert.Equal(EmulatorStatus.AllPassed, run.EmulatorStatus);
    }
}
