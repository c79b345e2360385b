using System.Diagnostics;

namespace TestRunner.Build;

/// <summary>
/// Where the kernel's project and build outputs live in a repository checkout. <paramref name="Heap"/>
/// null is the build's default heap (artifacts/kernel/&lt;config&gt;/); a named heap (rat, buddy,
/// template) is built with -p:KernelHeap=&lt;heap&gt; into artifacts/kernel/&lt;config&gt;-&lt;heap&gt;/ (docs/plugs.md).
/// </summary>
/// <param name="HeapPlug">A heap plug project of one's own (<c>--heap-plug</c>), a full path: built with -p:KernelHeapPlug into
/// artifacts/kernel/&lt;config&gt;-plug-&lt;project name&gt;-&lt;hash of its path&gt;/, so that two students' plugs of the same name never share an image.</param>
/// <param name="PagePlug">A page-allocator plug project (<c>--page-plug</c>), a full path: built with -p:KernelPagePlug; the image folder
/// gets -page-&lt;project name&gt;-&lt;hash of its path&gt; after the heap's part (with any heap).</param>
public sealed record KernelLayout(string RepoRoot, string Configuration, string? Heap = null, string? HeapPlug = null, string? PagePlug = null)
{
    public const string SolutionFile = "Kernel.sln";

    /// <summary>An OOM policy plug (<c>--oom-plug</c>, Kernel.Proc.OomPolicy), a full path, with any heap: built with -p:KernelOomPlug,
    /// its image folder ends in -oom-&lt;project name&gt;-&lt;hash of its path&gt; (after the heap's part of the name).</summary>
    public string? OomPlug { get; init; }
    public const string KernelProject = "CosmosKernel/Kernel/Kernel.csproj";

    public string ProjectPath => Path.Combine(RepoRoot, KernelProject);
    public string OutputDirectory => Path.Combine(RepoRoot, "artifacts", "kernel", Configuration + Suffix);

    /// <summary>What the image folder adds to the configuration's name: "", "-rat", "-plug-kernel.plugs.myheap-1a2b3c4d", "-page-kernel.plugs.mypages-5e6f7a8b".</summary>
    public string Suffix =>
        (HeapPlug != null ? $"-plug-{Path.GetFileNameWithoutExtension(HeapPlug).ToLowerInvariant()}-{PathHash(HeapPlug)}"
        : Heap != null ? $"-{Heap.ToLowerInvariant()}"
        : "")
        + (PagePlug != null ? $"-page-{Path.GetFileNameWithoutExtension(PagePlug).ToLowerInvariant()}-{PathHash(PagePlug)}" : "")
        + (OomPlug != null ? $"-oom-{Path.GetFileNameWithoutExtension(OomPlug).ToLowerInvariant()}-{PathHash(OomPlug)}" : "");

