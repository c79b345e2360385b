using System.Text;
using TestRunner.Emulator;

namespace TestRunner.Reports;

/// <summary>
/// Writes a VMware virtual machine (<c>kernel.vmx</c>) beside the ISO so VMware Player or
/// Workstation users can boot the same image: a 64-bit "other" guest with BIOS firmware, the
/// ISO in the IDE CD-ROM drive, COM1 written to a file beside it, and the chosen memory.
/// </summary>
public static class VmxWriter
{
    public const string FileName = "kernel.vmx";
    public const string SerialLogName = "kernel-serial.log";

    /// <summary>The .vmx text for an ISO file name (relative to the .vmx's folder) and a memory size.</summary>
    public static string Content(string isoFileName, MemorySize memory, string displayName = "CosmosKernel")
    {
        // VMware refuses a memsize that is not a multiple of 4 MiB.
        long memsize = (memory.MiB + 3) / 4 * 4;
        var lines = new (string Key, string Value)[]
        {
            (".encoding", "UTF-8"),
            ("config.version", "8"),
            ("virtualHW.version", "14"),
            ("displayName", displayName),
            ("guestOS", "other-64"),
            ("firmware", "bios"),
            ("memsize", memsize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("numvcpus", "1"),
            ("ide1:0.present", "TRUE"),
            ("ide1:0.deviceType", "cdrom-image"),
            ("ide1:0.fileName", isoFileName),
            ("ide1:0.startConnected", "TRUE"),
            ("serial0.present", "TRUE"),
            ("serial0.fileType", "file"),
            ("serial0.fileName", SerialLogName),
            ("serial0.startConnected", "TRUE"),
            ("ethernet0.present", "FALSE"),
            ("sound.present", "FALSE"),
            ("usb.present", "FALSE"),
            ("floppy0.present", "FALSE"),
        };
        var sb = new StringBuilder();
        foreach (var (key, value) in lines)
            sb.Append(key).Append(" = \"").Append(Quote(value)).Append("\"\n");
        return sb.ToString();
    }

    /// <summary>Writes kernel.vmx into the ISO's folder and returns its path.</summary>
    public static string WriteBeside(string isoPath, MemorySize memory)
    {
        var full = Path.GetFullPath(isoPath);
        var dir = Path.GetDirectoryName(full)!;
        var path = Path.Combine(dir, FileName);
        File.WriteAllText(path, Content(Path.GetFileName(full), memory), new UTF8Encoding(false));
        return path;
    }

    // VMware writes '"' inside a value as |22 and '|' as |7C.
    static string Quote(string value) => value.Replace("|", "|7C").Replace("\"", "|22");
}
