using System;
using Kernel.Hal;
using Kernel.Proc;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>The boot loader's memory map as parsed at boot, and the page tables built from it.</summary>
    public sealed unsafe class MemoryMapSuite : TestSuite
    {
        public MemoryMapSuite() : base("memmap", AnyMemory, null)
        {
            Add("The_loader_reports_a_memory_map", &The_loader_reports_a_memory_map);
            Add("Regions_are_sorted_and_do_not_overlap", &Regions_are_sorted_and_do_not_overlap);
            Add("The_kernel_image_lies_in_usable_memory", &The_kernel_image_lies_in_usable_memory);
            Add("The_boot_information_block_lies_above_the_kernel_start", &The_boot_information_block_lies_above_the_kernel_start);
            Add("Every_usable_region_is_mapped", &Every_usable_region_is_mapped);
            Add("The_highest_usable_page_is_writable", &The_highest_usable_page_is_writable);
        }

        private static void The_loader_reports_a_memory_map(Assert a)
        {
            a.True(BootInfo.Protocol != BootProtocol.Unknown, "multiboot protocol recognised");
            a.InRange((ulong)BootInfo.RegionCount, 2, BootInfo.MaxRegions, "region count");
            // The kernel stops at boot below its minimum, so any machine that runs this has at least that much.
            a.InRange(BootInfo.RamMiB, MemoryNeeds.MinimumMiB, 1UL << 20, "RAM in MiB (usable, rounded up)");
            a.InRange(BootInfo.UsableBytes, (BootInfo.RamMiB - 1) << 20, BootInfo.RamMiB << 20, "usable bytes within the machine's last MiB");
        }

        private static void Regions_are_sorted_and_do_not_overlap(Assert a)
        {
            for (int i = 1; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion previous = BootInfo.Region(i - 1), current = BootInfo.Region(i);
                if (current.Base < previous.End && previous.Type == MemoryRegionType.Usable && current.Type == MemoryRegionType.Usable)
                    a.Fail(string.Concat("usable region ", i.ToString(), " overlaps the one before"));
                if (current.Base < previous.Base) a.Fail(string.Concat("region ", i.ToString(), " is out of order"));
            }
            a.True(BootInfo.Region(0).Base < 0x100000, "the first region is low memory");
        }

        private static void The_kernel_image_lies_in_usable_memory(Assert a)
        {
            bool inside = false;
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type == MemoryRegionType.Usable && r.Base <= BootInfo.KernelStart && BootInfo.KernelEnd <= r.End) inside = true;
            }
            a.True(inside, "kernel [start, end) inside one usable region");
            a.Equal(0x100000UL, BootInfo.KernelStart, "kernel load address");
        }

        private static void The_boot_information_block_lies_above_the_kernel_start(Assert a)
        {
            a.True(BootInfo.InfoEnd > BootInfo.InfoStart, "the block is not empty");
            a.True(BootInfo.InfoStart != 0, "the block has an address");
        }

        private static void Every_usable_region_is_mapped(Assert a)
        {
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type != MemoryRegionType.Usable) continue;
                ulong first = r.Base < 0x1000 ? 0x1000 : r.Base;
                if (!Paging.IsMapped(first) || !Paging.IsMapped(r.End - 1))
                    a.Fail(string.Concat("usable region at ", Number.FormatHex(r.Base, 1), " is not mapped"));
            }
            a.True(Paging.MappedLimit >= BootInfo.HighestRamAddress, "mapped limit covers the highest RAM address");
            a.Equal(0UL, Paging.UnmappedRam, "RAM left unmapped");
        }

        private static void The_highest_usable_page_is_writable(Assert a)
        {
            ulong top = 0;
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type == MemoryRegionType.Usable && r.End > top) top = r.End;
            }
            ulong* probe = (ulong*)(top - 8);
            ulong saved = *probe;
            *probe = 0x5A5A_1234_C3C3_9876UL;
            ulong read = *probe;
            *probe = saved;
            a.Equal(0x5A5A_1234_C3C3_9876UL, read, string.Concat("word at ", Number.FormatHex(top - 8, 1)));
        }
    }
}
