using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Running;

namespace TestRunner.Cli;

/// <summary>
/// How each option's value is read and checked, as System.CommandLine parsers and validators: a
/// bad value becomes a parse error that names the option and quotes the value
/// (<c>--timeout: 'abc' is not a whole number of seconds (1 to 86400)</c>), so the command never
/// runs with it. Nothing is rounded, clamped or wrapped into range.
/// </summary>
public static class OptionValues
{
    /// <summary>The longest time limit a run may have: a day.</summary>
    public const int MaxTimeoutSeconds = 86400;

    /// <summary>The time limit in whole seconds, 1 to <see cref="MaxTimeoutSeconds"/>.</summary>
    public static Option<int> Timeout() => new("--timeout", "-t")
    {
        Description = $"Host-side time limit in seconds for the whole boot and run (1 to {MaxTimeoutSeconds})",
        HelpName = "seconds",
        DefaultValueFactory = _ => 120,
        CustomParser = r => WholeNumber(r, 1, MaxTimeoutSeconds, "seconds"),
    };

    /// <summary>
    /// Reads the option's one token as a whole number in [min, max]: decimal digits, with '-' in
    /// front for a negative number. A number outside the range (0, negative, too large for any
    /// integer type) is refused as out of range, anything else as not a whole number.
    /// </summary>
    public static int WholeNumber(ArgumentResult r, int min, int max, string unit)
    {
        string text = r.Tokens[0].Value;
        string digits = text.StartsWith('-') ? text[1..] : text;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit))
        {
            r.AddError($"{Name(r)}: '{text}' is not a whole number of {unit} ({min} to {max})");
            return default;
        }
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            r.AddError($"{Name(r)}: '{text}' is out of range: use {min} to {max} {unit}");
            return default;
        }
        return value;
    }

    /// <summary>--deterministic of script and test (docs/test-runner.md, "Deterministic runs").</summary>
    public static Option<bool> Deterministic() => new("--deterministic")
    {
        Description = "Same script, same memory size: same bytes on every run. QEMU counts instructions for the guest's clock " +
                      "(-icount shift=0,sleep=off) and the commands reach the kernel as a boot module its shell runs itself",
    };

    /// <summary>Guest memory as QEMU's -m takes it, 6M to 1T (<see cref="MemorySize"/>).</summary>
    public static Option<MemorySize> Memory() => new("--memory", "-m")
    {
        Description = $"Guest memory, as QEMU's -m takes it: 256M, 128M, 6G, 512 (MiB); {MemorySize.MinimumMiB}M to 1T",
        HelpName = "size",
        DefaultValueFactory = _ => MemorySize.Default,
        CustomParser = r =>
        {
            if (MemorySize.TryParse(r.Tokens[0].Value, out var size, out var error)) return size;
            r.AddError($"{Name(r)}: {error}");
            return default;
        },
    };

    /// <summary>The suite to run: 'all' or one suite's name (<see cref="TestRun.ValidateSuiteName"/>).</summary>
    public static Option<string> Suite()
    {
        var option = new Option<string>("--suite", "-s")
        {
            Description = "Suite to run: 'all' (every suite but the selftest-* ones) or one suite's name",
            HelpName = "all|name",
            DefaultValueFactory = _ => "all",
        };
        option.Validators.Add(r => Check(r, TestRun.ValidateSuiteName));
        return option;
    }

    /// <summary>A build configuration name (<see cref="KernelLayout.CheckConfiguration"/>).</summary>
    public static Option<string?> Configuration()
    {
        var option = new Option<string?>("--config", "-c")
        {
            Description = "Kernel build configuration: artifacts/kernel/<config>/kernel.iso [default: Release]",
            HelpName = "Debug|Release",
        };
        option.Validators.Add(r => Check(r, KernelLayout.CheckConfiguration));
        return option;
    }

    /// <summary>A kernel heap: rat, buddy or template in any case, read as lower case.</summary>
    public static Option<string?> Heap() => new("--heap")
    {
        Description = $"Kernel heap: {string.Join(", ", KernelLayout.KnownHeaps.SkipLast(1))} or {KernelLayout.KnownHeaps[^1]}, built with -p:KernelHeap=<heap> into " +
                      $"artifacts/kernel/<config>-<heap>/ [default: the build's default heap ({KernelLayout.DefaultHeap}), artifacts/kernel/<config>/]",
        HelpName = string.Join('|', KernelLayout.KnownHeaps),
        CustomParser = r =>
        {
            string text = r.Tokens[0].Value;
            if (KernelLayout.CheckHeap(text) is string error) { r.AddError($"{Name(r)}: {error}"); return null; }
            return text.ToLowerInvariant();
        },
    };

    /// <summary>--heap-plug: a heap plug project of one's own (checked against the repository when the command runs: <see cref="KernelLayout.CheckHeapPlug"/>).</summary>
    public static Option<string?> HeapPlug() => new("--heap-plug")
    {
        Description = "A heap plug project of your own (a .csproj under CosmosKernel/, e.g. a copy of CosmosKernel/Plugs/Template): " +
                      "builds with -p:KernelHeapPlug=<path> into artifacts/kernel/<config>-plug-<name>-<hash>/ (docs/plugs.md)",
        HelpName = "path/to/MyHeap.csproj",
    };

    /// <summary>--oom-plug: an OOM policy plug project of one's own (checked against the repository when the command runs: <see cref="KernelLayout.CheckOomPlug"/>).</summary>
    public static Option<string?> OomPlug() => new("--oom-plug")
    {
        Description = "An OOM policy plug project of your own (a .csproj under CosmosKernel/, e.g. a copy of CosmosKernel/Plugs/OomPolicyTemplate), with any heap: " +
                      "builds with -p:KernelOomPlug=<path> into artifacts/kernel/<config>[-<heap>]-oom-<name>-<hash>/ (docs/plugs.md)",
        HelpName = "path/to/MyPolicy.csproj",
    };

    /// <summary>--page-plug: a page-allocator plug project of one's own (checked like --heap-plug).</summary>
    public static Option<string?> PagePlug() => new("--page-plug")
    {
        Description = "A page-allocator plug project of your own (a .csproj under CosmosKernel/, e.g. a copy of CosmosKernel/Plugs/PageAllocatorTemplate), " +
                      "with any heap: builds with -p:KernelPagePlug=<path> into artifacts/kernel/<config>[-<heap>]-page-<name>-<hash>/ (docs/plugs.md)",
        HelpName = "path/to/MyPages.csproj",
    };

    /// <summary>A file the run reads: it must exist and not be a folder.</summary>
    public static void MustBeAnExistingFile(Option<string?> option) => option.Validators.Add(r => Check(r, ExistingFile));

    /// <summary>The same, for an argument.</summary>
    public static void MustBeAnExistingFile(Argument<string> argument) => argument.Validators.Add(r =>
    {
        if (r.Tokens.Count == 1 && ExistingFile(r.Tokens[0].Value) is string error) r.AddError($"<{argument.Name}>: {error}");
    });

    /// <summary>An option naming a file the run writes (a JUnit file, a serial log): a path that is not empty and not an existing folder.</summary>
    public static Option<string?> FileToWrite(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "path" };
        option.Validators.Add(r => Check(r, FileToWrite));
        return option;
    }

    /// <summary>--trace of script: the folder that gets trace.csv, memory.svg, memory.png and report.html (docs/memory-trace.md); not a file.</summary>
    public static Option<string?> TraceFolder()
    {
        var option = new Option<string?>("--trace")
        {
            Description = "Sample memory every 5 ticks while the script runs and write trace.csv, memory.svg, memory.png and report.html into this folder",
            HelpName = "folder",
        };
        option.Validators.Add(r => Check(r, path =>
            path.Length == 0 ? "'' is not a folder name" : File.Exists(path) ? $"'{path}' is a file, not a folder" : null));
        return option;
    }

    /// <summary>The screendump file: a file to write whose name ends in .png or .ppm.</summary>
    public static Option<string?> Screendump()
    {
        var option = new Option<string?>("--screendump")
        {
            Description = "After the last command's answer (before halt), save QEMU's VGA screen to this .png or .ppm file",
            HelpName = "file.png|file.ppm",
        };
        option.Validators.Add(r =>
            Check(r, path => FileToWrite(path) ?? (Screen.Screendump.CheckPath(path) is null ? null : $"'{path}' must end in .png or .ppm")));
        return option;
    }

    /// <summary>A program name or path: not empty (whether it runs is found out when it is started).</summary>
    public static void MustNotBeEmpty(Option<string> option) => option.Validators.Add(r =>
        Check(r, text => text.Length == 0 ? "'' is empty: name a program" : null));

    static string? ExistingFile(string path) =>
        path.Length == 0 ? "'' is not a file name"
        : Directory.Exists(path) ? $"'{path}' is a folder, not a file"
        : !File.Exists(path) ? $"'{path}' does not exist"
        : null;

    static string? FileToWrite(string path) =>
        path.Length == 0 ? "'' is not a file name"
        : Directory.Exists(path) ? $"'{path}' is a folder, not a file"
        : null;

    /// <summary>Runs <paramref name="check"/> on the option's value (its one token) and adds its message, with the option's name, as an error.</summary>
    static void Check(OptionResult r, Func<string, string?> check)
    {
        if (r.Implicit || r.Tokens.Count != 1) return;   // the default value, or an arity error S.CL reports itself
        if (check(r.Tokens[0].Value) is string error) r.AddError($"{r.Option.Name}: {error}");
    }

    /// <summary>The option's name as the help shows it (--timeout, not -t).</summary>
    static string Name(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : $"<{r.Argument.Name}>";
}
