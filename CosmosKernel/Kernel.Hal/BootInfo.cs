using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>Memory-map entry types (multiboot / E820).</summary>
    public enum MemoryRegionType : uint
    {
        Usable = 1,
        Reserved = 2,
        AcpiReclaimable = 3,
        AcpiNvs = 4,
        Bad = 5,
    }

    public struct MemoryRegion
    {
        public ulong Base;
        public ulong Length;
        public MemoryRegionType Type;
        public ulong End => Base + Length;
    }

    public enum BootProtocol : byte
    {
        Unknown = 0,
        Multiboot1 = 1,
        Multiboot2 = 2,
    }

    public enum BootInfoResult : byte
    {
        Ok = 0,
        /// <summary>EAX held neither multiboot magic.</summary>
        UnknownLoader,
        /// <summary>The loader gave no memory map.</summary>
        NoMemoryMap,
    }

    /// <summary>
    /// What the boot loader told the kernel: the memory map (multiboot2 tag 6, or multiboot1's
    /// mmap for `qemu -kernel`), the loader's name, its copy of the ACPI RSDP (multiboot2 tags 14
    /// and 15), where its information block lies. Parsed into
    /// static storage before the heap exists.
    /// </summary>
    public static unsafe class BootInfo
    {
        public const uint Multiboot2Magic = 0x36D76289;
        public const uint Multiboot1Magic = 0x2BADB002;
        public const int MaxRegions = 128;

        private struct RegionStore { public fixed ulong Words[MaxRegions * 3]; }
        private static RegionStore s_regions;
        private static int s_count;
        private static byte* s_loaderName;
        private static byte* s_acpiOldRsdp, s_acpiNewRsdp;
        private static uint s_acpiOldRsdpLength, s_acpiNewRsdpLength;

        /// <summary>The most bytes of a boot module the kernel keeps (a script for the shell, docs/test-runner.md).</summary>
        public const int MaxModuleBytes = 4096;
        private struct ModuleStore { public fixed byte Bytes[MaxModuleBytes]; }
        private static ModuleStore s_module;
        private static int s_moduleLength;
        private static bool s_hasModule;

        /// <summary>
        /// True when the loader handed over a boot module (multiboot2 tag 3, or multiboot1's module
        /// list for <c>qemu -kernel ... -initrd</c>): its first <see cref="MaxModuleBytes"/> bytes were
        /// copied into static storage while parsing, before the heap exists, so where the loader put
        /// it does not matter. Only the first module is kept.
        /// </summary>
        public static bool HasModule => s_hasModule;
        /// <summary>The first module's whole length in bytes, which may exceed <see cref="MaxModuleBytes"/> (then only its start was kept).</summary>
        public static int ModuleLength => s_moduleLength;
        /// <summary>Byte <paramref name="index"/> of the kept copy of the first module (0 outside it).</summary>
        public static byte ModuleByte(int index)
        {
            if ((uint)index >= (uint)s_moduleLength || index >= MaxModuleBytes) return 0;
            fixed (byte* b = s_module.Bytes) return b[index];
        }

        private static void KeepModule(ulong start, ulong end)
        {
            if (s_hasModule || end < start) return;
            s_hasModule = true;
            ulong length = end - start;
            s_moduleLength = length > int.MaxValue ? int.MaxValue : (int)length;
            int keep = s_moduleLength < MaxModuleBytes ? s_moduleLength : MaxModuleBytes;
            fixed (byte* b = s_module.Bytes)
                for (int i = 0; i < keep; i++) b[i] = ((byte*)start)[i];
        }

        /// <summary>The most bytes of the kernel command line the kernel keeps (the runner's --cmdline refuses longer ones).</summary>
        public const int MaxCommandLineBytes = 255;
        private struct CommandLineStore { public fixed byte Bytes[MaxCommandLineBytes]; }
        private static CommandLineStore s_cmdline;
        private static int s_cmdlineLength;

        /// <summary>
        /// Bytes of the kernel command line kept (multiboot2 tag 1, or multiboot1's cmdline with QEMU's
        /// image path in front left out): copied into static storage while parsing, before the heap exists.
        /// </summary>
        public static int CommandLineLength => s_cmdlineLength;
        /// <summary>True when the loader's command line was longer than <see cref="MaxCommandLineBytes"/> (only its start was kept).</summary>
        public static bool CommandLineCut { get; private set; }
        /// <summary>Byte <paramref name="index"/> of the kept command line (0 outside it).</summary>
        public static byte CommandLineByte(int index)
        {
            if ((uint)index >= (uint)s_cmdlineLength) return 0;
            fixed (byte* b = s_cmdline.Bytes) return b[index];
        }
        /// <summary>The kept command line as a string (allocates: after the heap only).</summary>
        public static string CommandLine
        {
            get { fixed (byte* b = s_cmdline.Bytes) return string.FromAscii(b, s_cmdlineLength); }
        }

        // Copies the NUL-terminated command line at text, without its first word when skipFirstWord
        // (QEMU's multiboot1 loader puts the image's path before what -append gave).
        private static void KeepCommandLine(byte* text, bool skipFirstWord)
        {
            s_cmdlineLength = 0;
            CommandLineCut = false;
            if (text == null) return;
            int i = 0;
            if (skipFirstWord)
            {
                while (text[i] != 0 && text[i] != (byte)' ') i++;
                while (text[i] == (byte)' ') i++;
            }
            fixed (byte* b = s_cmdline.Bytes)
                for (; text[i] != 0; i++)
                {
                    if (s_cmdlineLength == MaxCommandLineBytes) { CommandLineCut = true; break; }
                    b[s_cmdlineLength++] = text[i];
                }
        }

        public static BootProtocol Protocol { get; private set; }
        /// <summary>The boot information block [InfoStart, InfoEnd): the heap must stay above it.</summary>
        public static ulong InfoStart { get; private set; }
        public static ulong InfoEnd { get; private set; }
        public static ulong KernelStart { get; private set; }
        public static ulong KernelEnd { get; private set; }
        public static int RegionCount => s_count;

        public static MemoryRegion Region(int index)
        {
            MemoryRegion r = default;
            if ((uint)index >= (uint)s_count) return r;
            fixed (ulong* w = s_regions.Words)
            {
                r.Base = w[3 * index];
                r.Length = w[3 * index + 1];
                r.Type = (MemoryRegionType)w[3 * index + 2];
            }
            return r;
        }

        /// <summary>The boot loader's name ("GRUB 2.06"), or "" if it gave none.</summary>
        public static string LoaderName
        {
            get
            {
                if (s_loaderName == null) return "";
                int n = 0;
                while (s_loaderName[n] != 0 && n < 80) n++;
                return string.FromAscii(s_loaderName, n);
            }
        }

        /// <summary>
        /// The loader's copy of the ACPI RSDP: multiboot2 tag 15 (ACPI 2.0+ RSDP) when
        /// <paramref name="extended"/>, else tag 14 (the ACPI 1.0 RSDP). False when the loader gave
        /// no such tag (multiboot1 never does). The copy lies inside the boot information block.
        /// </summary>
        public static bool AcpiRsdpTag(bool extended, out byte* rsdp, out uint length)
        {
            rsdp = extended ? s_acpiNewRsdp : s_acpiOldRsdp;
            length = extended ? s_acpiNewRsdpLength : s_acpiOldRsdpLength;
            return rsdp != null;
        }

        /// <summary>Parses the information block at <paramref name="info"/> handed over with <paramref name="magic"/>.</summary>
        public static BootInfoResult Parse(uint magic, byte* info, ulong kernelStart, ulong kernelEnd)
        {
            KernelStart = kernelStart;
            KernelEnd = kernelEnd;
            s_count = 0;
            s_hasModule = false;
            s_moduleLength = 0;
            s_cmdlineLength = 0;
            BootInfoResult r;
            if (magic == Multiboot2Magic) r = ParseMultiboot2(info);
            else if (magic == Multiboot1Magic) r = ParseMultiboot1(info);
            else return BootInfoResult.UnknownLoader;
            if (r != BootInfoResult.Ok) return r;
            SortRegions();
            return s_count == 0 ? BootInfoResult.NoMemoryMap : BootInfoResult.Ok;
        }

        private static BootInfoResult ParseMultiboot2(byte* info)
        {
            Protocol = BootProtocol.Multiboot2;
            uint totalSize = *(uint*)info;
            InfoStart = (ulong)info;
            InfoEnd = (ulong)info + totalSize;
            for (byte* tag = info + 8; tag < info + totalSize;)
            {
                uint type = *(uint*)tag, size = *(uint*)(tag + 4);
                if (type == 0 || size < 8) break;
                if (type == 2) s_loaderName = tag + 8;
                else if (type == 1) KeepCommandLine(tag + 8, false);
                else if (type == 14) { s_acpiOldRsdp = tag + 8; s_acpiOldRsdpLength = size - 8; }
                else if (type == 15) { s_acpiNewRsdp = tag + 8; s_acpiNewRsdpLength = size - 8; }
                else if (type == 3 && size >= 16) KeepModule(*(uint*)(tag + 8), *(uint*)(tag + 12));
                else if (type == 6)
                {
                    uint entrySize = *(uint*)(tag + 8);
                    if (entrySize < 24) return BootInfoResult.NoMemoryMap;
                    for (byte* e = tag + 16; e + entrySize <= tag + size; e += entrySize)
                        AddRegion(*(ulong*)e, *(ulong*)(e + 8), *(uint*)(e + 16));
                }
                tag += (size + 7) & ~7u;
            }
            return BootInfoResult.Ok;
        }

        // Multiboot1 (QEMU -kernel): mmap entries are {u32 size; u64 base; u64 length; u32 type}, size excluding itself.
        private static BootInfoResult ParseMultiboot1(byte* info)
        {
            Protocol = BootProtocol.Multiboot1;
            uint flags = *(uint*)info;
            InfoStart = (ulong)info;
            InfoEnd = (ulong)info + 120;
            if ((flags & (1 << 9)) != 0) s_loaderName = (byte*)(ulong)*(uint*)(info + 64);
            // QEMU's -kernel loader (boot loader name "qemu") passes "<image path> <-append text>".
            if ((flags & (1 << 2)) != 0) KeepCommandLine((byte*)(ulong)*(uint*)(info + 16), IsQemuLoader());
            if ((flags & (1 << 3)) != 0 && *(uint*)(info + 20) > 0)
            {
                byte* mod = (byte*)(ulong)*(uint*)(info + 24); // {u32 start, u32 end, u32 cmdline, u32 reserved}
                KeepModule(*(uint*)mod, *(uint*)(mod + 4));
            }
            if ((flags & (1 << 6)) == 0) return BootInfoResult.NoMemoryMap;
            uint length = *(uint*)(info + 44);
            byte* map = (byte*)(ulong)*(uint*)(info + 48);
            if ((ulong)map + length > InfoEnd && (ulong)map >= InfoStart) InfoEnd = (ulong)map + length;
            for (byte* e = map; e < map + length; e += *(uint*)e + 4)
                AddRegion(*(ulong*)(e + 4), *(ulong*)(e + 12), *(uint*)(e + 20));
            return BootInfoResult.Ok;
        }

        private static bool IsQemuLoader()
        {
            if (s_loaderName == null) return false;
            return s_loaderName[0] == (byte)'q' && s_loaderName[1] == (byte)'e' && s_loaderName[2] == (byte)'m' && s_loaderName[3] == (byte)'u' && s_loaderName[4] == 0;
        }

        private static void AddRegion(ulong baseAddress, ulong length, uint type)
        {
            if (length == 0 || s_count == MaxRegions) return;
            fixed (ulong* w = s_regions.Words)
            {
                w[3 * s_count] = baseAddress;
                w[3 * s_count + 1] = length;
                w[3 * s_count + 2] = type;
            }
            s_count++;
        }

        private static void SortRegions()
        {
            fixed (ulong* w = s_regions.Words)
            {
                for (int i = 1; i < s_count; i++)
                {
                    ulong b = w[3 * i], l = w[3 * i + 1], t = w[3 * i + 2];
                    int j = i - 1;
                    while (j >= 0 && w[3 * j] > b)
                    {
                        w[3 * (j + 1)] = w[3 * j]; w[3 * (j + 1) + 1] = w[3 * j + 1]; w[3 * (j + 1) + 2] = w[3 * j + 2];
                        j--;
                    }
                    w[3 * (j + 1)] = b; w[3 * (j + 1) + 1] = l; w[3 * (j + 1) + 2] = t;
                }
            }
        }

        /// <summary>The end of the highest region holding RAM (usable or ACPI).</summary>
        public static ulong HighestRamAddress
        {
            get
            {
                ulong top = 0;
                for (int i = 0; i < s_count; i++)
                {
                    MemoryRegion r = Region(i);
                    if (r.Type == MemoryRegionType.Usable || r.Type == MemoryRegionType.AcpiReclaimable || r.Type == MemoryRegionType.AcpiNvs)
                        if (r.End > top) top = r.End;
                }
                return top;
            }
        }

        /// <summary>Sum of the usable regions' lengths.</summary>
        public static ulong UsableBytes
        {
            get
            {
                ulong total = 0;
                for (int i = 0; i < s_count; i++) if (Region(i).Type == MemoryRegionType.Usable) total += Region(i).Length;
                return total;
            }
        }

        /// <summary>
        /// The machine's RAM in whole MiB as the loader reports it: the usable regions summed and
        /// rounded up to a MiB. What firmware keeps for itself (QEMU: the 385 KiB below 1 MiB and
        /// 132 KiB of ACPI tables under the top of low RAM) is less than a MiB, so this is the size
        /// the machine was given (QEMU's -m), the figure the kernel's and the suites' minimums use.
        /// </summary>
        public static ulong RamMiB => (UsableBytes + (1UL << 20) - 1) >> 20;

        /// <summary>
        /// The heap region as Cosmos chooses it: the largest usable region, clipped to start above
        /// the kernel image and the boot information block. False if nothing usable is left.
        /// </summary>
        public static bool FindHeapRegion(out ulong start, out ulong end)
        {
            start = end = 0;
            ulong floor = KernelEnd > InfoEnd ? KernelEnd : InfoEnd;
            for (int i = 0; i < s_count; i++)
            {
                MemoryRegion r = Region(i);
                if (r.Type != MemoryRegionType.Usable) continue;
                ulong s = r.Base, e = r.End;
                if (s < floor && e > KernelStart) s = floor; // the region holds the kernel or the info block: start above both
                if (s < 0x100000) continue;                   // low memory stays with the firmware
                if (e > s && e - s > end - start) { start = s; end = e; }
            }
            return end > start;
        }

        public static string TypeName(MemoryRegionType type) => type switch
        {
            MemoryRegionType.Usable => "usable",
            MemoryRegionType.Reserved => "reserved",
            MemoryRegionType.AcpiReclaimable => "ACPI reclaimable",
            MemoryRegionType.AcpiNvs => "ACPI NVS",
            MemoryRegionType.Bad => "bad",
            _ => "unknown",
        };

        /// <summary>Prints the memory map on the console.</summary>
        public static void PrintMemoryMap()
        {
            Console.Write("memory map (");
            Console.Write(Protocol == BootProtocol.Multiboot2 ? "multiboot2" : "multiboot1");
            Console.Write(", "); Console.WriteDecimal((ulong)s_count); Console.WriteLine(" regions):");
            for (int i = 0; i < s_count; i++)
            {
                MemoryRegion r = Region(i);
                Console.Write("  "); Console.WriteHex(r.Base, 10); Console.Write(" - "); Console.WriteHex(r.End - 1, 10);
                Console.Write("  "); Console.Write(TypeName(r.Type));
                Console.Write(" ("); Console.WriteSize(r.Length); Console.WriteLine(")");
            }
            Console.Write("usable RAM: "); Console.WriteDecimal(UsableBytes >> 10); Console.Write(" KiB, ");
            Console.WriteDecimal(RamMiB); Console.WriteLine(" MiB rounded up (the machine's RAM)");
        }
    }
}
