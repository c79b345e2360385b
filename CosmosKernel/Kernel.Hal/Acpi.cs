using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>Where the RSDP (Root System Description Pointer) was found.</summary>
    public enum AcpiRsdpSource : byte
    {
        None = 0,
        /// <summary>The loader's copy in multiboot2 tag 15 (ACPI 2.0+ RSDP).</summary>
        LoaderTagNew,
        /// <summary>The loader's copy in multiboot2 tag 14 (ACPI 1.0 RSDP).</summary>
        LoaderTagOld,
        /// <summary>The first KiB of the Extended BIOS Data Area (segment at 0x40E).</summary>
        Ebda,
        /// <summary>The BIOS read-only area 0xE0000-0xFFFFF.</summary>
        BiosArea,
        /// <summary>Handed to <see cref="Acpi.Parse"/> directly (the in-kernel tests' own tables).</summary>
        Given,
    }

    /// <summary>What stopped the ACPI reader; <see cref="Acpi.Describe"/> says it in a sentence.</summary>
    public enum AcpiError : byte
    {
        None = 0,
        NotRead,
        NoRsdp,
        RsdpTooShort,
        RsdpChecksum,
        RsdpExtendedChecksum,
        RootTableUnreadable,
        RootTableSignature,
        RootTableLength,
        RootTableChecksum,
        NoFadt,
        FadtBroken,
        FadtTooShort,
        HardwareReduced,
        NoPm1aControl,
        UnsupportedRegister,
        NoDsdt,
        DsdtBroken,
        NoS5,
        S5NotNamePackage,
        S5Truncated,
        S5TooFewElements,
        S5NotInteger,
        S5OutOfRange,
    }

    /// <summary>What <see cref="Acpi.EnableAcpiMode"/> did.</summary>
    public enum AcpiModeSwitch : byte
    {
        /// <summary>SCI_EN was already set.</summary>
        AlreadyOn,
        /// <summary>ACPI_ENABLE went to SMI_CMD and SCI_EN rose.</summary>
        SwitchedOn,
        /// <summary>SCI_EN is clear and the FADT gives no SMI_CMD/ACPI_ENABLE to change that.</summary>
        NoSmiCommand,
        /// <summary>ACPI_ENABLE went to SMI_CMD but SCI_EN stayed clear.</summary>
        DidNotSwitch,
    }

    /// <summary>How a table the root table lists looked when it was read.</summary>
    public enum AcpiTableState : byte
    {
        Ok = 0,
        /// <summary>Its bytes do not sum to zero: it is listed, never used.</summary>
        BadChecksum,
        /// <summary>It lies (partly) outside the page tables: not read.</summary>
        Unreadable,
        /// <summary>Its header's length is shorter than a header or absurdly long.</summary>
        BadLength,
    }

    /// <summary>An ACPI Generic Address (a register in I/O or memory space), as the FADT gives it.</summary>
    public struct AcpiRegister
    {
        public const byte SystemMemory = 0, SystemIo = 1;
        public bool Present;
        /// <summary>Address space id: 0 memory, 1 I/O port, others (PCI config, ...) unsupported here.</summary>
        public byte Space;
        public byte BitWidth;
        public ulong Address;
    }

    /// <summary>One table the root table (RSDT/XSDT) lists, or the DSDT the FADT points at.</summary>
    public struct AcpiTable
    {
        public uint Signature;
        public ulong Address;
        public uint Length;
        public byte Revision;
        public AcpiTableState State;
        /// <summary>Reached through the FADT (the DSDT), not listed by the root table.</summary>
        public bool FromFadt;
    }

    /// <summary>
    /// Everything the ACPI reader found: the RSDP, the table directory, the FADT's power-management
    /// registers and the \_S5 sleep type. Plain data, no references, so it can be filled before the
    /// heap exists (the live copy is <see cref="Acpi.Info"/>; the tests fill their own).
    /// </summary>
    public unsafe struct AcpiInfo
    {
        public const int MaxTables = 48;

        public AcpiRsdpSource RsdpSource;
        /// <summary>Where the RSDP that was used lies (for a loader tag: its copy in the boot information).</summary>
        public ulong RsdpAddress;
        public byte RsdpRevision;
        public fixed byte OemId[6];
        /// <summary>The XSDT (RSDP revision 2+ with an XSDT address) or else the RSDT.</summary>
        public ulong RootAddress;
        public bool RootIsXsdt;
        /// <summary>Entries the root table lists; more than <see cref="MaxTables"/> are counted, not kept.</summary>
        public uint RootEntries;
        /// <summary>None once the RSDP and the root table were read and checked.</summary>
        public AcpiError TablesError;

        public int TableCount;
        private fixed uint m_signature[MaxTables];
        private fixed ulong m_address[MaxTables];
        private fixed uint m_length[MaxTables];
        private fixed byte m_revision[MaxTables];
        private fixed byte m_state[MaxTables];
        private fixed byte m_fromFadt[MaxTables];

        public ulong FadtAddress;
        public uint FadtFlags;
        /// <summary>The port that switches the chipset into ACPI mode (0: always in ACPI mode), and the value to write.</summary>
        public uint SmiCommand;
        public byte AcpiEnable;
        public AcpiRegister Pm1aControl, Pm1bControl, ResetRegister;
        public byte ResetValue;
        public ulong DsdtAddress;

        /// <summary>None once \_S5 was found and the PM1 control registers can be written.</summary>
        public AcpiError SleepError;
        public byte SlpTypA, SlpTypB;
        /// <summary>The table holding Name(_S5, Package(...)), and the offset of its NameOp in it.</summary>
        public uint S5Table;
        public uint S5Offset;

        public AcpiTable Table(int index)
        {
            AcpiTable t = default;
            if ((uint)index >= (uint)TableCount) return t;
            t.Signature = m_signature[index];
            t.Address = m_address[index];
            t.Length = m_length[index];
            t.Revision = m_revision[index];
            t.State = (AcpiTableState)m_state[index];
            t.FromFadt = m_fromFadt[index] != 0;
            return t;
        }

        /// <summary>Appends a table; false when the directory is full.</summary>
        public bool AddTable(AcpiTable t)
        {
            if (TableCount == MaxTables) return false;
            m_signature[TableCount] = t.Signature;
            m_address[TableCount] = t.Address;
            m_length[TableCount] = t.Length;
            m_revision[TableCount] = t.Revision;
            m_state[TableCount] = (byte)t.State;
            m_fromFadt[TableCount] = t.FromFadt ? (byte)1 : (byte)0;
            TableCount++;
            return true;
        }

        /// <summary>
        /// The <paramref name="occurrence"/>-th table (0 = first) with this signature whose checksum
        /// held, or -1. Several SSDTs are common; most other signatures appear once.
        /// </summary>
        public int Find(uint signature, int occurrence)
        {
            for (int i = 0; i < TableCount; i++)
            {
                if (m_signature[i] != signature || m_state[i] != (byte)AcpiTableState.Ok) continue;
                if (occurrence-- == 0) return i;
            }
            return -1;
        }
    }

    /// <summary>
    /// An ACPI table reader, enough to power the machine off (ACPI S5) and for other code to find
    /// tables by signature (SRAT, SLIT, ...). It reads, never interprets AML: \_S5's sleep types
    /// come from a careful byte scan for Name(_S5_, Package(...)). <see cref="Init"/> runs at boot
    /// before any heap owns RAM, keeps its findings in static storage and allocates nothing; the
    /// tables themselves lie in memory the heap never takes (reserved or ACPI, see docs).
    /// </summary>
    public static unsafe class Acpi
    {
        public const uint HeaderLength = 36;
        /// <summary>A table claiming more than this is treated as corrupt (real DSDTs are well under 1 MiB).</summary>
        public const uint MaxTableLength = 16u << 20;
        /// <summary>PM1 control register bits: SCI_EN (ACPI mode), SLP_TYP (bits 10-12), SLP_EN.</summary>
        public const ushort SciEnable = 1, SleepTypeMask = 7 << 10, SleepEnable = 1 << 13;
        public const int SleepTypeShift = 10;
        /// <summary>FADT flags: RESET_REG_SUP (bit 10), HW_REDUCED_ACPI (bit 20).</summary>
        public const uint ResetRegisterSupported = 1u << 10, HardwareReducedAcpi = 1u << 20;

        private static AcpiInfo s_info;

        /// <summary>What <see cref="Init"/> found at boot.</summary>
        public static ref AcpiInfo Info => ref s_info;

        /// <summary>Is the machine ready for <see cref="EnterS5"/>?</summary>
        public static AcpiError SleepError => s_info.SleepError;

        /// <summary>The four ASCII characters of a table signature as the uint they read as ("FACP").</summary>
        public static uint Signature(string fourCharacters)
        {
            if (fourCharacters.Length != 4) return 0;
            return (uint)(byte)fourCharacters[0] | (uint)(byte)fourCharacters[1] << 8
                | (uint)(byte)fourCharacters[2] << 16 | (uint)(byte)fourCharacters[3] << 24;
        }

        /// <summary>
        /// The <paramref name="occurrence"/>-th valid table called <paramref name="signature"/>
        /// ("SRAT", "SLIT", "SSDT" 0, 1, ...): its address (identity-mapped) and length. False when
        /// there is none, or ACPI was not found.
        /// </summary>
        public static bool FindTable(string signature, int occurrence, out ulong address, out uint length)
        {
            int i = s_info.Find(Signature(signature), occurrence);
            AcpiTable t = s_info.Table(i);
            address = t.Address;
            length = t.Length;
            return i >= 0;
        }

        public static bool FindTable(string signature, out ulong address, out uint length) => FindTable(signature, 0, out address, out length);

        // ------------------------------------------------------------------ boot

        /// <summary>
        /// Finds the RSDP (the loader's multiboot2 tags 15 then 14; else the EBDA's first KiB, then
        /// 0xE0000-0xFFFFF) and reads the tables into <see cref="Info"/>. Needs the page tables
        /// (<see cref="Paging.MapAllRam"/>) and the memory map; allocates nothing.
        /// </summary>
        public static void Init()
        {
            s_info = default;
            s_info.TablesError = AcpiError.NoRsdp;
            AcpiError firstRejected = AcpiError.None;
            byte* rsdp = null;
            AcpiRsdpSource source = AcpiRsdpSource.None;
            if (BootInfo.AcpiRsdpTag(true, out byte* tag, out uint tagLength))
            {
                AcpiError e = CheckRsdp(tag, tagLength);
                if (e == AcpiError.None) { rsdp = tag; source = AcpiRsdpSource.LoaderTagNew; }
                else firstRejected = e;
            }
            if (rsdp == null && BootInfo.AcpiRsdpTag(false, out tag, out tagLength))
            {
                AcpiError e = CheckRsdp(tag, tagLength);
                if (e == AcpiError.None) { rsdp = tag; source = AcpiRsdpSource.LoaderTagOld; }
                else if (firstRejected == AcpiError.None) firstRejected = e;
            }
            if (rsdp == null)
            {
                ulong ebda = EbdaAddress();
                if (ebda != 0)
                {
                    rsdp = ScanForRsdp(ebda, ebda + 1024, ref firstRejected);
                    if (rsdp != null) source = AcpiRsdpSource.Ebda;
                }
            }
            if (rsdp == null)
            {
                rsdp = ScanForRsdp(0xE0000, 0x100000, ref firstRejected);
                if (rsdp != null) source = AcpiRsdpSource.BiosArea;
            }
            if (rsdp == null)
            {
                s_info.TablesError = firstRejected != AcpiError.None ? firstRejected : AcpiError.NoRsdp;
                s_info.SleepError = AcpiError.NotRead;
                return;
            }
            Parse(rsdp, source, ref s_info);
        }

        /// <summary>The EBDA's address from the BIOS data area (word at 0x40E, a segment), or 0.</summary>
        private static ulong EbdaAddress()
        {
            const ulong pointer = 0x40E;
            bool mapped = Paging.IsMapped(pointer);
            if (!mapped && !Paging.MapSmallPage(pointer)) return 0; // page 0 is left out to catch null pointers
            ulong ebda = (ulong)*(ushort*)pointer << 4;
            if (!mapped) Paging.UnmapSmallPage(pointer);
            return ebda >= 0x80000 && ebda < 0xA0000 ? ebda : 0;
        }

        /// <summary>Looks for a valid RSDP on 16-byte boundaries in [start, end).</summary>
        private static byte* ScanForRsdp(ulong start, ulong end, ref AcpiError firstRejected)
        {
            if (!Readable(start, end - start)) return null;
            for (ulong a = start; a + 20 <= end; a += 16)
            {
                byte* p = (byte*)a;
                if (!HasSignature(p, "RSD PTR ")) continue;
                AcpiError e = CheckRsdp(p, end > a + 4096 ? 4096 : (uint)(end - a));
                if (e == AcpiError.None) return p;
                if (firstRejected == AcpiError.None) firstRejected = e;
            }
            return null;
        }

        // ------------------------------------------------------------------ the tables

        /// <summary>
        /// Checks an RSDP of which <paramref name="available"/> bytes can be read: its signature, the
        /// ACPI 1.0 checksum over 20 bytes, and for revision 2+ the length and extended checksum.
        /// </summary>
        public static AcpiError CheckRsdp(byte* p, uint available)
        {
            if (available < 20 || !HasSignature(p, "RSD PTR ")) return available < 20 ? AcpiError.RsdpTooShort : AcpiError.NoRsdp;
            if (!ChecksumOk(p, 20)) return AcpiError.RsdpChecksum;
            if (p[15] < 2) return AcpiError.None;
            uint length = *(uint*)(p + 20);
            if (length < 36 || length > available) return AcpiError.RsdpTooShort;
            return ChecksumOk(p, length) ? AcpiError.None : AcpiError.RsdpExtendedChecksum;
        }

        /// <summary>
        /// Reads the tables from a checked RSDP into <paramref name="info"/>: the root table and every
        /// table it lists, the FADT's registers, the DSDT, and \_S5 (in the DSDT, else an SSDT).
        /// </summary>
        public static void Parse(byte* rsdp, AcpiRsdpSource source, ref AcpiInfo info)
        {
            info = default;
            info.RsdpSource = source;
            info.RsdpAddress = (ulong)rsdp;
            info.RsdpRevision = rsdp[15];
            for (int i = 0; i < 6; i++) info.OemId[i] = rsdp[9 + i];
            info.SleepError = AcpiError.NotRead;
            ulong xsdt = info.RsdpRevision >= 2 ? *(ulong*)(rsdp + 24) : 0;
            info.RootIsXsdt = xsdt != 0;
            info.RootAddress = xsdt != 0 ? xsdt : *(uint*)(rsdp + 16);
            info.TablesError = ReadRootTable(ref info);
            if (info.TablesError != AcpiError.None) return;
            info.SleepError = ReadFadt(ref info);
            if (info.SleepError != AcpiError.None && info.SleepError != AcpiError.HardwareReduced) return;
            AcpiError s5 = FindS5InTables(ref info);
            if (info.SleepError == AcpiError.None) info.SleepError = s5;
        }

        private static AcpiError ReadRootTable(ref AcpiInfo info)
        {
            ulong root = info.RootAddress;
            uint entrySize = info.RootIsXsdt ? 8u : 4u;
            if (!Readable(root, HeaderLength)) return AcpiError.RootTableUnreadable;
            byte* p = (byte*)root;
            if (!HasSignature(p, info.RootIsXsdt ? "XSDT" : "RSDT")) return AcpiError.RootTableSignature;
            uint length = *(uint*)(p + 4);
            if (length < HeaderLength || length > MaxTableLength || (length - HeaderLength) % entrySize != 0) return AcpiError.RootTableLength;
            if (!Readable(root, length)) return AcpiError.RootTableUnreadable;
            if (!ChecksumOk(p, length)) return AcpiError.RootTableChecksum;
            info.RootEntries = (length - HeaderLength) / entrySize;
            for (uint i = 0; i < info.RootEntries; i++)
            {
                byte* entry = p + HeaderLength + i * entrySize;
                ulong address = info.RootIsXsdt ? *(ulong*)entry : *(uint*)entry;
                if (!info.AddTable(ReadHeader(address, false))) break;
            }
            return AcpiError.None;
        }

        /// <summary>Reads the header of the table at <paramref name="address"/> and checks it.</summary>
        private static AcpiTable ReadHeader(ulong address, bool fromFadt)
        {
            AcpiTable t = default;
            t.Address = address;
            t.FromFadt = fromFadt;
            if (!Readable(address, HeaderLength)) { t.State = AcpiTableState.Unreadable; return t; }
            byte* p = (byte*)address;
            t.Signature = *(uint*)p;
            t.Length = *(uint*)(p + 4);
            t.Revision = p[8];
            if (t.Length < HeaderLength || t.Length > MaxTableLength) t.State = AcpiTableState.BadLength;
            else if (!Readable(address, t.Length)) t.State = AcpiTableState.Unreadable;
            else if (!ChecksumOk(p, t.Length)) t.State = AcpiTableState.BadChecksum;
            return t;
        }

        /// <summary>
        /// The FADT ("FACP"): SMI_CMD/ACPI_ENABLE, PM1a/PM1b control (the 64-bit X_ fields when set,
        /// else the ACPI 1.0 port numbers), the reset register, the DSDT (X_DSDT, else DSDT).
        /// </summary>
        private static AcpiError ReadFadt(ref AcpiInfo info)
        {
            uint facp = Signature("FACP");
            int index = info.Find(facp, 0);
            if (index < 0)
            {
                for (int i = 0; i < info.TableCount; i++) if (info.Table(i).Signature == facp) return AcpiError.FadtBroken;
                return AcpiError.NoFadt;
            }
            AcpiTable fadt = info.Table(index);
            if (fadt.Length < 116) return AcpiError.FadtTooShort; // the ACPI 1.0 FADT
            byte* p = (byte*)fadt.Address;
            info.FadtAddress = fadt.Address;
            info.FadtFlags = *(uint*)(p + 112);
            info.SmiCommand = *(uint*)(p + 48);
            info.AcpiEnable = p[52];
            ulong dsdt = *(uint*)(p + 40);
            if (fadt.Length >= 148 && *(ulong*)(p + 140) != 0) dsdt = *(ulong*)(p + 140);
            info.DsdtAddress = dsdt;

            byte pm1Length = p[89];
            info.Pm1aControl = PortRegister(*(uint*)(p + 64), pm1Length);
            info.Pm1bControl = PortRegister(*(uint*)(p + 68), pm1Length);
            if (fadt.Length >= 184) { AcpiRegister x = GenericAddress(p + 172); if (x.Present) info.Pm1aControl = x; }
            if (fadt.Length >= 196) { AcpiRegister x = GenericAddress(p + 184); if (x.Present) info.Pm1bControl = x; }
            if (fadt.Length >= 129 && (info.FadtFlags & ResetRegisterSupported) != 0)
            {
                info.ResetRegister = GenericAddress(p + 116);
                info.ResetValue = p[128];
            }
            if (dsdt != 0) info.AddTable(ReadHeader(dsdt, true));

            if ((info.FadtFlags & HardwareReducedAcpi) != 0) return AcpiError.HardwareReduced;
            if (!info.Pm1aControl.Present) return AcpiError.NoPm1aControl;
            if (!Writable(info.Pm1aControl) || (info.Pm1bControl.Present && !Writable(info.Pm1bControl))) return AcpiError.UnsupportedRegister;
            if (dsdt == 0) return AcpiError.NoDsdt;
            return AcpiError.None;
        }

        private static AcpiRegister PortRegister(uint port, byte bytes)
        {
            AcpiRegister r = default;
            r.Present = port != 0;
            r.Space = AcpiRegister.SystemIo;
            r.BitWidth = (byte)(bytes * 8);
            r.Address = port;
            return r;
        }

        /// <summary>A 12-byte Generic Address Structure: space, bit width, bit offset, access size, 64-bit address.</summary>
        private static AcpiRegister GenericAddress(byte* g)
        {
            AcpiRegister r = default;
            r.Space = g[0];
            r.BitWidth = g[1];
            r.Address = *(ulong*)(g + 4);
            r.Present = r.Address != 0;
            return r;
        }

        /// <summary>A PM1 control register this kernel can write: an I/O port, or mapped memory.</summary>
        private static bool Writable(AcpiRegister r) =>
            r.Space == AcpiRegister.SystemIo ? r.Address <= 0xFFFF
            : r.Space == AcpiRegister.SystemMemory && Readable(r.Address, 2);

        /// <summary>\_S5 in the DSDT, else in the SSDTs, in the order the root table lists them.</summary>
        private static AcpiError FindS5InTables(ref AcpiInfo info)
        {
            int dsdt = -1;
            for (int i = 0; i < info.TableCount; i++) if (info.Table(i).FromFadt) dsdt = i;
            AcpiError result = dsdt < 0 ? AcpiError.NoDsdt
                : info.Table(dsdt).State != AcpiTableState.Ok || info.Table(dsdt).Signature != Signature("DSDT") ? AcpiError.DsdtBroken
                : AcpiError.NoS5;
            uint ssdt = Signature("SSDT");
            for (int i = 0; i < info.TableCount; i++)
            {
                AcpiTable t = info.Table(i);
                bool usable = i == dsdt ? result == AcpiError.NoS5 : !t.FromFadt && t.Signature == ssdt && t.State == AcpiTableState.Ok;
                if (!usable) continue;
                AcpiError e = FindS5((byte*)t.Address + HeaderLength, t.Length - HeaderLength, out byte a, out byte b, out uint offset);
                if (e == AcpiError.None)
                {
                    info.SlpTypA = a;
                    info.SlpTypB = b;
                    info.S5Table = t.Signature;
                    info.S5Offset = offset + HeaderLength;
                    return AcpiError.None;
                }
                if (Weight(e) > Weight(result)) result = e; // the most telling reason wins
            }
            return result;
        }

        /// <summary>No _S5 at all &lt; a mention that is not a Name &lt; everything else (a broken package, a broken DSDT).</summary>
        private static int Weight(AcpiError e) => e == AcpiError.NoS5 ? 0 : e == AcpiError.S5NotNamePackage ? 1 : 2;

        // ------------------------------------------------------------------ \_S5 in AML

        /// <summary>
        /// Scans the AML <paramref name="aml"/> (a table after its 36-byte header) for
        /// <c>Name(_S5_, Package(n) { SLP_TYPa, SLP_TYPb, ... })</c>: NameOp 0x08, optionally the root
        /// prefix '\', the name, PackageOp 0x12, PkgLength (1-4 bytes), the element count, then
        /// integers as ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A, WordPrefix 0x0B, DWordPrefix 0x0C
        /// or QWordPrefix 0x0E. <paramref name="offset"/> is where the NameOp lies. No AML is run: an
        /// _S5 that is a method, or a package of anything but constants, is refused.
        /// </summary>
        public static AcpiError FindS5(byte* aml, uint length, out byte slpTypA, out byte slpTypB, out uint offset)
        {
            slpTypA = slpTypB = 0;
            offset = 0;
            AcpiError result = AcpiError.NoS5;
            for (uint i = 0; i + 4 <= length; i++)
            {
                if (aml[i] != (byte)'_' || aml[i + 1] != (byte)'S' || aml[i + 2] != (byte)'5' || aml[i + 3] != (byte)'_') continue;
                uint nameOp;
                if (i >= 1 && aml[i - 1] == 0x08) nameOp = i - 1;
                else if (i >= 2 && aml[i - 1] == (byte)'\\' && aml[i - 2] == 0x08) nameOp = i - 2;
                else
                {
                    if (result == AcpiError.NoS5) result = AcpiError.S5NotNamePackage; // a reference, or Method(_S5)
                    continue;
                }
                AcpiError e = ReadSleepPackage(aml + i + 4, length - i - 4, out ulong a, out ulong b);
                if (e == AcpiError.None)
                {
                    slpTypA = (byte)a;
                    slpTypB = (byte)b;
                    offset = nameOp;
                    return AcpiError.None;
                }
                result = e;
            }
            return result;
        }

        /// <summary>Reads <c>Package(n) { a, b, ... }</c> at <paramref name="p"/>: the first two elements.</summary>
        private static AcpiError ReadSleepPackage(byte* p, uint available, out ulong a, out ulong b)
        {
            a = b = 0;
            if (available < 1 || p[0] != 0x12) return AcpiError.S5NotNamePackage;
            if (available < 2) return AcpiError.S5Truncated;
            byte lead = p[1];
            uint extra = (uint)lead >> 6;
            if (2 + extra > available) return AcpiError.S5Truncated;
            uint packageLength = extra == 0 ? lead & 0x3Fu : lead & 0x0Fu;
            for (uint k = 1; k <= extra; k++) packageLength |= (uint)p[1 + k] << (int)(4 + 8 * (k - 1));
            // PkgLength counts itself and everything after it up to the package's end.
            if (packageLength < extra + 2 || 1 + packageLength > available) return AcpiError.S5Truncated;
            byte* at = p + 2 + extra;
            byte* end = p + 1 + packageLength;
            byte count = *at++;
            if (count < 2) return AcpiError.S5TooFewElements;
            AcpiError e = ReadInteger(ref at, end, out a);
            if (e == AcpiError.None) e = ReadInteger(ref at, end, out b);
            if (e != AcpiError.None) return e;
            return a > 7 || b > 7 ? AcpiError.S5OutOfRange : AcpiError.None; // SLP_TYP is a 3-bit field
        }

        /// <summary>One AML integer constant at <paramref name="at"/>, which moves past it.</summary>
        private static AcpiError ReadInteger(ref byte* at, byte* end, out ulong value)
        {
            value = 0;
            if (at >= end) return AcpiError.S5Truncated;
            byte op = *at++;
            int bytes;
            if (op == 0x00) return AcpiError.None;                       // ZeroOp
            if (op == 0x01) { value = 1; return AcpiError.None; }        // OneOp
            if (op == 0xFF) { value = ulong.MaxValue; return AcpiError.None; } // OnesOp
            if (op == 0x0A) bytes = 1;
            else if (op == 0x0B) bytes = 2;
            else if (op == 0x0C) bytes = 4;
            else if (op == 0x0E) bytes = 8;
            else return AcpiError.S5NotInteger;
            if (at + bytes > end) return AcpiError.S5Truncated;
            for (int k = 0; k < bytes; k++) value |= (ulong)at[k] << (8 * k);
            at += bytes;
            return AcpiError.None;
        }

        // ------------------------------------------------------------------ sleeping

        /// <summary>
        /// Puts the chipset into ACPI mode if SCI_EN is clear: ACPI_ENABLE written to the SMI_CMD
        /// port, then up to <paramref name="waitMicroseconds"/> for SCI_EN to rise.
        /// </summary>
        public static AcpiModeSwitch EnableAcpiMode(ulong waitMicroseconds)
        {
            if ((ReadRegister(s_info.Pm1aControl) & SciEnable) != 0) return AcpiModeSwitch.AlreadyOn;
            if (s_info.SmiCommand == 0 || s_info.SmiCommand > 0xFFFF || s_info.AcpiEnable == 0) return AcpiModeSwitch.NoSmiCommand;
            Native.OutByte((ushort)s_info.SmiCommand, s_info.AcpiEnable);
            for (ulong waited = 0; waited < waitMicroseconds; waited += 1000)
            {
                if ((ReadRegister(s_info.Pm1aControl) & SciEnable) != 0) return AcpiModeSwitch.SwitchedOn;
                Timer.SpinMicroseconds(1000);
            }
            return AcpiModeSwitch.DidNotSwitch;
        }

        /// <summary>
        /// Enters S5 (soft off): SLP_TYPa/SLP_TYPb into PM1a/PM1b control with SLP_EN clear, then
        /// again with SLP_EN set (PM1a first). Returns only if the machine is still running; does
        /// nothing unless <see cref="SleepError"/> is None.
        /// </summary>
        public static void EnterS5()
        {
            if (s_info.SleepError != AcpiError.None) return;
            ushort a = (ushort)((ReadRegister(s_info.Pm1aControl) & ~(SleepTypeMask | SleepEnable)) | (s_info.SlpTypA << SleepTypeShift));
            ushort b = 0;
            if (s_info.Pm1bControl.Present)
                b = (ushort)((ReadRegister(s_info.Pm1bControl) & ~(SleepTypeMask | SleepEnable)) | (s_info.SlpTypB << SleepTypeShift));
            WriteRegister(s_info.Pm1aControl, a);
            if (s_info.Pm1bControl.Present) WriteRegister(s_info.Pm1bControl, b);
            WriteRegister(s_info.Pm1aControl, (ushort)(a | SleepEnable));
            if (s_info.Pm1bControl.Present) WriteRegister(s_info.Pm1bControl, (ushort)(b | SleepEnable));
        }

        private static ushort ReadRegister(AcpiRegister r) =>
            r.Space == AcpiRegister.SystemIo ? Native.InWord((ushort)r.Address) : *(ushort*)r.Address;

        private static void WriteRegister(AcpiRegister r, ushort value)
        {
            if (r.Space == AcpiRegister.SystemIo) Native.OutWord((ushort)r.Address, value);
            else *(ushort*)r.Address = value;
        }

        // ------------------------------------------------------------------ helpers

        /// <summary>Sum of the bytes modulo 256 is zero.</summary>
        public static bool ChecksumOk(byte* p, uint length)
        {
            byte sum = 0;
            for (uint i = 0; i < length; i++) sum += p[i];
            return sum == 0;
        }

        private static bool HasSignature(byte* p, string signature)
        {
            for (int i = 0; i < signature.Length; i++) if (p[i] != (byte)signature[i]) return false;
            return true;
        }

        /// <summary>Every page of [address, address + length) is mapped (no page 0, no wrap-around).</summary>
        public static bool Readable(ulong address, ulong length)
        {
            if (address == 0 || length == 0 || address + length < address) return false;
            for (ulong page = address & ~0xFFFUL; page < address + length; page += 4096)
                if (!Paging.IsMapped(page)) return false;
            return true;
        }

        /// <summary>Does [address, address + length) overlap a usable region of the memory map (RAM a heap may take)?</summary>
        public static bool InUsableRam(ulong address, ulong length)
        {
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type == MemoryRegionType.Usable && address < r.End && r.Base < address + length) return true;
            }
            return false;
        }

        public static string Describe(AcpiError error) => error switch
        {
            AcpiError.None => "ok",
            AcpiError.NotRead => "the ACPI tables were not read",
            AcpiError.NoRsdp => "no RSDP (not in the loader's multiboot2 tags, the EBDA or 0xE0000-0xFFFFF)",
            AcpiError.RsdpTooShort => "the RSDP's length is wrong",
            AcpiError.RsdpChecksum => "the RSDP's checksum is wrong",
            AcpiError.RsdpExtendedChecksum => "the RSDP's extended (ACPI 2.0) checksum is wrong",
            AcpiError.RootTableUnreadable => "the RSDT/XSDT lies outside the mapped memory",
            AcpiError.RootTableSignature => "the RSDP points at something that is not an RSDT/XSDT",
            AcpiError.RootTableLength => "the RSDT/XSDT's length is wrong",
            AcpiError.RootTableChecksum => "the RSDT/XSDT's checksum is wrong",
            AcpiError.NoFadt => "no FADT (FACP) among the tables",
            AcpiError.FadtBroken => "the FADT (FACP) is unreadable or its checksum is wrong",
            AcpiError.FadtTooShort => "the FADT is shorter than an ACPI 1.0 FADT (116 bytes)",
            AcpiError.HardwareReduced => "hardware-reduced ACPI (no PM1 registers; the sleep control register is not supported here)",
            AcpiError.NoPm1aControl => "the FADT gives no PM1a control block",
            AcpiError.UnsupportedRegister => "a PM1 control register is neither an I/O port nor mapped memory",
            AcpiError.NoDsdt => "the FADT gives no DSDT",
            AcpiError.DsdtBroken => "the DSDT is unreadable, misnamed or its checksum is wrong",
            AcpiError.NoS5 => "no _S5 object in the DSDT or SSDTs (no soft-off state)",
            AcpiError.S5NotNamePackage => "_S5 is not a Name(_S5, Package(...)) (a method? this kernel runs no AML)",
            AcpiError.S5Truncated => "the _S5 package runs past the end of its table",
            AcpiError.S5TooFewElements => "the _S5 package has fewer than 2 elements",
            AcpiError.S5NotInteger => "an _S5 element is not an integer constant",
            AcpiError.S5OutOfRange => "an _S5 sleep type does not fit SLP_TYP's 3 bits",
            _ => "unknown ACPI error",
        };

        public static string SourceName(AcpiRsdpSource source) => source switch
        {
            AcpiRsdpSource.LoaderTagNew => "multiboot2 tag 15",
            AcpiRsdpSource.LoaderTagOld => "multiboot2 tag 14",
            AcpiRsdpSource.Ebda => "the EBDA",
            AcpiRsdpSource.BiosArea => "the BIOS area 0xE0000-0xFFFFF",
            AcpiRsdpSource.Given => "given",
            _ => "nowhere",
        };

        // ------------------------------------------------------------------ reports

        public static void WriteSignature(uint signature)
        {
            for (int i = 0; i < 4; i++)
            {
                char c = (char)((signature >> (8 * i)) & 0xFF);
                Console.Write(c >= ' ' && c <= '~' ? c : '?');
            }
        }

        public static void PrintRegister(AcpiRegister r)
        {
            if (!r.Present) { Console.Write("none"); return; }
            if (r.Space == AcpiRegister.SystemIo) { Console.Write("I/O "); Console.WriteHex(r.Address, 4); }
            else if (r.Space == AcpiRegister.SystemMemory) { Console.Write("memory "); Console.WriteHex(r.Address, 10); }
            else { Console.Write("space "); Console.WriteDecimal(r.Space); Console.Write(" address "); Console.WriteHex(r.Address, 4); }
        }

        /// <summary>The boot report's line: where the RSDP was, how many tables, and S5.</summary>
        public static void PrintSummary()
        {
            Console.Write("acpi: ");
            if (s_info.TablesError != AcpiError.None)
            {
                Console.Write("not available: ");
                Console.WriteLine(Describe(s_info.TablesError));
                return;
            }
            Console.Write("RSDP revision "); Console.WriteDecimal(s_info.RsdpRevision);
            Console.Write(" from "); Console.Write(SourceName(s_info.RsdpSource));
            Console.Write(", "); Console.Write(s_info.RootIsXsdt ? "XSDT" : "RSDT"); Console.Write(" with ");
            Console.WriteDecimal(s_info.RootEntries); Console.Write(" tables; S5: ");
            if (s_info.SleepError == AcpiError.None)
            {
                Console.Write("SLP_TYPa "); Console.WriteDecimal(s_info.SlpTypA); Console.Write(" via PM1a_CNT ");
                PrintRegister(s_info.Pm1aControl);
                Console.WriteLine();
            }
            else Console.WriteLine(Describe(s_info.SleepError));
            for (int i = 0; i < s_info.TableCount; i++)
            {
                AcpiTable t = s_info.Table(i);
                if (t.State == AcpiTableState.Ok && InUsableRam(t.Address, t.Length))
                {
                    Console.Write("warning: ACPI table "); WriteSignature(t.Signature); Console.Write(" at "); Console.WriteHex(t.Address, 10);
                    Console.WriteLine(" lies in usable RAM: the heap may overwrite it");
                }
            }
        }

        /// <summary>The `acpi` command: the RSDP, every table, the FADT's registers, \_S5.</summary>
        public static void PrintReport()
        {
            ref AcpiInfo info = ref s_info;
            if (info.TablesError != AcpiError.None)
            {
                Console.Write("ACPI: not available: ");
                Console.WriteLine(Describe(info.TablesError));
                return;
            }
            Console.Write("RSDP: revision "); Console.WriteDecimal(info.RsdpRevision);
            Console.Write(info.RsdpRevision >= 2 ? " (ACPI 2.0+)" : " (ACPI 1.0)");
            Console.Write(", OEM '");
            for (int i = 0; i < 6; i++) { char c = (char)info.OemId[i]; Console.Write(c >= ' ' && c <= '~' ? c : '?'); }
            Console.Write("', at "); Console.WriteHex(info.RsdpAddress, 10);
            Console.Write(" ("); Console.Write(SourceName(info.RsdpSource)); Console.WriteLine(")");
            Console.Write(info.RootIsXsdt ? "XSDT" : "RSDT"); Console.Write(" at "); Console.WriteHex(info.RootAddress, 10);
            Console.Write(": "); Console.WriteDecimal(info.RootEntries); Console.WriteLine(" entries");
            if (info.TableCount == AcpiInfo.MaxTables)
            {
                Console.Write("  (only the first "); Console.WriteDecimal(AcpiInfo.MaxTables); Console.WriteLine(" tables are kept)");
            }
            for (int i = 0; i < info.TableCount; i++)
            {
                AcpiTable t = info.Table(i);
                Console.Write("  "); WriteSignature(t.Signature); Console.Write("  "); Console.WriteHex(t.Address, 10);
                Console.Write("  length "); PadDecimal(t.Length, 6);
                Console.Write("  rev "); Console.WriteDecimal(t.Revision);
                Console.Write("  ");
                Console.Write(t.State == AcpiTableState.Ok ? "ok" : t.State == AcpiTableState.BadChecksum ? "BAD CHECKSUM"
                    : t.State == AcpiTableState.Unreadable ? "UNMAPPED" : "BAD LENGTH");
                Console.Write(", in "); Console.Write(RegionTypeAt(t.Address));
                if (t.FromFadt) Console.Write(" (from the FADT)");
                Console.WriteLine();
            }
            if (info.FadtAddress != 0)
            {
                Console.Write("FADT: PM1a_CNT "); PrintRegister(info.Pm1aControl);
                Console.Write(", PM1b_CNT "); PrintRegister(info.Pm1bControl);
                Console.Write(", SMI_CMD "); Console.WriteHex(info.SmiCommand, 2);
                Console.Write(" ACPI_ENABLE "); Console.WriteHex(info.AcpiEnable, 2); Console.WriteLine();
                Console.Write("      reset register "); PrintRegister(info.ResetRegister);
                if (info.ResetRegister.Present) { Console.Write(" value "); Console.WriteHex(info.ResetValue, 2); }
                Console.Write(", flags "); Console.WriteHex(info.FadtFlags, 8); Console.WriteLine();
            }
            if (info.SleepError == AcpiError.None)
            {
                Console.Write("S5: SLP_TYPa "); Console.WriteDecimal(info.SlpTypA);
                Console.Write(", SLP_TYPb "); Console.WriteDecimal(info.SlpTypB);
                Console.Write(" (Name(_S5, Package) in the "); WriteSignature(info.S5Table);
                Console.Write(" at offset "); Console.WriteHex(info.S5Offset, 4); Console.WriteLine(")");
                Console.WriteLine("halt powers off: SLP_TYPa << 10 | SLP_EN (1 << 13) into PM1a_CNT");
            }
            else { Console.Write("S5: not available: "); Console.WriteLine(Describe(info.SleepError)); }
        }

        private static string RegionTypeAt(ulong address)
        {
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (address >= r.Base && address < r.End) return BootInfo.TypeName(r.Type);
            }
            return "no memory-map region";
        }

        private static void PadDecimal(ulong v, int width)
        {
            int digits = 1;
            for (ulong x = v; x >= 10; x /= 10) digits++;
            for (int i = digits; i < width; i++) Console.Write(' ');
            Console.WriteDecimal(v);
        }
    }
}
