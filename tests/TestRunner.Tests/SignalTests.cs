using System.Diagnostics;
using System.Runtime.InteropServices;
using TestRunner.Cli;
using Xunit;

namespace TestRunner.Tests;

/// <summary>
/// The runner as a process of its own, as a shell starts it: a bad option value is a usage error,
/// not a crash, and SIGINT or SIGTERM during a run stops QEMU and ends the runner with exit 130.
/// </summary>
public class SignalTests
{
    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    const int SIGINT = 2, SIGTERM = 15;

    /// <summary>
    /// Starts TestRunner.dll (built beside this assembly) with the dotnet host that runs these tests.
    /// Through <c>env --default-signal</c>: a test host started in the background may have inherited
    /// SIGINT as ignored, and the runner would then never see it.
    /// </summary>
    static Process Start(params string[] args)
    {
        string dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var info = new ProcessStartInfo("env")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--default-signal=INT,TERM", dotnet, typeof(Entry).Assembly.Location, .. args]) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    static async Task<(int Exit, string Output, string Error)> Finish(Process process)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        return (process.ExitCode, await output, await error);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999")]
    public async Task A_bad_timeout_ends_the_process_with_exit_2_and_the_usage_line_not_an_unhandled_exception(string value)
    {
        using var process = Start("test", "--timeout", value);
        var (exit, output, error) = await Finish(process);
        Assert.Equal(2, exit);
        Assert.StartsWith($"error: --timeout: '{value}' ", error);
        Assert.Contains("usage: TestRunner test ", error);
        Assert.DoesNotContain("Unhandled exception", error + output);
    }

    [Theory]
    [InlineData(SIGINT, "SIGINT")]
    [InlineData(SIGTERM, "SIGTERM")]
    public async Task A_signal_during_a_test_run_stops_QEMU_says_it_was_interrupted_and_exits_130(int signal, string name)
    {
        using var fake = new FakeEmulator([Kernel.Ready(), "@read", "@sleep 30"]);
        using var process = Start("test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "60",
            "--junit", Path.Combine(fake.Folder, "junit.xml"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (fake.Received.Length == 0 && !process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(["test all"], fake.Received);
        Assert.Equal(0, kill(process.Id, signal));
        var (exit, output, error) = await Finish(process);
        Assert.Equal(130, exit);
        Assert.Contains($"{name}: interrupted, stopping (a second signal ends the runner at once)", error);
        Assert.Contains("error: interrupted: QEMU was stopped", output);
        Assert.False(fake.IsRunning, "QEMU was left running");
    }
}
