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
    public static QemuCommand Headless(string program, string image, BootMedium medium, MemorySize memory, string? qmpSocket = null, bool debugExit = true,
        Determinism? determinism = null, int numaNodes = 0, string? commandLine = null) =>
        new(program, Common(image, medium, memory, debugExit, determinism, numaNodes, commandLine, new[]
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
    public static QemuCommand Interactive(string program, string image, BootMedium medium, MemorySize memory, bool window, bool debugExit = true, int numaNodes = 0,
        string? commandLine = null) =>
        new(program, Common(image, medium, memory, debugExit, null, numaNodes, commandLine, (window ? Array.Empty<string>() : new[] { "-display", "none" })
            .Concat(new[]
            {
                "-no-reboot", "-monitor", "none",
                "-chardev", "stdio,id=com1,signal=on", "-serial", "chardev:com1",
            }).ToArray()));

    /// <summary>
    /// The instruction-counted clock of a deterministic run: QEMU advances the guest's clocks (TSC, PIT,
    /// HPET, RTC) by 2^shift ns per instruction and, with sleep=off, skips the guest's idle time instead
    /// of waiting for the host; the RTC starts at a fixed date and follows that clock.
    /// </summary>
    public static readonly IReadOnlyList<string> DeterministicArguments =
        ["-icount", $"shift={Determinism.Shift},sleep=off", "-rtc", "base=2000-01-01T00:00:00,clock=vm"];

    /// <summary>The fewest and most nodes <c>--numa</c> takes, and the least memory each node gets.</summary>
    public const int MinNumaNodes = 2, MaxNumaNodes = 8, MinNodeMiB = 16;

    /// <summary>
    /// The NUMA machine of <c>--numa N</c>: N RAM backends of memory/N MiB each (the last one takes
    /// the remainder), one <c>-numa node</c> per backend, and a SLIT of 10 + 10 x |i - j| between
    /// nodes i and j (a chain: each node's nearest neighbours are the next ones), from which QEMU
    /// builds the ACPI SRAT and SLIT the kernel reads. Empty for 0 nodes.
    /// </summary>
    public static IReadOnlyList<string> NumaArguments(MemorySize memory, int nodes)
    {
        var args = new List<string>();
        if (nodes == 0) return args;
        long each = memory.MiB / nodes;
        for (int i = 0; i < nodes; i++)
        {
            long size = i == nodes - 1 ? memory.MiB - each * (nodes - 1) : each;
            args.AddRange(new[] { "-object", $"memory-backend-ram,id=ram{i},size={size}M", "-numa", $"node,nodeid={i},memdev=ram{i}" });
        }
        for (int i = 0; i < nodes; i++)
            for (int j = 0; j < nodes; j++)
                if (i != j) args.AddRange(new[] { "-numa", $"dist,src={i},dst={j},val={NumaDistance(i, j)}" });
        return args;
    }

    /// <summary>The SLIT distance <c>--numa</c> gives nodes i and j: 10 to itself, 10 more per step along the chain.</summary>
    public static int NumaDistance(int i, int j) => 10 + 10 * Math.Abs(i - j);

    /// <summary>Null when <paramref name="memory"/> splits into <paramref name="nodes"/> nodes of at least <see cref="MinNodeMiB"/> MiB, else why not.</summary>
    public static string? CheckNuma(MemorySize memory, int nodes) =>
        nodes != 0 && memory.MiB / nodes < MinNodeMiB
            ? $"--numa {nodes} with --memory {memory} gives each node {memory.MiB / nodes} MiB: each node needs at least {MinNodeMiB} MiB (use --memory {nodes * MinNodeMiB}M or more)"
            : null;

    /// <summary>The most bytes of a kernel command line (BootInfo.MaxCommandLineBytes in CosmosKernel/Kernel.Hal/BootInfo.cs).</summary>
    public const int MaxCommandLineBytes = 255;

    /// <summary>Characters GRUB's config language gives a meaning (quotes, escapes, variables, separators, comments, blocks).</summary>
    public const string CommandLineRefusedCharacters = "\"'\\$;#{}|&<>`";

    /// <summary>
    /// Null when <paramref name="commandLine"/> can be the kernel's command line (<c>--cmdline</c>): words of
    /// printable ASCII, none of <see cref="CommandLineRefusedCharacters"/> (the per-run grub.cfg puts it on the
    /// multiboot2 line as it is), at most <see cref="MaxCommandLineBytes"/> bytes; else why not.
    /// </summary>
    public static string? CheckCommandLine(string commandLine)
    {
        if (commandLine.Trim().Length == 0) return "--cmdline: the kernel command line is empty (leave the option out for none)";
        if (commandLine.Length > MaxCommandLineBytes)
            return $"--cmdline: the kernel command line is {commandLine.Length} characters; the kernel keeps at most {MaxCommandLineBytes}";
        foreach (char c in commandLine)
            if (c < ' ' || c > '~' || CommandLineRefusedCharacters.Contains(c))
                return $"--cmdline: '{commandLine}' contains {(c < ' ' || c > '~' ? $"the character U+{(int)c:X4}" : $"'{c}'")}: the kernel command line is words of printable ASCII without any of {CommandLineRefusedCharacters} (GRUB's config would read them)";
        return null;
    }

    static List<string> Common(string image, BootMedium medium, MemorySize memory, bool debugExit, Determinism? determinism, int numaNodes, string? commandLine, string[] middle)
    {
        var args = new List<string> { "-machine", "q35,accel=tcg", "-cpu", "max", "-m", memory.ToString() };
        args.AddRange(NumaArguments(memory, numaNodes));
        if (medium == BootMedium.Iso) args.AddRange(new[] { "-cdrom", image, "-boot", "d" });
        else args.AddRange(new[] { "-kernel", image });
        // The kernel command line: QEMU's multiboot1 loader takes it from -append; an ISO's grub.cfg carries it itself (BootModule).
        if (medium == BootMedium.Direct && !string.IsNullOrEmpty(commandLine)) args.AddRange(new[] { "-append", commandLine });
        if (determinism != null)
        {
            // With -kernel the module rides on QEMU's multiboot1 loader; an ISO carries it itself (BootModule).
            if (medium == BootMedium.Direct) args.AddRange(new[] { "-initrd", determinism.Module.Replace(",", ",,") });
            args.AddRange(DeterministicArguments);
        }
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

/// <summary>
/// A deterministic boot: the instruction-counted clock, and the file the kernel's shell runs as its
/// script (a boot module), so that nothing the guest does depends on when the host acts.
/// </summary>
/// <param name="Module">The script as the kernel reads it (one command per line).</param>
public sealed record Determinism(string Module)
{
    /// <summary>
    /// QEMU's -icount shift: 2^0 = 1 ns of guest time per instruction (a 1 GHz guest). Lab 1's memhogs
    /// need this speed to outrun kswapd as they do on a plain TCG run; at shift=4 (62.5 M instructions
    /// per guest second) they fill memory so slowly that nothing is ever reclaimed in the lab's sleeps.
    /// </summary>
    public const int Shift = 0;
}
