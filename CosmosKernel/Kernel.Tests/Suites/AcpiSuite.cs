using Kernel.Hal;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// The ACPI reader: the \_S5 scan over hand-made AML, the table walk over hand-made tables
    /// (an ACPI 2.0 RSDP and XSDT, which QEMU's firmware never gives), and what it found on this
    /// machine at boot.
    /// </summary>
    public sealed unsafe class AcpiSuite : TestSuite
    {
        public AcpiSuite() : base("acpi", AnyMemory, null)
        {
            Add("Name_S5_with_ZeroOp_elements_gives_sleep_type_0", &Name_S5_with_ZeroOp_elements_gives_sleep_type_0);
            Add("BytePrefix_and_OneOp_elements_and_the_root_prefix_are_read", &BytePrefix_and_OneOp_elements_and_the_root_prefix_are_read);
            Add("Word_and_DWord_prefixes_and_a_two_byte_PkgLength_are_read", &Word_and_DWord_prefixes_and_a_two_byte_PkgLength_are_read);
            Add("A_reference_to_S5_before_its_Name_is_skipped", &A_reference_to_S5_before_its_Name_is_skipped);
            Add("A_method_named_S5_is_refused_not_run", &A_method_named_S5_is_refused_not_run);
            Add("A_package_cut_off_by_the_end_of_the_table_is_refused", &A_package_cut_off_by_the_end_of_the_table_is_refused);
            Add("A_package_of_one_element_is_refused", &A_package_of_one_element_is_refused);
            Add("A_sleep_type_wider_than_3_bits_is_refused", &A_sleep_type_wider_than_3_bits_is_refused);
            Add("An_element_that_is_not_a_constant_is_refused", &An_element_that_is_not_a_constant_is_refused);
            Add("AML_without_S5_says_so", &AML_without_S5_says_so);
            Add("RSDP_checksums_signature_and_length_are_checked", &RSDP_checksums_signature_and_length_are_checked);
            Add("An_ACPI_2_RSDP_leads_through_the_XSDT_to_the_FADT_X_registers_and_S5", &An_ACPI_2_RSDP_leads_through_the_XSDT_to_the_FADT_X_registers_and_S5);
            Add("A_table_with_a_bad_checksum_is_listed_but_never_found", &A_table_with_a_bad_checksum_is_listed_but_never_found);
            Add("S5_in_an_SSDT_is_found_when_the_DSDT_has_none", &S5_in_an_SSDT_is_found_when_the_DSDT_has_none);
            Add("A_root_table_entry_outside_the_page_tables_is_not_read", &A_root_table_entry_outside_the_page_tables_is_not_read);
            Add("Hardware_reduced_ACPI_is_refused_for_S5", &Hardware_reduced_ACPI_is_refused_for_S5);
            Add("A_bad_root_table_checksum_stops_the_walk", &A_bad_root_table_checksum_stops_the_walk);
            Add("This_machine_has_an_RSDP_and_valid_tables_with_a_FADT_and_DSDT", &This_machine_has_an_RSDP_and_valid_tables_with_a_FADT_and_DSDT);
            Add("This_machine_can_enter_S5_through_an_IO_port_PM1a_control", &This_machine_can_enter_S5_through_an_IO_port_PM1a_control);
            Add("This_machines_ACPI_tables_lie_outside_usable_RAM", &This_machines_ACPI_tables_lie_outside_usable_RAM);
            Add("Page_0_stays_unmapped_after_the_RSDP_search", &Page_0_stays_unmapped_after_the_RSDP_search);
        }

        // ------------------------------------------------------------------ \_S5 in AML

        private static AcpiError Scan(byte* aml, uint length, out byte a, out byte b, out uint offset)
            => Acpi.FindS5(aml, length, out a, out b, out offset);

        private static void Name_S5_with_ZeroOp_elements_gives_sleep_type_0(Assert a)
        {
            // Name(_S5, Package(4) { Zero, Zero, Zero, Zero }), as QEMU writes it
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };
            a.Equal((long)AcpiError.None, (long)Scan(aml, 12, out byte ta, out byte tb, out uint offset), "result");
            a.Equal(0UL, ta, "SLP_TYPa");
            a.Equal(0UL, tb, "SLP_TYPb");
            a.Equal(0UL, offset, "offset of the NameOp");
        }

        private static void BytePrefix_and_OneOp_elements_and_the_root_prefix_are_read(Assert a)
        {
            // some AML before it, then Name(\_S5, Package(4) { 5, One, Zero, Zero })
            byte* aml = stackalloc byte[] { 0x10, 0x20, 0x30, 0x08, (byte)'\\', (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x07, 0x04, 0x0A, 0x05, 0x01, 0x00, 0x00 };
            a.Equal((long)AcpiError.None, (long)Scan(aml, 17, out byte ta, out byte tb, out uint offset), "result");
            a.Equal(5UL, ta, "SLP_TYPa (BytePrefix 0x0A 0x05)");
            a.Equal(1UL, tb, "SLP_TYPb (OneOp)");
            a.Equal(3UL, offset, "offset of the NameOp");
        }

        private static void Word_and_DWord_prefixes_and_a_two_byte_PkgLength_are_read(Assert a)
        {
            // PkgLength in two bytes, 0x4C 0x00: (0x4C & 0x0F) | 0x00 << 4 = 12 = the 2 length bytes
            // + the count + WordPrefix 0x0B (3) + DWordPrefix 0x0C (5) + Zero
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x4C, 0x00, 0x03, 0x0B, 0x06, 0x00, 0x0C, 0x02, 0x00, 0x00, 0x00, 0x00 };
            a.Equal((long)AcpiError.None, (long)Scan(aml, 18, out byte ta, out byte tb, out _), "result");
            a.Equal(6UL, ta, "SLP_TYPa (WordPrefix)");
            a.Equal(2UL, tb, "SLP_TYPb (DWordPrefix)");
        }

        private static void A_reference_to_S5_before_its_Name_is_skipped(Assert a)
        {
            // Return(\_S5_) somewhere (ReturnOp 0xA4, root prefix), then the Name
            byte* aml = stackalloc byte[] { 0xA4, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x06, 0x02, 0x0A, 0x07, 0x0A, 0x03 };
            a.Equal((long)AcpiError.None, (long)Scan(aml, 17, out byte ta, out byte tb, out uint offset), "result");
            a.Equal(7UL, ta, "SLP_TYPa");
            a.Equal(3UL, tb, "SLP_TYPb");
            a.Equal(5UL, offset, "offset of the NameOp");
        }

        private static void A_method_named_S5_is_refused_not_run(Assert a)
        {
            // Method(_S5, 0) { Return(Package(2) { Zero, Zero }) }: MethodOp 0x14, PkgLength, name, flags, ...
            byte* aml = stackalloc byte[] { 0x14, 0x0C, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x00, 0xA4, 0x12, 0x04, 0x02, 0x00, 0x00 };
            a.Equal((long)AcpiError.S5NotNamePackage, (long)Scan(aml, 13, out _, out _, out _), "result");
        }

        private static void A_package_cut_off_by_the_end_of_the_table_is_refused(Assert a)
        {
            // PkgLength says 6 but the table ends after 3 of those bytes
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x06, 0x04, 0x00 };
            a.Equal((long)AcpiError.S5Truncated, (long)Scan(aml, 9, out _, out _, out _), "package past the end");
            // PkgLength right, but the elements run past the package
            byte* short2 = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x04, 0x02, 0x0A, 0x05, 0x00 };
            a.Equal((long)AcpiError.S5Truncated, (long)Scan(short2, 11, out _, out _, out _), "elements past the package");
        }

        private static void A_package_of_one_element_is_refused(Assert a)
        {
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x03, 0x01, 0x00 };
            a.Equal((long)AcpiError.S5TooFewElements, (long)Scan(aml, 9, out _, out _, out _), "result");
        }

        private static void A_sleep_type_wider_than_3_bits_is_refused(Assert a)
        {
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x05, 0x02, 0x0A, 0x08, 0x00 };
            a.Equal((long)AcpiError.S5OutOfRange, (long)Scan(aml, 11, out _, out _, out _), "BytePrefix 8");
            byte* ones = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x04, 0x02, 0xFF, 0x00 };
            a.Equal((long)AcpiError.S5OutOfRange, (long)Scan(ones, 10, out _, out _, out _), "OnesOp");
        }

        private static void An_element_that_is_not_a_constant_is_refused(Assert a)
        {
            // a name string (a reference to another object) as the first element
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x07, 0x02, (byte)'S', (byte)'L', (byte)'P', (byte)'A', 0x00 };
            a.Equal((long)AcpiError.S5NotInteger, (long)Scan(aml, 13, out _, out _, out _), "result");
        }

        private static void AML_without_S5_says_so(Assert a)
        {
            byte* aml = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'4', (byte)'_', 0x12, 0x04, 0x02, 0x00, 0x00 };
            a.Equal((long)AcpiError.NoS5, (long)Scan(aml, 10, out _, out _, out _), "only _S4");
            a.Equal((long)AcpiError.NoS5, (long)Scan(aml, 0, out _, out _, out _), "empty AML");
        }

        // ------------------------------------------------------------------ hand-made tables

        private const int Rsdp = 0, Xsdt = 64, Fadt = 160, Dsdt = 416, Ssdt = 512, Size = 640;
        private const uint FadtLength = 244;

        private static void Put32(byte* p, uint v) { for (int i = 0; i < 4; i++) p[i] = (byte)(v >> (8 * i)); }
        private static void Put64(byte* p, ulong v) { for (int i = 0; i < 8; i++) p[i] = (byte)(v >> (8 * i)); }
        private static void PutText(byte* p, string s) { for (int i = 0; i < s.Length; i++) p[i] = (byte)s[i]; }

        /// <summary>Sets the byte at <paramref name="checksumAt"/> so that [p, p + length) sums to zero.</summary>
        private static void Seal(byte* p, uint length, uint checksumAt)
        {
            p[checksumAt] = 0;
            byte sum = 0;
            for (uint i = 0; i < length; i++) sum += p[i];
            p[checksumAt] = (byte)(0 - sum);
        }

        private static void Header(byte* table, string signature, uint length)
        {
            PutText(table, signature);
            Put32(table + 4, length);
            table[8] = 2;
            PutText(table + 10, "KTEST ");
        }

        /// <summary>
        /// An ACPI 2.0 RSDP, an XSDT listing a FADT and an SSDT, a DSDT holding \_S5 = {5, 6}
        /// (unless <paramref name="s5InDsdt"/> is false: then the SSDT holds {3, 4}), a FADT whose
        /// 64-bit X_PM1a_CNT (I/O 0x1804) overrides its 32-bit PM1a_CNT_BLK (0x604), PM1b at 0x608.
        /// </summary>
        private static void Build(byte* m, bool s5InDsdt, uint fadtFlags)
        {
            for (int i = 0; i < Size; i++) m[i] = 0;
            // RSDP
            PutText(m + Rsdp, "RSD PTR ");
            PutText(m + Rsdp + 9, "KTEST ");
            m[Rsdp + 15] = 2;
            Put32(m + Rsdp + 16, 0);                  // no RSDT: the XSDT must be used
            Put32(m + Rsdp + 20, 36);
            Put64(m + Rsdp + 24, (ulong)(m + Xsdt));
            Seal(m + Rsdp, 20, 8);
            Seal(m + Rsdp, 36, 32);
            // XSDT: FADT, SSDT
            Header(m + Xsdt, "XSDT", 36 + 16);
            Put64(m + Xsdt + 36, (ulong)(m + Fadt));
            Put64(m + Xsdt + 44, (ulong)(m + Ssdt));
            Seal(m + Xsdt, 36 + 16, 9);
            // FADT
            Header(m + Fadt, "FACP", FadtLength);
            Put32(m + Fadt + 40, 0);                  // 32-bit DSDT left 0: X_DSDT must be used
            Put32(m + Fadt + 48, 0xB2);               // SMI_CMD
            m[Fadt + 52] = 0x02;                      // ACPI_ENABLE
            Put32(m + Fadt + 64, 0x604);              // PM1a_CNT_BLK
            Put32(m + Fadt + 68, 0x608);              // PM1b_CNT_BLK
            m[Fadt + 89] = 2;                         // PM1_CNT_LEN
            Put32(m + Fadt + 112, fadtFlags);
            Put64(m + Fadt + 140, (ulong)(m + Dsdt)); // X_DSDT
            m[Fadt + 172] = 1; m[Fadt + 173] = 16;    // X_PM1a_CNT_BLK: I/O, 16 bits
            Put64(m + Fadt + 176, 0x1804);
            Seal(m + Fadt, FadtLength, 9);
            // DSDT and SSDT
            byte* s5 = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'5', (byte)'_', 0x12, 0x08, 0x04, 0x0A, 0, 0x0A, 0, 0x00, 0x00 };
            byte* other = stackalloc byte[] { 0x08, (byte)'_', (byte)'S', (byte)'3', (byte)'_', 0x12, 0x08, 0x04, 0x0A, 1, 0x0A, 1, 0x00, 0x00 };
            Header(m + Dsdt, "DSDT", 36 + 14);
            Header(m + Ssdt, "SSDT", 36 + 14);
            for (int i = 0; i < 14; i++)
            {
                m[Dsdt + 36 + i] = s5InDsdt ? s5[i] : other[i];
                m[Ssdt + 36 + i] = s5InDsdt ? other[i] : s5[i];
            }
            m[(s5InDsdt ? Dsdt : Ssdt) + 36 + 9] = (byte)(s5InDsdt ? 5 : 3);
            m[(s5InDsdt ? Dsdt : Ssdt) + 36 + 11] = (byte)(s5InDsdt ? 6 : 4);
            Seal(m + Dsdt, 36 + 14, 9);
            Seal(m + Ssdt, 36 + 14, 9);
        }

        private static void RSDP_checksums_signature_and_length_are_checked(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, 0);
            a.Equal((long)AcpiError.None, (long)Acpi.CheckRsdp(m, 36), "the sealed RSDP");
            a.Equal((long)AcpiError.RsdpTooShort, (long)Acpi.CheckRsdp(m, 30), "only 30 bytes readable for a 36-byte RSDP");
            m[Rsdp + 33] ^= 1;                        // a reserved byte: only the extended checksum sees it
            a.Equal((long)AcpiError.RsdpExtendedChecksum, (long)Acpi.CheckRsdp(m, 36), "extended checksum");
            m[Rsdp + 33] ^= 1;
            m[Rsdp + 16] ^= 1;                        // the RSDT address: both checksums see it
            a.Equal((long)AcpiError.RsdpChecksum, (long)Acpi.CheckRsdp(m, 36), "ACPI 1.0 checksum");
            m[Rsdp + 16] ^= 1;
            m[Rsdp + 3] = (byte)'X';
            a.Equal((long)AcpiError.NoRsdp, (long)Acpi.CheckRsdp(m, 36), "signature");
        }

        private static void An_ACPI_2_RSDP_leads_through_the_XSDT_to_the_FADT_X_registers_and_S5(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, 0);
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.None, (long)info.TablesError, "tables");
            a.Equal((long)AcpiError.None, (long)info.SleepError, "sleep");
            a.True(info.RootIsXsdt, "the XSDT is used");
            a.Equal((ulong)(m + Xsdt), info.RootAddress, "root table address");
            a.Equal(2UL, info.RootEntries, "root entries");
            a.Equal(3L, info.TableCount, "FACP, SSDT and the DSDT from the FADT");
            a.Equal((ulong)(m + Fadt), info.Table(0).Address, "first entry");
            a.Equal(Acpi.Signature("FACP"), info.Table(0).Signature, "first signature");
            a.Equal(Acpi.Signature("DSDT"), info.Table(2).Signature, "the DSDT comes last");
            a.True(info.Table(2).FromFadt, "the DSDT is marked as reached through the FADT");
            a.Equal((ulong)(m + Dsdt), info.DsdtAddress, "X_DSDT");
            a.Equal(1L, info.Find(Acpi.Signature("SSDT"), 0), "the SSDT by signature");
            a.Equal(-1L, info.Find(Acpi.Signature("SSDT"), 1), "only one SSDT");
            a.Equal(-1L, info.Find(Acpi.Signature("SRAT"), 0), "no SRAT");
            a.True(info.Pm1aControl.Present, "PM1a present");
            a.Equal(1UL, info.Pm1aControl.Space, "PM1a in I/O space");
            a.Equal(0x1804UL, info.Pm1aControl.Address, "X_PM1a_CNT_BLK wins over PM1a_CNT_BLK");
            a.Equal(0x608UL, info.Pm1bControl.Address, "PM1b from the 32-bit field (X_PM1b is 0)");
            a.Equal(0xB2UL, info.SmiCommand, "SMI_CMD");
            a.Equal(2UL, info.AcpiEnable, "ACPI_ENABLE");
            a.Equal(5UL, info.SlpTypA, "SLP_TYPa");
            a.Equal(6UL, info.SlpTypB, "SLP_TYPb");
            a.Equal(Acpi.Signature("DSDT"), info.S5Table, "_S5 found in the DSDT");
            a.Equal(36UL, info.S5Offset, "the NameOp right after the header");
        }

        private static void A_table_with_a_bad_checksum_is_listed_but_never_found(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, 0);
            m[Ssdt + 40] ^= 0x55;
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.None, (long)info.TablesError, "tables");
            a.Equal((long)AcpiTableState.BadChecksum, (long)info.Table(1).State, "the SSDT's state");
            a.Equal(-1L, info.Find(Acpi.Signature("SSDT"), 0), "the SSDT is not found");
            a.Equal((long)AcpiError.None, (long)info.SleepError, "S5 still comes from the DSDT");
        }

        private static void S5_in_an_SSDT_is_found_when_the_DSDT_has_none(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, false, 0);
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.None, (long)info.SleepError, "sleep");
            a.Equal(Acpi.Signature("SSDT"), info.S5Table, "_S5 found in the SSDT");
            a.Equal(3UL, info.SlpTypA, "SLP_TYPa");
            a.Equal(4UL, info.SlpTypB, "SLP_TYPb");
        }

        private static void A_root_table_entry_outside_the_page_tables_is_not_read(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, 0);
            ulong unmapped = 0xFFFF_F000_0000UL;      // far above any RAM this kernel maps
            a.False(Paging.IsMapped(unmapped), "the address is indeed unmapped");
            Put64(m + Xsdt + 44, unmapped);
            Seal(m + Xsdt, 36 + 16, 9);
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.None, (long)info.TablesError, "tables");
            a.Equal((long)AcpiTableState.Unreadable, (long)info.Table(1).State, "the entry's state");
            a.Equal(unmapped, info.Table(1).Address, "the entry's address is kept for the report");
            a.Equal((long)AcpiError.None, (long)info.SleepError, "S5 from the DSDT all the same");
        }

        private static void Hardware_reduced_ACPI_is_refused_for_S5(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, Acpi.HardwareReducedAcpi);
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.None, (long)info.TablesError, "tables");
            a.Equal((long)AcpiError.HardwareReduced, (long)info.SleepError, "sleep");
            a.Equal(5UL, info.SlpTypA, "_S5 is still reported");
        }

        private static void A_bad_root_table_checksum_stops_the_walk(Assert a)
        {
            byte* m = stackalloc byte[Size];
            Build(m, true, 0);
            m[Xsdt + 20] ^= 1;
            AcpiInfo info = default;
            Acpi.Parse(m, AcpiRsdpSource.Given, ref info);
            a.Equal((long)AcpiError.RootTableChecksum, (long)info.TablesError, "tables");
            a.Equal(0L, info.TableCount, "no table is listed");
            a.Equal((long)AcpiError.NotRead, (long)info.SleepError, "sleep");
            a.Equal("the RSDT/XSDT's checksum is wrong", Acpi.Describe(info.TablesError), "the sentence for it");
        }

        // ------------------------------------------------------------------ this machine

        private static void This_machine_has_an_RSDP_and_valid_tables_with_a_FADT_and_DSDT(Assert a)
        {
            ref AcpiInfo info = ref Acpi.Info;
            a.Equal(Acpi.Describe(AcpiError.None), Acpi.Describe(info.TablesError), "tables");
            a.True(info.RsdpSource != AcpiRsdpSource.None && info.RsdpSource != AcpiRsdpSource.Given, "the RSDP was found at boot");
            a.Equal((long)AcpiError.None, (long)Acpi.CheckRsdp((byte*)info.RsdpAddress, 20), "the RSDP's 1.0 checksum, checked again");
            a.True(info.RootEntries > 0 && info.TableCount > (int)info.RootEntries, "the root table lists tables, and the DSDT is added");
            for (int i = 0; i < info.TableCount; i++)
                if (info.Table(i).State != AcpiTableState.Ok) a.Fail(string.Concat("table ", i.ToString(), " is not valid"));
            a.True(Acpi.FindTable("FACP", out ulong fadt, out uint fadtLength), "the FADT is found by signature");
            a.Equal(fadt, info.FadtAddress, "and it is the one parsed");
            a.True(fadtLength >= 116, "FADT length");
            a.True(Acpi.FindTable("DSDT", out ulong dsdt, out _), "the DSDT is found by signature");
            a.Equal(dsdt, info.DsdtAddress, "and it is the FADT's");
            a.False(Acpi.FindTable("FACP", 1, out _, out _), "one FADT only");
        }

        private static void This_machine_can_enter_S5_through_an_IO_port_PM1a_control(Assert a)
        {
            ref AcpiInfo info = ref Acpi.Info;
            a.Equal(Acpi.Describe(AcpiError.None), Acpi.Describe(info.SleepError), "sleep");
            a.True(info.Pm1aControl.Present, "PM1a control present");
            a.Equal(1UL, info.Pm1aControl.Space, "PM1a control is an I/O port");
            a.InRange(info.SlpTypA, 0, 7, "SLP_TYPa");
        }

        private static void This_machines_ACPI_tables_lie_outside_usable_RAM(Assert a)
        {
            ref AcpiInfo info = ref Acpi.Info;
            int outside = 0;
            for (int i = 0; i < info.TableCount; i++)
            {
                AcpiTable t = info.Table(i);
                if (Acpi.InUsableRam(t.Address, t.Length)) a.Fail(string.Concat("table ", i.ToString(), " lies in usable RAM"));
                else outside++;
            }
            a.True(info.TableCount > 0, "there are tables to check");
            a.Equal((long)info.TableCount, (long)outside, "tables in reserved or ACPI memory, where no heap goes");
        }

        private static void Page_0_stays_unmapped_after_the_RSDP_search(Assert a)
        {
            // Without a loader tag the search maps page 0 for a moment to read the EBDA segment at 0x40E.
            a.False(Paging.IsMapped(0x40E), "page 0 (null pointers fault)");
        }
    }
}
