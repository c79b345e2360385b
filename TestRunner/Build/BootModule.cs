using System.Diagnostics;
using System.Text;
using TestRunner.Emulator;
using TestRunner.Running;

namespace TestRunner.Build;

/// <summary>
/// The files of one run that boots something other than the build's own image: for a deterministic
/// run (docs/test-runner.md, "Deterministic runs") the script the kernel's shell runs as a boot
/// module, and for an ISO boot a per-run ISO whose GRUB hands that module over (<c>module2</c>)
/// and/or the kernel command line of <c>--cmdline</c> (on the <c>multiboot2</c> line) beside the same
/// kernel.elf. They live in a temporary folder that <see cref="Dispose"/> deletes.
/// </summary>
public sealed class BootModule : IDisposable
{
    /// <summary>The most bytes of a module the kernel keeps (BootInfo.MaxModuleBytes in CosmosKernel/Kernel.Hal/BootInfo.cs).</summary>
    public const int MaxBytes = 4096;

    /// <summary>The module's name inside the per-run ISO, and its GRUB command line.</summary>
    public const string IsoPath = "/boot/script";

    /// <summary>
    /// The kernel's grub.cfg (CosmosKernel/Kernel/grub/grub.cfg) with the line that loads the script
    /// as a multiboot2 module after the kernel.
    /// </summary>
    public static readonly string GrubConfig = GrubConfigFor(null, module: true);

    /// <summary>
    /// The kernel's grub.cfg with <paramref name="commandLine"/> after the kernel's path on the
    /// <c>multiboot2</c> line (GRUB passes it as multiboot2 tag 1) and, with <paramref name="module"/>,
    /// the line that loads the script as a module.
    /// </summary>
    public static string GrubConfigFor(string? commandLine, bool module) =>
        "set timeout=0\n" +
        "set timeout_style=hidden\n" +
        "set default=0\n" +
        "menuentry \"CosmosKernel\" {\n" +
        "    set gfxpayload=text\n" +
        $"    multiboot2 /boot/kernel.elf{(string.IsNullOrEmpty(commandLine) ? "" : " " + commandLine)}\n" +
        (module ? $"    module2 {IsoPath} script\n" : "") +
        "    boot\n" +
        "}\n";

    /// <summary>
    /// Does a boot of <paramref name="target"/> need this per-run folder: a deterministic run (the
    /// script module), or an ISO boot with a kernel command line (GRUB's config carries it; a direct
    /// boot gives it to QEMU's -append instead).
    /// </summary>
    public static bool IsNeeded(KernelTarget target, bool deterministic) =>
        deterministic || (target.CommandLine != null && target.Medium == BootMedium.Iso);

    /// <summary>The arguments of grub-mkrescue, as the kernel build gives them (CosmosKernel/Kernel/Kernel.csproj).</summary>
    public static IReadOnlyList<string> MkrescueArguments(string iso, string staging) =>
        ["--install-modules=multiboot2 normal iso9660 biosdisk part_msdos", "--locales=", "--fonts=", "--themes=", "-o", iso, staging];

    /// <summary>
    /// The module's text: <paramref name="lines"/> one per line, each ended by LF. The shell runs them in
    /// order and then <c>halt</c>. Null with <paramref name="error"/> when they do not fit in <see cref="MaxBytes"/>.
    /// </summary>
    public static string? Text(IEnumerable<string> lines, out string? error)
    {
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line).Append('\n');
        int bytes = Encoding.ASCII.GetByteCount(text.ToString());
        error = bytes > MaxBytes
            ? $"--deterministic hands the script to the kernel as a boot module of at most {MaxBytes} bytes; this one is {bytes} bytes (one command per line): split it"
            : null;
        return error == null ? text.ToString() : null;
    }

    readonly string folder;

    BootModule(string folder, Determinism? determinism, string image)
    {
        this.folder = folder;
        Determinism = determinism;
        Image = image;
    }

    /// <summary>What QEMU gets: the clock and the module file (null when there is no script: a command line only).</summary>
    public Determinism? Determinism { get; }
    /// <summary>The image to boot: the per-run ISO for an ISO boot, the target's kernel.elf for --direct.</summary>
    public string Image { get; }

    /// <summary>
    /// Writes <paramref name="text"/> as the module (none when null: a run with a command line only)
    /// and, for an ISO target, builds the per-run ISO from the kernel.elf beside the target's ISO, with
    /// the target's command line in its grub.cfg. Returns null and why not when it cannot.
    /// </summary>
    public static async Task<(BootModule? Module, string? Error)> PrepareAsync(KernelTarget target, string? text, CancellationToken cancel = default)
    {
        string why = text != null ? "--deterministic" : "--cmdline";
        string folder = Path.Combine(Path.GetTempPath(), $"kt-det-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(folder);
        var done = false;
        try
        {
            string module = Path.Combine(folder, "script");
            if (text != null) await File.WriteAllTextAsync(module, text, Encoding.ASCII, cancel).ConfigureAwait(false);
            var determinism = text != null ? new Determinism(module) : null;
            if (target.Medium == BootMedium.Direct)
            {
                done = true;
                return (new BootModule(folder, determinism, target.Image), null);
            }
            string elf = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target.Image))!, "kernel.elf");
            if (!File.Exists(elf))
                return (null, $"{why} builds a per-run ISO {(text != null ? "with the script as a GRUB module" : "with the kernel command line in its grub.cfg")} from the kernel.elf beside the ISO, and there is none: looked for {elf}");
            string staging = Path.Combine(folder, "iso");
            Directory.CreateDirectory(Path.Combine(staging, "boot", "grub"));
            File.Copy(elf, Path.Combine(staging, "boot", "kernel.elf"));
            if (text != null) File.Copy(module, Path.Combine(staging, "boot", "script"));
            await File.WriteAllTextAsync(Path.Combine(staging, "boot", "grub", "grub.cfg"), GrubConfigFor(target.CommandLine, text != null), cancel).ConfigureAwait(false);
            string iso = Path.Combine(folder, "kernel.iso");
            string? failure = await MkrescueAsync(iso, staging, why, cancel).ConfigureAwait(false);
            if (failure != null) return (null, failure);
            done = true;
            return (new BootModule(folder, determinism, iso), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"{why}: cannot prepare the per-run files in {folder}: {e.Message}");
        }
        finally
        {
            if (!done) TryDelete(folder);
        }
    }

    static async Task<string?> MkrescueAsync(string iso, string staging, string why, CancellationToken cancel)
    {
        var info = new ProcessStartInfo("grub-mkrescue") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in MkrescueArguments(iso, staging)) info.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(info)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{why} builds a per-run ISO and cannot run grub-mkrescue ({e.Message}): install grub-common, grub-pc-bin, xorriso and mtools (tools/ensure-deps.sh), or boot with --direct";
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancel);
            var errors = process.StandardError.ReadToEndAsync(cancel);
            try { await process.WaitForExitAsync(cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
            if (process.ExitCode != 0 || !File.Exists(iso))
                return $"{why}: grub-mkrescue failed (exit {process.ExitCode}) building the per-run ISO:{Environment.NewLine}{await output}{await errors}";
        }
        return null;
    }

    static void TryDelete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    public void Dispose() => TryDelete(folder);
}
