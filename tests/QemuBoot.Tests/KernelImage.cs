using System.Reflection;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// The kernel ISO these tests boot: built once per test process (shared by every test class,
/// whichever asks first) in the configuration this test assembly was built in, then booted
/// headless through the TestRunner library exactly as <c>TestRunner test</c> does. A test may ask
/// for a named heap (<c>heap: "template"</c>): that image is built once too, with -p:KernelHeap
/// (TestRunner's --heap), into its own folder; builds never run two at a time.
/// </summary>
public static class KernelImage
{
    static readonly Dictionary<string, Lazy<Task<KernelLayout>>> Built = new();
    static readonly SemaphoreSlim BuildLock = new(1, 1);

    /// <summary>The configuration this assembly was compiled in (Debug or Release).</summary>
    public static string Configuration =>
        typeof(KernelImage).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    static string RepoRoot() => KernelLayout.FindRepoRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}");

    static async Task<KernelLayout> BuildOnceAsync(KernelLayout layout)
    {
        // Without the kernel project there is nothing to build; the ISO check below says what to do.
        if (File.Exists(layout.ProjectPath) && !KernelBuilder.IsUpToDate(layout))
        {
            await BuildLock.WaitAsync();
            try
            {
                if (await KernelBuilder.BuildAsync(layout) is string error)
                    throw new InvalidOperationException(error);
            }
            finally { BuildLock.Release(); }
        }
        return layout;
    }

    /// <summary>Runs <paramref name="work"/> (which builds kernel images itself: the grading) while no other test builds one.</summary>
    public static async Task<T> WhileNoOtherBuildAsync<T>(Func<Task<T>> work)
    {
        await BuildLock.WaitAsync();
        try { return await work(); }
        finally { BuildLock.Release(); }
    }

    /// <summary>Returns the ISO path, or fails the test with "kernel ISO not found: build CosmosKernel first".</summary>
    /// <paramref name="configuration"/>: the kernel's build configuration (default: this assembly's).
    public static Task<KernelLayout> RequireAsync(string? heap = null, string? configuration = null) =>
        RequireLayoutAsync(new KernelLayout(RepoRoot(), configuration ?? Configuration, heap));

    /// <summary>
    /// The image built with the OOM policy plug <paramref name="oomPlug"/> (repository-relative .csproj) and the default heap,
    /// as TestRunner's --oom-plug builds it (artifacts/kernel/&lt;config&gt;-oom-&lt;name&gt;-&lt;hash&gt;/): built once per test process.
    /// </summary>
    public static Task<KernelLayout> RequireOomPlugAsync(string oomPlug)
    {
        string root = RepoRoot();
        return RequireLayoutAsync(new KernelLayout(root, Configuration) { OomPlug = Path.GetFullPath(Path.Combine(root, oomPlug)) });
    }

    /// <summary>
    /// The image <paramref name="layout"/> names (any heap, heap plug, page plug or OOM plug), built once per test
    /// process (its image folder is the key); fails the test when it cannot be built or its ISO is missing.
    /// </summary>
    public static async Task<KernelLayout> RequireLayoutAsync(KernelLayout layout)
    {
        Lazy<Task<KernelLayout>> once;
        lock (Built)
        {
            if (!Built.TryGetValue(layout.OutputDirectory, out once!))
                Built[layout.OutputDirectory] = once = new Lazy<Task<KernelLayout>>(() => BuildOnceAsync(layout));
        }
        try { layout = await once.Value; }
        catch (InvalidOperationException e) { Assert.Fail(e.Message); throw; }
        if (!File.Exists(layout.IsoPath))
            Assert.Fail($"kernel ISO not found for {layout.Describe()}: build CosmosKernel first ({layout.BuildCommand}); looked for {layout.IsoPath}");
        return layout;
    }

    /// <summary>Boots the ISO with <paramref name="memory"/>, runs <paramref name="suite"/>, and writes its JUnit file under artifacts/test-results.</summary>
    /// <paramref name="deterministic"/> is TestRunner's --deterministic; <paramref name="serialLog"/> receives the raw serial text.
    public static async Task<RunResult> RunAsync(string suite, string? memory = null, int timeoutSeconds = 120, string? heap = null,
        string? configuration = null, bool deterministic = false, TextWriter? serialLog = null, int numaNodes = 0)
    {
        var layout = await RequireAsync(heap, configuration);
        var size = memory == null ? MemorySize.Default : MemorySize.Parse(memory);
        var result = await TestRun.RunAsync(new TestRunOptions
        {
            Target = new KernelTarget(layout.IsoPath, BootMedium.Iso, size) { NumaNodes = numaNodes },
            Suite = suite,
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            Deterministic = deterministic,
            SerialLog = serialLog,
        });
        string? variant = configuration == null ? heap : $"{heap}{configuration}".ToLowerInvariant();
        if (numaNodes != 0) variant = $"{variant}numa{numaNodes}";
        JUnitWriter.Write(result, JUnitPath(layout.RepoRoot, suite, size, variant));
        return result;
    }

    /// <summary>Where <see cref="RunAsync"/> wrote the JUnit file of <paramref name="suite"/> booted with <paramref name="memory"/>.</summary>
    public static string JUnitPath(string suite, string? memory = null, string? heap = null) =>
        JUnitPath(KernelLayout.FindRepoRoot(AppContext.BaseDirectory) ?? throw new InvalidOperationException($"no {KernelLayout.SolutionFile} above {AppContext.BaseDirectory}"),
                  suite, memory == null ? MemorySize.Default : MemorySize.Parse(memory), heap);

    static string JUnitPath(string repoRoot, string suite, MemorySize size, string? heap) =>
        Path.Combine(repoRoot, "artifacts", "test-results", $"kernel-tests-{suite}-{size}{(heap == null ? "" : "-" + heap)}.xml");

    /// <summary>
    /// Boots the ISO and feeds it shell commands through the runner's script mode. With
    /// <paramref name="screendump"/> (a file name such as "screen-help.png"), the VGA screen after
    /// the last command is saved under artifacts/test-results/ and returned in <see cref="ScriptResult.Screen"/>.
    /// <paramref name="debugExitDevice"/> false boots QEMU without isa-debug-exit (TestRunner's
    /// --no-debug-exit); <paramref name="medium"/> Direct boots kernel.elf with -kernel (--direct);
    /// <paramref name="commandLine"/> is the kernel command line (--cmdline).
    /// </summary>
    /// <paramref name="deterministic"/> is TestRunner's --deterministic; <paramref name="serialLog"/> receives the raw serial text.
    public static async Task<ScriptResult> ScriptAsync(IReadOnlyList<string> commands, string? memory = null, int timeoutSeconds = 60, string? heap = null,
        string? screendump = null, bool debugExitDevice = true, BootMedium medium = BootMedium.Iso, bool deterministic = false, TextWriter? serialLog = null,
        int numaNodes = 0, string? commandLine = null)
    {
        var layout = await RequireAsync(heap);
        return await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = new KernelTarget(medium == BootMedium.Iso ? layout.IsoPath : layout.ElfPath, medium,
                memory == null ? MemorySize.Default : MemorySize.Parse(memory)) { DebugExitDevice = debugExitDevice, NumaNodes = numaNodes, CommandLine = commandLine },
            Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            Screendump = screendump == null ? null : Path.Combine(layout.RepoRoot, "artifacts", "test-results", screendump),
            Deterministic = deterministic,
            SerialLog = serialLog,
        }, commands);
    }

    /// <summary>
    /// Runs a deliberate-failure suite (selftest-*): the run must end as "tests failed" with exactly
    /// one failed test, which is returned with the run for the suite's own checks.
    /// </summary>
    public static async Task<(RunResult Run, TestResult Failed)> RunDeliberateFailureAsync(string suite, int timeoutSeconds = 60, string? heap = null)
    {
        var run = await RunAsync(suite, timeoutSeconds: timeoutSeconds, heap: heap);
        Assert.True(run.ExitCode == RunExitCode.TestsFailed, Describe(run));
        // A failed assert is a failure; a panic is an error of the test it crashed (TestRunState), of type KernelPanic.
        var bad = Assert.Single(run.AllTests, t => t.Status is TestStatus.Failed or TestStatus.Error);
        if (bad.Status == TestStatus.Error) Assert.Equal("KernelPanic", bad.ErrorType);
        return (run, bad);
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
