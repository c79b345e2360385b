using TestRunner.Build;
using TestRunner.Emulator;

namespace TestRunner.Running;

/// <summary>What to boot and how: the image, the medium, the memory size and the emulator program.</summary>
/// <param name="Layout">The repository build the image comes from, when it does: a missing image's message then names
/// the configuration and heap that were asked for and the command that builds them.</param>
public sealed record KernelTarget(string Image, BootMedium Medium, MemorySize Memory, string Emulator = QemuCommand.DefaultProgram,
    KernelLayout? Layout = null)
{
    /// <summary>
    /// QEMU gets its isa-debug-exit device (the default). Without it the machine is like VMware
    /// Player or a plain QEMU: <c>halt</c> powers off through ACPI S5 and QEMU exits with status 0
    /// (<c>--no-debug-exit</c>; script and run only, since <c>test</c> reads its verdict from the device).
    /// </summary>
    public bool DebugExitDevice { get; init; } = true;

    /// <summary>NUMA nodes QEMU gives the machine (<c>--numa N</c>, memory split evenly, QemuCommand.NumaArguments); 0 = none (one node, no SRAT).</summary>
    public int NumaNodes { get; init; }

    /// <summary>
    /// The kernel command line (<c>--cmdline</c>, e.g. <c>numa_zonelist_order=zone</c>), or null for none: an
    /// ISO boot gets a per-run ISO whose grub.cfg carries it (BootModule), a direct boot QEMU's <c>-append</c>.
    /// </summary>
    public string? CommandLine { get; init; }

    /// <summary>Checks that the image and the emulator exist; returns a message for the first that does not, else null.</summary>
    public string? Check(out string emulatorPath)
    {
        emulatorPath = "";
        if (CheckImage() is string missing) return missing;
        var found = QemuCommand.Locate(Emulator, out var error);
        if (found == null) return error;
        emulatorPath = found;
        return null;
    }

    /// <summary>Null when the image exists, else a message naming it (and, for a repository build, the configuration and heap asked for and how to build them).</summary>
    public string? CheckImage() =>
        File.Exists(Image) ? null
        : Layout == null
            ? $"kernel {MediumWord} not found: looked for {Image}"
            : $"kernel {MediumWord} not found for {Layout.Describe()}: looked for {Image}; build it with '{Layout.BuildCommand}'";

    string MediumWord => Medium == BootMedium.Iso ? "ISO" : "ELF";
}
