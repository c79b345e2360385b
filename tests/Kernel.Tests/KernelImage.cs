using System.Diagnostics;
using System.Reflection;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;
using Xunit;

namespace Kernel.Tests;

/// <summary>
/// The kernel ISO these tests boot: built once per test process (shared by every test class,
/// whichever asks first) in the configuration this test assembly was built in, then booted
/// headless through the TestRunner library exactly as <c>TestRunner test</c> does.
/// </summary>
public static class KernelImage
{
    static readonly Lazy<Task<KernelLayout>> Built = new(BuildOnceAsync);

    /// <summary>The configuration this assembly was compiled in (Debug or Release).</summary>
    public static string Configuration =>
        typeof(KernelImage).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    static async Task<KernelLayout> BuildOnceAsync()
    {
        string root = KernelLayout.FindRepoRoot(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}");
        var layout = new KernelLayout(root, Configuration);
        // Without the kernel project there is nothing to build; the ISO check below says what to do.
        if (File.Exists(layout.ProjectPath) && !KernelBuilder.IsUpToDate(layout))
        {
            if (await KernelBuilder.BuildAsync(layout) is string error)
                throw new InvalidOperationException(error);
        }
        return layout;
    }

    /// <summary>Returns the ISO path, or fails the test with "kernel ISO not found: build CosmosKernel first".</summary>
    public static async Task<KernelLayout> RequireAsync()
    {
        KernelLayout layout;
        try { layout = await Built.Value; }
        catch (InvalidOperationException e) { Assert.Fail(e.Message); throw; }
        if (!File.Exists(layout.IsoPath))
            Assert.Fail($"kernel ISO not found: build CosmosKernel first (dotnet build {KernelLayout.KernelProject} -c {Configuration}); looked for {layout.IsoPath}");
        return layout;
    }

    static readonly Lazy<Task<string>> BuddyBuilt = new(BuildBuddyOnceAsync);

    /// <summary>
    /// The buddy heap's image (dotnet build ... -p:KernelHeap=Buddy, artifacts/kernel/&lt;config&gt;-buddy/),
    /// built once per test process after the default image (they share the intermediate assemblies).
    /// </summary>
    static async Task<string> BuildBuddyOnceAsync()
    {
        var layout = await Built.Value;
        string iso = Path.Combine(layout.RepoRoot, "artifacts", "kernel", Configuration + "-buddy", "kernel.iso");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = layout.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "build", layout.ProjectPath, "-c", Configuration, "-p:KernelHeap=Buddy", "--nologo", "-v", "quiet" })
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !File.Exists(iso))
            throw new InvalidOperationException($"buddy kernel build failed (exit {process.ExitCode}), looked for {iso}:\n{await stdout}\n{await stderr}");
        return iso;
    }

    /// <summary>Boots the ISO with <paramref name="memory"/>, runs <paramref name="suite"/>, and writes its JUnit file under artifacts/test-results.
    /// <paramref name="heap"/> "buddy" boots the buddy heap's image instead of the default (RAT) one.</summary>
    public static async Task<RunResult> RunAsync(string suite, string? memory = null, int timeoutSeconds = 120, string heap = "rat")
    {
        var layout = await RequireAsync();
        string isoPath = layout.IsoPath;
        if (heap == "buddy")
        {
            try { isoPath = await BuddyBuilt.Value; }
            catch (InvalidOperationException e) { Assert.Fail(e.Message); throw; }
        }
        var size = memory == null ? MemorySize.Default : MemorySize.Parse(memory);
        var result = await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(isoPath, BootMedium.Iso, size),
            Suite = suite,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
        });
        var results = Path.Combine(layout.RepoRoot, "artifacts", "test-results");
        JUnitWriter.Write(result, Path.Combine(results, $"kernel-tests-{heap}-{suite}-{size}.xml"));
        return result;
    }

    /// <summary>Boots the ISO and feeds it shell commands through the runner's script mode.</summary>
    public static async Task<ScriptResult> ScriptAsync(IReadOnlyList<string> commands, string? memory = null, int timeoutSeconds = 60)
    {
        var layout = await RequireAsync();
        return await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = new KernelTarget(layout.IsoPath, BootMedium.Iso, memory == null ? MemorySize.Default : MemorySize.Parse(memory)),
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
        }, commands);
    }

    /// <summary>A script run's story for an assertion message.</summary>
    public static string Describe(ScriptResult run) =>
        $"exit {(int)run.ExitCode} ({run.ExitCode}): {run.Reason}\nserial tail:\n  " + string.Join("\n  ", run.SerialTail);

    /// <summary>A run's story for an assertion message: verdict, every non-passing test, and the serial tail.</summary>
    public static string Describe(RunResult run) =>
        $"exit {(int)run.ExitCode} ({run.ExitCode}): {run.Reason}\n" +
        string.Concat(run.AllTests.Where(t => t.Status != TestStatus.Passed).Select(t => $"  {t.Status} {t.FullName}: {t.Message}\n")) +
        "serial tail:\n  " + string.Join("\n  ", run.SerialTail);
}