    static string PathHash(string path) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(path))))[..8].ToLowerInvariant();

    /// <summary>The folder a plug project must be under: it is compiled as a kernel library (CosmosKernel/Directory.Build.props).</summary>
    public const string PlugRoot = "CosmosKernel";

    /// <summary>
    /// Checks a --heap-plug path against <paramref name="repoRoot"/>: an existing .csproj under CosmosKernel/ (where
    /// CosmosKernel/Directory.Build.props makes it a kernel library). Null when it is one, else why not.
    /// </summary>
    public static string? CheckHeapPlug(string repoRoot, string plug) => CheckPlug(repoRoot, plug, "Writing your own heap");

    /// <summary>Checks an --oom-plug path as <see cref="CheckHeapPlug"/> checks a heap plug's: null when it is a .csproj under CosmosKernel/, else why not.</summary>
    public static string? CheckOomPlug(string repoRoot, string plug) => CheckPlug(repoRoot, plug, "An OOM policy plug");

    /// <summary>Checks a --page-plug path as <see cref="CheckHeapPlug"/> checks a heap plug's.</summary>
    public static string? CheckPagePlug(string repoRoot, string plug) => CheckPlug(repoRoot, plug, "The page-allocator seam");

    static string? CheckPlug(string repoRoot, string plug, string section)
    {
        string full = Path.GetFullPath(plug);
        if (!full.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase))
            return $"'{plug}' is not a plug project: name the plug's .csproj (docs/plugs.md, \"{section}\")";
        if (!File.Exists(full))
            return $"'{plug}' does not exist";
        string under = Path.GetFullPath(Path.Combine(repoRoot, PlugRoot)) + Path.DirectorySeparatorChar;
        if (!full.StartsWith(under, StringComparison.Ordinal))
            return $"'{plug}' is not under {PlugRoot}/: a plug is compiled as a kernel library ({PlugRoot}/Directory.Build.props), so copy its folder to {PlugRoot}/Plugs/<Name>/ (docs/plugs.md)";
        return null;
    }
    public string IsoPath => Path.Combine(OutputDirectory, "kernel.iso");
    public string ElfPath => Path.Combine(OutputDirectory, "kernel.elf");

    /// <summary>
    /// Finds the repository root by walking up from <paramref name="start"/> to the folder that
    /// holds Kernel.sln; null when there is none.
    /// </summary>
    public static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        return null;
    }

    /// <summary>The heaps the kernel build knows (-p:KernelHeap, CosmosKernel/Kernel/Kernel.csproj).</summary>
    public static readonly IReadOnlyList<string> KnownHeaps = ["rat", "buddy", "template"];

    /// <summary>The heap a build gets when none is named (KernelHeapDefault in CosmosKernel/Kernel/Kernel.csproj).</summary>
    public const string DefaultHeap = "buddy";

    /// <summary>Validates a configuration name (Debug, Release, or another plain word); null when it is one, else why not.</summary>
    public static string? CheckConfiguration(string configuration) =>
        configuration.Length > 0 && configuration.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && !configuration.Contains("..")
            ? null
            : $"'{configuration}' is not a build configuration: use Debug or Release (letters, digits, '-', '_', '.')";

    /// <summary>Validates a heap name (rat, buddy or template, in any case); null when it is one, else why not.</summary>
    public static string? CheckHeap(string heap) =>
        KnownHeaps.Contains(heap, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"'{heap}' is not a kernel heap: use {string.Join(", ", KnownHeaps.SkipLast(1))} or {KnownHeaps[^1]} ({DefaultHeap} is the default), or --heap-plug <your plug's .csproj> for a heap of your own";

    /// <summary>The image in words, for messages: "configuration Release, the default heap (buddy)".</summary>
    public string Describe() =>
        $"configuration {Configuration}, " + (HeapPlug != null ? $"heap plug {Path.GetRelativePath(RepoRoot, HeapPlug)}"
            : Heap == null ? $"the default heap ({DefaultHeap})" : $"heap {Heap.ToLowerInvariant()}")
        + (PagePlug != null ? $", page-allocator plug {Path.GetRelativePath(RepoRoot, PagePlug)}" : "")
        + (OomPlug != null ? $", OOM policy plug {Path.GetRelativePath(RepoRoot, OomPlug)}" : "");

    /// <summary>The command that builds this image, as a person types it at the repository root.</summary>
    public string BuildCommand =>
        $"dotnet build {KernelProject} -c {Configuration}" + (HeapPlug != null ? $" -p:KernelHeapPlug={Path.GetRelativePath(RepoRoot, HeapPlug)}"
            : Heap == null ? "" : $" -p:KernelHeap={Heap}")
        + (PagePlug != null ? $" -p:KernelPagePlug={Path.GetRelativePath(RepoRoot, PagePlug)}" : "")
        + (OomPlug != null ? $" -p:KernelOomPlug={Path.GetRelativePath(RepoRoot, OomPlug)}" : "")
        + (HeapPlug != null || PagePlug != null || OomPlug != null ? $" -p:KernelHeapSuffix={Suffix}" : "");
}

/// <summary>Builds the kernel with <c>dotnet build</c> when its sources are newer than its ISO.</summary>
public static class KernelBuilder
{
    /// <summary>Folders whose files are kernel inputs, relative to the repository root.</summary>
    static readonly string[] InputFolders = { "CosmosKernel", "MemoryManager" };

