using TestRunner.Emulator;

namespace TestRunner.Running;

/// <summary>What to boot and how: the image, the medium, the memory size and the emulator program.</summary>
public sealed record KernelTarget(string Image, BootMedium Medium, MemorySize Memory, string Emulator = QemuCommand.DefaultProgram)
{
    /// <summary>
    /// QEMU gets its isa-debug-exit device (the default). Without it the machine is like VMware
    /// Player or a plain QEMU: <c>halt</c> powers off through ACPI S5 and QEMU exits with status 0
    /// (<c>--no-debug-exit</c>; script and run only, since <c>test</c> reads its verdict from the device).
    /// </summary>
    public bool DebugExitDevice { get; init; } = true;

    /// <summary>Checks that the image and the emulator exist; returns a message for the first that does not, else null.</summary>
    public string? Check(out string emulatorPath)
    {
        emulatorPath = "";
        if (!File.Exists(Image))
            return $"kernel {(Medium == BootMedium.Iso ? "ISO" : "ELF")} not found: build CosmosKernel first " +
                $"(dotnet build CosmosKernel/Kernel/Kernel.csproj -c Release); looked for {Image}";
        var found = QemuCommand.Locate(Emulator, out var error);
        if (found == null) return error;
        emulatorPath = found;
        return null;
    }
}
