using System.CommandLine;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;

namespace TestRunner.Cli;

/// <summary>The options every booting command shares, and how they turn into a <see cref="KernelTarget"/>.</summary>
public sealed class KernelOptions
{
    public Option<MemorySize> Memory { get; } = OptionValues.Memory();
    public Option<string?> Iso { get; } = new("--iso")
    {
        Description = "Boot this ISO instead of the repository's build (no build is done)",
        HelpName = "path",
    };
    public Option<string?> Config { get; } = OptionValues.Configuration();
    public Option<string?> Heap { get; } = OptionValues.Heap();
    public Option<string?> HeapPlug { get; } = OptionValues.HeapPlug();
    public Option<string?> OomPlug { get; } = OptionValues.OomPlug();
    public Option<string?> PagePlug { get; } = OptionValues.PagePlug();
    public Option<bool> NoBuild { get; } = new("--no-build")
    {
        Description = "Do not build the kernel; boot the ISO that is there",
    };
    public Option<int> Numa { get; } = new("--numa")
    {
        Description = $"Boot QEMU with N NUMA nodes ({QemuCommand.MinNumaNodes} to {QemuCommand.MaxNumaNodes}): memory split evenly, SLIT distance 10 + 10 x |i - j|; the kernel reads them from the ACPI SRAT and SLIT",
        HelpName = "N",
        CustomParser = r => OptionValues.WholeNumber(r, QemuCommand.MinNumaNodes, QemuCommand.MaxNumaNodes, "nodes"),
    };
    public Option<string?> CommandLine { get; } = new("--cmdline")
    {
        Description = "The kernel command line, e.g. \"numa_zonelist_order=zone\" (an ISO boot gets a per-run ISO whose grub.cfg carries it; --direct passes it with QEMU's -append)",
        HelpName = "text",
    };
    public Option<bool> Direct { get; } = new("--direct")
    {
        Description = "Boot kernel.elf with QEMU's -kernel (multiboot1) instead of the ISO through GRUB",
    };

    /// <summary>Hidden: the emulator program, so tests can substitute a fake one.</summary>
    public static readonly Option<string> Qemu = CreateQemu();

    static Option<string> CreateQemu()
    {
        var option = new Option<string>("--qemu")
        {
            Description = "Emulator program to run instead of qemu-system-x86_64",
            DefaultValueFactory = _ => QemuCommand.DefaultProgram,
            Hidden = true,
            Recursive = true,
        };
        OptionValues.MustNotBeEmpty(option);
        return option;
    }

    readonly bool bootable;

    /// <param name="bootable">The command boots the image, so it has --direct (vmx only writes a file for VMware, which boots the ISO).</param>
    public KernelOptions(bool bootable = true)
    {
        this.bootable = bootable;
        OptionValues.MustBeAnExistingFile(Iso);
        CommandLine.Validators.Add(r =>
        {
            if (r.Implicit || r.Tokens.Count != 1) return;
            if (QemuCommand.CheckCommandLine(r.Tokens[0].Value) is string error) r.AddError(error);
        });
    }

