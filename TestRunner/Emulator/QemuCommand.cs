namespace TestRunner.Emulator;

/// <summary>How the kernel is handed to QEMU.</summary>
public enum BootMedium
{
    /// <summary><c>-cdrom kernel.iso -boot d</c>: through GRUB, as a VM user boots it.</summary>
    Iso,
    /// <summary><c>-kernel kernel.elf</c>: QEMU's multiboot1 loader, skipping GRUB.</summary>
    Direct,
}

/// <summary>A QEMU command line: the program and its arguments, one per entry (no shell quoting).</summary>
public sealed record QemuCommand(string Program, IReadOnlyList<string> Arguments)
{
    /// <summary>The emulator the contract names, found on PATH.</summary>
    public const string DefaultProgram = "qemu-system-x86_64";

    /// <summary>
    /// The headless command of docs/testing.md ("The protocol"): TCG, no display, no monitor, COM1 on
    /// QEMU's stdio without signal handling, isa-debug-exit at port 0xf4. With
    /// <paramref name="qmpSocket"/>, QEMU also listens for QMP on that Unix socket
    /// (<c>-qmp unix:PATH,server=on,wait=off</c>), which a screendump goes through. Without
    /// <paramref name="debugExit"/> the isa-debug-exit device is left out, as on a machine that
    /// is not QEMU: the kernel's <c>halt</c> then powers off through ACPI and QEMU exits with 0.
    /// </summary>
    public static QemuCommand Headless(string program, string image, BootMedium medium, MemorySize memory, string? qmpSocket = null, bool debugExit = true) =>
        new(program, Common(image, medium, memory, debugExit, new[]
        {
            "-display", "none", "-no-reboot", "-monitor", "none",
        }.Concat(qmpSocket == null ? [] : new[] { "-qmp", $"unix:{qmpSocket.Replace(",", ",,")},server=on,wait=off" })
        .Concat(new[]
        {
            "-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1",
        }).ToArray()));

    /// <summary>
    /// The interactive command of <c>run</c>: COM1 on the terminal both ways; Ctrl-C stops QEMU
    /// (signal=on); with <paramref name="window"/> QEMU also opens its VGA window.
    /// </summary>
    public static QemuCommand Interactive(string program, string image, BootMedium medium, MemorySize memory, bool window, bool debugExit = true) =>
        new(program, Common(image, medium, memory, debugExit, (window ? Array.Empty<string>() : new[] { "-display", "none" })
            .Concat(new[]
            {
                "-no-reboot", "-monitor", "none",
                "-chardev", "stdio,id=com1,signal=on", "-serial", "chardev:com1",
            }).ToArray()));

    static List<string> Common(string image, BootMedium medium, MemorySize memory, bool debugExit, string[] middle)
    {
        var args = new List<string> { "-machine", "q35,accel=tcg", "-cpu", "max", "-m", memory.ToString() };
        if (medium == BootMedium.Iso) args.AddRange(new[] { "-cdrom", image, "-boot", "d" });
        else args.AddRange(new[] { "-kernel", image });
        args.AddRange(middle);
        if (debugExit) args.AddRange(new[] { "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04" });
        return args;
    }

    /// <summary>The command as one line a person can paste into a shell.</summary>
    public override string ToString() =>
        string.Join(' ', new[] { Program }.Concat(Arguments).Select(Quote));

    static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=,:+@".Contains(c)) ? a : $"'{a.Replace("'", "'\\''")}'";

    /// <summary>
    /// Finds the program: a path is used as given, a bare name is looked up on PATH. Returns null
    /// with a message naming the Debian package when it cannot be found.
    /// </summary>
    public static string? Locate(string program, out string error)
    {
        error = "";
        if (program.Contains(Path.DirectorySeparatorChar) || program.Contains('/'))
        {
            if (File.Exists(program)) return Path.GetFullPath(program);
            error = $"emulator '{program}' does not exist";
            return null;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        error = $"'{program}' is not on PATH: install the Debian package qemu-system-x86 (tools/ensure-deps.sh does it)";
        return null;
    }
}
