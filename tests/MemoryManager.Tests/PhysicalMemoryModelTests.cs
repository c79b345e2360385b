using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    public unsafe class PhysicalMemoryModelTests
    {
        [Fact]
        public void A_page_descriptor_is_at_most_32_bytes()
        {
            Assert.True(sizeof(Page) <= 32, "sizeof(Page) = " + sizeof(Page));
        }

        [Fact]
        public void Zones_follow_the_x86_64_limits_DMA_below_16MiB_DMA32_below_4GiB_Normal_above()
        {
            using var m = Flat(6 * GiB);
            Assert.Equal(0UL, m.Zone(ZoneType.Dma).ZoneStartPfn);
            Assert.Equal(4096UL, m.Zone(ZoneType.Dma).SpannedPages);
            Assert.Equal(4096UL, m.Zone(ZoneType.Dma32).ZoneStartPfn);
            Assert.Equal((4 * GiB - 16 * MiB) / 4096, m.Zone(ZoneType.Dma32).SpannedPages);
            Assert.Equal(4 * GiB / 4096, m.Zone(ZoneType.Normal).ZoneStartPfn);
            Assert.Equal(2 * GiB / 4096, m.Zone(ZoneType.Normal).PresentPages);
            m.AssertInvariants();
        }

        [Fact]
        public void Holes_count_as_spanned_but_not_present_and_reserved_ranges_as_present_but_not_managed()
        {
            var map = new MemoryMap();
            map.Add(0x1000, 636 * KiB);                 // low memory below the EBDA, first page left out
            map.Add(1 * MiB, 127 * MiB);                // the rest up to 128 MiB
            map.Reserve(1 * MiB, 2 * MiB);              // kernel image
            using var m = new Machine(map, new AllocatorOptions());
            ref Zone dma = ref m.Zone(ZoneType.Dma);
            Assert.Equal(1UL, dma.ZoneStartPfn);
            Assert.Equal(4096UL - 1, dma.SpannedPages);
            Assert.Equal(159UL + (16 * MiB - 1 * MiB) / 4096, dma.PresentPages);
            Assert.Equal(dma.PresentPages - 512, dma.ManagedPages);
            Assert.Equal((128 * MiB - 16 * MiB) / 4096, m.Zone(ZoneType.Dma32).ManagedPages);
            Assert.False(m.Pa.HasZone(0, ZoneType.Normal));
            Assert.Equal(dma.ManagedPages + m.Zone(ZoneType.Dma32).ManagedPages, m.Pa.TotalManagedPages);
            Assert.Equal(m.Pa.TotalManagedPages, m.Pa.NrFreePages);
            m.AssertInvariants();
        }

        [Fact]
        public void Pages_in_holes_and_reserved_ranges_are_PG_reserved()
        {
            var map = new MemoryMap();
            map.Add(0, 4 * MiB);
            map.Add(8 * MiB, 8 * MiB);
            map.Reserve(9 * MiB, 4096);
            using var m = new Machine(map, new AllocatorOptions());
            Assert.True((m.Pa.PfnToPage(5 * MiB / 4096)->Flags & PageFlags.Reserved) != 0);
            Assert.True((m.Pa.PfnToPage(9 * MiB / 4096)->Flags & PageFlags.Reserved) != 0);
            Assert.False((m.Pa.PfnToPage(9 * MiB / 4096 + 1)->Flags & PageFlags.Reserved) != 0);
        }

        [Fact]
        public void Sixty_four_GiB_are_modelled_with_descriptors_only()
        {
            using var m = Flat(64 * GiB);
            Assert.Equal(64 * GiB / 4096, m.Pa.TotalManagedPages);
            Assert.False(m.Pa.HasPhysicalMemory);
            Assert.True(m.Pa.PageAddress(0) == null);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 10);
            Assert.True(pfn >= 4 * GiB / 4096, "GFP_KERNEL prefers ZONE_NORMAL");
            Assert.Equal(MmResult.Ok, m.Free(pfn, 10));
        }

        [Fact]
        public void Initialisation_frees_whole_MAX_ORDER_blocks()
        {
            using var m = Flat(64 * MiB);
            ref Zone dma32 = ref m.Zone(ZoneType.Dma32);
            Assert.Equal(48UL * MiB / (4 * MiB), dma32.NrFreeBlocks(10));
            for (int o = 0; o < 10; o++) Assert.Equal(0UL, dma32.NrFreeBlocks(o));
        }

        [Fact]
        public void Memory_map_refuses_overlapping_or_empty_ranges()
        {
            var map = new MemoryMap(4);
            Assert.Equal(MmResult.Ok, map.Add(0, 1 * MiB));
            Assert.Equal(MmResult.BadArgument, map.Add(512 * KiB, 1 * MiB));
            Assert.Equal(MmResult.BadArgument, map.Add(4 * MiB, 0));
            Assert.Equal(MmResult.BadArgument, map.Add(4 * MiB, 4096, PageAllocator.MaxNodes));
            Assert.Equal(MmResult.Ok, map.Add(2 * MiB, 1 * MiB));
            Assert.Equal(MmResult.Ok, map.Add(4 * MiB, 1 * MiB));
            Assert.Equal(MmResult.Ok, map.Add(6 * MiB, 1 * MiB));
            Assert.Equal(MmResult.TableFull, map.Add(8 * MiB, 1 * MiB));
        }

        [Fact]
        public void Create_refuses_an_empty_map_and_a_null_memmap()
        {
            var empty = new MemoryMap();
            Assert.Equal(MmResult.BadArgument, PageAllocator.Create(empty, (Page*)8, null, new AllocatorOptions(), out _));
            var map = new MemoryMap();
            map.Add(0, 1 * MiB);
            Assert.Equal(MmResult.BadArgument, PageAllocator.Create(map, null, null, new AllocatorOptions(), out _));
            Assert.Equal(MmResult.BadArgument, PageAllocator.Create(map, (Page*)8, null, new AllocatorOptions { PoisonFreePages = true }, out _));
        }
    
        [Fact]
        public void An_identity_mapped_kernel_has_page_contents_at_their_physical_address()
        {
            var map = new MemoryMap();
            map.Add(1 * MiB, 8 * MiB);
            using var m = new Machine(map, new AllocatorOptions { IdentityMapped = true });
            Assert.True(m.Pa.HasPhysicalMemory);
            Assert.True(m.Pa.PageAddress(0x123) == (byte*)(0x123UL * 4096));   // compared, never touched
            Assert.True(m.Pa.PageAddress(0) == null);                           // outside the map
        }
    }
}