    /// <summary>
    /// True when the ISO exists and no input file (under CosmosKernel/ and MemoryManager/, outside
    /// bin/ and obj/, plus the root's Directory.Build.* files) is newer than it.
    /// </summary>
    public static bool IsUpToDate(KernelLayout layout)
    {
        if (!File.Exists(layout.IsoPath)) return false;
        var built = File.GetLastWriteTimeUtc(layout.IsoPath);
        foreach (var file in InputFiles(layout.RepoRoot, layout.HeapPlug, layout.PagePlug, layout.OomPlug))
            if (File.GetLastWriteTimeUtc(file) > built) return false;
        return true;
    }

    static IEnumerable<string> InputFiles(string root, params string?[] plugs)
    {
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            var path = Path.Combine(root, name);
            if (File.Exists(path)) yield return path;
        }
        // A plug in a folder the scan skips (a dot folder, say) is an input too.
        var folders = InputFolders.Concat(plugs.OfType<string>().Select(plug => Path.GetDirectoryName(Path.GetFullPath(plug))!)).Distinct();
        foreach (var folder in folders)
        {
            var dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            var pending = new Stack<string>();
            pending.Push(dir);
            while (pending.Count > 0)
            {
                var current = pending.Pop();
                foreach (var sub in Directory.EnumerateDirectories(current))
                {
                    var name = Path.GetFileName(sub);
                    if (name is "bin" or "obj" or ".vs" || name.StartsWith('.')) continue;
                    pending.Push(sub);
                }
                foreach (var file in Directory.EnumerateFiles(current)) yield return file;
            }
        }
    }

    /// <summary>The arguments of <c>dotnet</c> that build <paramref name="layout"/>'s image.</summary>
    public static IReadOnlyList<string> BuildArguments(KernelLayout layout)
    {
        var args = new List<string> { "build", layout.ProjectPath, "-c", layout.Configuration, "--nologo", "-v", "quiet" };
        if (layout.HeapPlug != null) args.Add($"-p:KernelHeapPlug={Path.GetFullPath(layout.HeapPlug)}");
        else if (layout.Heap != null) args.Add($"-p:KernelHeap={layout.Heap}");
        if (layout.PagePlug != null) args.Add($"-p:KernelPagePlug={Path.GetFullPath(layout.PagePlug)}");
        if (layout.OomPlug != null) args.Add($"-p:KernelOomPlug={Path.GetFullPath(layout.OomPlug)}");
        if (layout.HeapPlug != null || layout.PagePlug != null || layout.OomPlug != null) args.Add($"-p:KernelHeapSuffix={layout.Suffix}");
        return args;
    }

    /// <summary>
    /// Runs <c>dotnet build CosmosKernel/Kernel/Kernel.csproj -c &lt;config&gt;</c>, passing its output
    /// to <paramref name="output"/>; returns null on success, else a message (with the build's last lines).
    /// </summary>
    public static async Task<string?> BuildAsync(KernelLayout layout, Action<string>? output = null, CancellationToken cancel = default)
    {
        if (!File.Exists(layout.ProjectPath))
            return $"kernel ISO not found: build CosmosKernel first (there is no {KernelLayout.KernelProject} under {layout.RepoRoot})";
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = layout.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in BuildArguments(layout))
            info.ArgumentList.Add(a);
        var tail = new Queue<string>();
        void Take(string? line)
        {
            if (line == null) return;
            lock (tail) { tail.Enqueue(line); if (tail.Count > 30) tail.Dequeue(); }
            output?.Invoke(line);
        }
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Take(e.Data);
        process.ErrorDataReceived += (_, e) => Take(e.Data);
        try { process.Start(); }
        catch (System.ComponentModel.Win32Exception e) { return $"cannot run 'dotnet build': {e.Message}"; }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try { await process.WaitForExitAsync(cancel).ConfigureAwait(false); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        if (process.ExitCode != 0)
            return $"kernel build failed (dotnet build exit {process.ExitCode}):{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
        if (!File.Exists(layout.IsoPath))
            return $"kernel ISO not found: the build succeeded but did not produce {layout.IsoPath}";
        return null;
    }
}
