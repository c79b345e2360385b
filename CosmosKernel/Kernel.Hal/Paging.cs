using System.Runtime;
using System.Runtime.CompilerServices;
using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>
    /// Identity paging. The boot stub maps 0..4 GiB (page 0 left out so null dereferences fault);
    /// <see cref="MapAllRam"/> extends the map with 2 MiB pages over all RAM the memory map
    /// reports above that, one page directory per GiB from the boot stub's pool.
    /// </summary>
    public static unsafe class Paging
    {
        public const ulong GiB = 1UL << 30;
        public const ulong BootMappedLimit = 4 * GiB;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_paging_info")]
        private static extern void PagingInfo(ulong* info);

        /// <summary>Addresses below this are mapped.</summary>
        public static ulong MappedLimit { get; private set; } = BootMappedLimit;

        /// <summary>RAM the map reports but the page tables could not cover (beyond the pool).</summary>
        public static ulong UnmappedRam { get; private set; }

        /// <summary>Maps [4 GiB, <paramref name="highestAddress"/>) rounded up to a GiB.</summary>
        public static void MapAllRam(ulong highestAddress)
        {
            ulong* info = stackalloc ulong[4];
            PagingInfo(info);
            ulong* pdpt = (ulong*)info[1];
            ulong* pool = (ulong*)info[2];
            ulong poolPages = info[3];
            ulong wantedGiB = (highestAddress + GiB - 1) / GiB;
            ulong limitGiB = 4 + poolPages;
            if (wantedGiB > limitGiB)
            {
                UnmappedRam = highestAddress - limitGiB * GiB;
                wantedGiB = limitGiB;
            }
            for (ulong g = 4; g < wantedGiB; g++)
            {
                ulong* pd = pool + (g - 4) * 512;
                for (ulong i = 0; i < 512; i++) pd[i] = (g * GiB + i * (2UL << 20)) | 0x83; // present, writable, 2 MiB
                pdpt[g] = (ulong)pd | 0x3;
            }
            if (wantedGiB > 4) MappedLimit = wantedGiB * GiB;
            Native.WriteCr3(Native.ReadCr3()); // flush the TLB
        }

        /// <summary>
        /// The 4 KiB page table that maps <paramref name="address"/>, walking PML4, PDPT and PD; null
        /// when a level is not present or the address lies in a 1 GiB or 2 MiB page.
        /// </summary>
        private static ulong* PageTableOf(ulong address)
        {
            ulong* pml4 = (ulong*)(Native.ReadCr3() & ~0xFFFUL);
            ulong e = pml4[(address >> 39) & 511];
            if ((e & 1) == 0) return null;
            e = ((ulong*)(e & 0x000FFFFFFFFFF000UL))[(address >> 30) & 511];
            if ((e & 1) == 0 || (e & 0x80) != 0) return null;
            e = ((ulong*)(e & 0x000FFFFFFFFFF000UL))[(address >> 21) & 511];
            if ((e & 1) == 0 || (e & 0x80) != 0) return null;
            return (ulong*)(e & 0x000FFFFFFFFFF000UL);
        }

        /// <summary>
        /// Unmaps the 4 KiB page holding <paramref name="address"/> if it is mapped through a page
        /// table (the first 2 MiB are); false if it sits in a 2 MiB page or is not mapped.
        /// </summary>
        public static bool UnmapSmallPage(ulong address)
        {
            ulong* pt = PageTableOf(address);
            if (pt == null) return false;
            pt[(address >> 12) & 511] = 0;
            Native.WriteCr3(Native.ReadCr3());
            return true;
        }

        /// <summary>
        /// Maps the 4 KiB page holding <paramref name="address"/> again (identity, writable) if it
        /// lies in a page table (the first 2 MiB); the inverse of <see cref="UnmapSmallPage"/>, for
        /// a short look at page 0 (the BIOS data area). False if there is no page table for it.
        /// </summary>
        public static bool MapSmallPage(ulong address)
        {
            ulong* pt = PageTableOf(address);
            if (pt == null) return false;
            pt[(address >> 12) & 511] = (address & ~0xFFFUL) | 0x3;
            Native.WriteCr3(Native.ReadCr3());
            return true;
        }

        /// <summary>
        /// Where the virtual memmap of a machine of several NUMA nodes starts (Linux's vmemmap): 256 GiB,
        /// entry 256 of the page directory pointer table, far above the identity map (at most 64 GiB).
        /// One page directory covers it: at most 1 GiB of descriptors (128 GiB of RAM).
        /// </summary>
        public const ulong VmemmapStart = 256 * GiB;
        public const ulong VmemmapMaxBytes = GiB;

        /// <summary>
        /// Hooks page directory <paramref name="pd"/> (a page whose entries the caller fills with page
        /// tables) in for [<see cref="VmemmapStart"/>, +1 GiB) and flushes the TLB. False when that
        /// slot is already taken.
        /// </summary>
        public static bool InstallVmemmapDirectory(ulong pd)
        {
            ulong* info = stackalloc ulong[4];
            PagingInfo(info);
            ulong* pdpt = (ulong*)info[1];
            ulong slot = VmemmapStart / GiB;
            if ((pdpt[slot] & 1) != 0) return false;
            pdpt[slot] = pd | 0x3;
            Native.WriteCr3(Native.ReadCr3());
            return true;
        }

        /// <summary>The physical address <paramref name="address"/> maps to, walking the page tables; false when it is not mapped.</summary>
        public static bool Translate(ulong address, out ulong physical)
        {
            const ulong AddressBits = 0x000FFFFFFFFFF000UL;
            physical = 0;
            ulong* pml4 = (ulong*)(Native.ReadCr3() & ~0xFFFUL);
            ulong e = pml4[(address >> 39) & 511];
            if ((e & 1) == 0) return false;
            e = ((ulong*)(e & AddressBits))[(address >> 30) & 511];
            if ((e & 1) == 0) return false;
            if ((e & 0x80) != 0) { physical = (e & AddressBits & ~(GiB - 1)) | (address & (GiB - 1)); return true; }
            e = ((ulong*)(e & AddressBits))[(address >> 21) & 511];
            if ((e & 1) == 0) return false;
            if ((e & 0x80) != 0) { physical = (e & AddressBits & ~((2UL << 20) - 1)) | (address & ((2UL << 20) - 1)); return true; }
            e = ((ulong*)(e & AddressBits))[(address >> 12) & 511];
            if ((e & 1) == 0) return false;
            physical = (e & AddressBits) | (address & 0xFFF);
            return true;
        }

        /// <summary>Is <paramref name="address"/> mapped (present) in the current page tables?</summary>
        public static bool IsMapped(ulong address)
        {
            ulong* pml4 = (ulong*)(Native.ReadCr3() & ~0xFFFUL);
            ulong e = pml4[(address >> 39) & 511];
            if ((e & 1) == 0) return false;
            e = ((ulong*)(e & 0x000FFFFFFFFFF000UL))[(address >> 30) & 511];
            if ((e & 1) == 0) return false;
            if ((e & 0x80) != 0) return true;
            e = ((ulong*)(e & 0x000FFFFFFFFFF000UL))[(address >> 21) & 511];
            if ((e & 1) == 0) return false;
            if ((e & 0x80) != 0) return true;
            e = ((ulong*)(e & 0x000FFFFFFFFFF000UL))[(address >> 12) & 511];
            return (e & 1) != 0;
        }
    }
}
