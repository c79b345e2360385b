using System.CommandLine;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;

namespace TestRunner.Cli;

/// <summary>The options every booting command shares, and how they turn into a <see cref="KernelTarget"/>.</summary>
public sealed class KernelOptions
{
    public Option<string> Memory { get; } = new("--memory", "-m")
    {
        Description = "Guest memory, as QEMU's -m takes it (256M, 128M, 6G)",
        DefaultValueFactory = _ => MemorySize.Default.ToString(),
    };
    public Option<string?> Iso { get; } = new("--iso")
    {
        Description = "Boot this ISO instead of the repository's build (no build is done)",
    };
    public Option<string?> Config { get; } = new("--config", "-c")
    {
        Description = "Kernel build configuration: artifacts/kernel/<config>/kernel.iso [default: Release]",
    };
    public Option<string?> Heap { get; } = new("--heap")
    {
        Description = "Kernel heap: rat, buddy or template, built with -p:KernelHeap=<heap> into artifacts/kernel/<config>-<heap>/ [default: the build's default heap, artifacts/kernel/<config>/]",
    };
    public Option<bool> NoBuild { get; } = new("--no-build")
    {
        Description = "Do not build the kernel; boot the ISO that is there",
    };
    public Option<bool> Direct { get; } = new("--direct")
    {
        Description = "Boot kernel.elf with QEMU's -kernel (multiboot1) instead of the ISO through GRUB",
    };

    /// <summary>Hidden: the emulator program, so tests can substitute a fake one.</summary>
    public static readonly Option<string> Qemu = new("--qemu")
    {
        Description = "Emulator program to run instead of qemu-system-x86_64",
        DefaultValueFactory = _ => QemuCommand.DefaultProgram,
        Hidden = true,
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Memory);
        command.Options.Add(Iso);
        command.Options.Add(Config);
        command.Options.Add(Heap);
        command.Options.Add(NoBuild);
        command.Options.Add(Direct);
    }

    /// <summary>
    /// Resolves the options: parses the memory size, finds or builds the image. Returns null and
    /// reports the problem when the options cannot be used.
    /// </summary>
    public async Task<KernelTarget?> ResolveAsync(ParseResult parse, ConsoleReporter reporter, CancellationToken cancel)
    {
        if (!MemorySize.TryParse(parse.GetValue(Memory), out var memory, out var memoryError))
        {
            reporter.Error(memoryError);
            return null;
        }
        string? iso = parse.GetValue(Iso);
        string? config = parse.GetValue(Config);
        string? heap = parse.GetValue(Heap);
        bool direct = parse.GetValue(Direct);
        var medium = direct ? BootMedium.Direct : BootMedium.Iso;
        string emulator = parse.GetValue(Qemu) ?? QemuCommand.DefaultProgram;

        if (iso != null)
        {
            if (config != null || heap != null)
            {
                reporter.Error(config != null ? "use either --iso or --config, not both" : "use either --iso or --heap, not both");
                return null;
            }
            string full = Path.GetFullPath(iso);
            string image = direct ? Path.Combine(Path.GetDirectoryName(full)!, "kernel.elf") : full;
            return new KernelTarget(image, medium, memory, emulator);
        }

        config ??= "Release";
        if (KernelLayout.CheckConfiguration(config) is string configError)
        {
            reporter.Error(configError);
            return null;
        }
        if (heap != null && KernelLayout.CheckHeap(heap) is string heapError)
        {
            reporter.Error(heapError);
            return null;
        }
        string? root = KernelLayout.FindRepoRoot(Environment.CurrentDirectory);
        if (root == null)
        {
            reporter.Error($"no {KernelLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run inside the repository or pass --iso");
            return null;
        }
        var layout = new KernelLayout(root, config, heap);
        if (!parse.GetValue(NoBuild))
        {
            if (KernelBuilder.IsUpToDate(layout))
            {
                reporter.Info($"kernel up to date: {Relative(layout.IsoPath)}");
            }
            else
            {
                reporter.Info($"building kernel ({config}{(heap == null ? "" : ", heap " + heap)}): dotnet {string.Join(' ', KernelBuilder.BuildArguments(layout with { RepoRoot = "." }).Where(a => a is not ("--nologo" or "-v" or "quiet")))}");
                if (await KernelBuilder.BuildAsync(layout, null, cancel) is string buildError)
                {
                    reporter.Error(buildError);
                    return null;
                }
            }
        }
        return new KernelTarget(direct ? layout.ElfPath : layout.IsoPath, medium, memory, emulator);
    }

    /// <summary>Writes kernel.vmx beside the ISO; a failure is only a warning.</summary>
    public static void WriteVmx(KernelTarget target, ConsoleReporter reporter)
    {
        if (target.Medium != BootMedium.Iso || !File.Exists(target.Image)) return;
        try
        {
            var path = VmxWriter.WriteBeside(target.Image, target.Memory);
            reporter.Info($"VMware: {Relative(path)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reporter.Info($"warning: could not write {VmxWriter.FileName}: {e.Message}");
        }
    }

    public static string Relative(string path)
    {
        var rel = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }
}