    /// <summary>Adds the options to <paramref name="command"/>, with the rule that --iso names the image alone.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Memory);
        command.Options.Add(Iso);
        command.Options.Add(Config);
        command.Options.Add(Heap);
        command.Options.Add(HeapPlug);
        command.Options.Add(OomPlug);
        command.Options.Add(PagePlug);
        command.Options.Add(NoBuild);
        if (bootable) command.Options.Add(Direct);
        if (bootable) command.Options.Add(Numa);
        if (bootable) command.Options.Add(CommandLine);
        if (bootable)
            command.Validators.Add(r =>
            {
                // Only a node count the option itself accepted (its parser reports the others).
                if (r.GetResult(Numa) is not { Implicit: false } numa || numa.Tokens.Count != 1) return;
                if (!int.TryParse(numa.Tokens[0].Value, out int nodes) || nodes < QemuCommand.MinNumaNodes || nodes > QemuCommand.MaxNumaNodes) return;
                if (r.GetResult(Memory) is { } m && m.Tokens.Count == 1 && !MemorySize.TryParse(m.Tokens[0].Value, out _, out _)) return;
                if (QemuCommand.CheckNuma(r.GetValue(Memory), nodes) is string error) r.AddError(error);
            });
        command.Validators.Add(r =>
        {
            if (r.GetResult(Heap) is { Implicit: false } && r.GetResult(HeapPlug) is { Implicit: false })
                r.AddError($"{Heap.Name} and {HeapPlug.Name} cannot be used together: each names the image's heap");
            if (r.GetResult(Iso) is not { Implicit: false }) return;
            foreach (var other in new Option[] { Config, Heap, HeapPlug, PagePlug, OomPlug })
                if (r.GetResult(other) is { Implicit: false })
                    r.AddError($"{Iso.Name} and {other.Name} cannot be used together: --iso names the image to boot, {other.Name} picks a repository build");
        });
    }

    /// <summary>
    /// Turns the parsed options into a target: finds or builds the image. Returns null and reports the
    /// problem when the options cannot be used (no repository, a failed build, an interrupt during the build).
    /// </summary>
    public async Task<KernelTarget?> ResolveAsync(ParseResult parse, ConsoleReporter reporter, CancellationToken cancel)
    {
        var memory = parse.GetValue(Memory);
        int numa = bootable ? parse.GetValue(Numa) : 0;
        string? commandLine = bootable ? parse.GetValue(CommandLine) : null;
        string? iso = parse.GetValue(Iso);
        string? config = parse.GetValue(Config);
        string? heap = parse.GetValue(Heap);
        string? heapPlug = parse.GetValue(HeapPlug);
        string? oomPlug = parse.GetValue(OomPlug);
        string? pagePlug = parse.GetValue(PagePlug);
        bool direct = bootable && parse.GetValue(Direct);
        var medium = direct ? BootMedium.Direct : BootMedium.Iso;
        string emulator = parse.GetValue(Qemu) ?? QemuCommand.DefaultProgram;

        if (iso != null)
        {
            string full = Path.GetFullPath(iso);
            string image = direct ? Path.Combine(Path.GetDirectoryName(full)!, "kernel.elf") : full;
            return new KernelTarget(image, medium, memory, emulator) { NumaNodes = numa, CommandLine = commandLine };
        }

        string? root = KernelLayout.FindRepoRoot(Environment.CurrentDirectory);
        if (root == null)
        {
            reporter.Error($"no {KernelLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run inside the repository or pass --iso");
            return null;
        }
        if (heapPlug != null && KernelLayout.CheckHeapPlug(root, heapPlug) is string plugError)
        {
            reporter.Error($"{HeapPlug.Name}: {plugError}");
            return null;
        }
        if (oomPlug != null && KernelLayout.CheckOomPlug(root, oomPlug) is string oomPlugError)
        {
            reporter.Error($"{OomPlug.Name}: {oomPlugError}");
            return null;
        }
        if (pagePlug != null && KernelLayout.CheckPagePlug(root, pagePlug) is string pagePlugError)
        {
            reporter.Error($"{PagePlug.Name}: {pagePlugError}");
            return null;
        }
        var layout = new KernelLayout(root, config ?? "Release", heap, heapPlug == null ? null : Path.GetFullPath(heapPlug),
                                      pagePlug == null ? null : Path.GetFullPath(pagePlug))
        {
            OomPlug = oomPlug == null ? null : Path.GetFullPath(oomPlug),
        };
        if (!parse.GetValue(NoBuild))
        {
            if (KernelBuilder.IsUpToDate(layout))
            {
                reporter.Info($"kernel up to date: {Relative(layout.IsoPath)}");
            }
            else
            {
                reporter.Info($"building kernel ({layout.Describe()}): dotnet {string.Join(' ', KernelBuilder.BuildArguments(layout with { RepoRoot = "." }).Where(a => a is not ("--nologo" or "-v" or "quiet")))}");
                string? buildError;
                try { buildError = await KernelBuilder.BuildAsync(layout, null, cancel); }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                {
                    reporter.Error($"interrupted while building the kernel ({layout.Describe()}): the build was stopped");
                    return null;
                }
                if (buildError != null)
                {
                    reporter.Error(buildError);
                    return null;
                }
            }
        }
        return new KernelTarget(direct ? layout.ElfPath : layout.IsoPath, medium, memory, emulator, layout) { NumaNodes = numa, CommandLine = commandLine };
    }

    /// <summary>The exit code of a command whose <see cref="ResolveAsync"/> gave no target: 130 after an interrupt, else 2.</summary>
    public static int NoTargetExitCode(CancellationToken cancel) =>
        (int)(cancel.IsCancellationRequested ? RunExitCode.Interrupted : RunExitCode.Broken);

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
