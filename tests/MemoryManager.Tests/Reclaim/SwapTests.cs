using System.Runtime.InteropServices;
using MemoryManager;
using MemoryManager.Core;
using MemoryManager.Swap;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public unsafe class SwapTests
    {
        [Fact]
        public void A_page_written_to_a_slot_reads_back_bit_exact()
        {
            byte* storage = (byte*)NativeMemory.AllocZeroed((nuint)RamSwapDevice.StorageBytes(8));
            byte* page = (byte*)NativeMemory.AllocZeroed(4096), back = (byte*)NativeMemory.AllocZeroed(4096);
            try
            {
                RamSwapDevice.Create(storage, 8, out RamSwapDevice dev);
                Rig.Fill(page, 0xDEADBEEF);
                Assert.True(dev.GetSwapPage(out ulong slot));
                Assert.Equal(MmResult.Ok, dev.WritePage(slot, page));
                Assert.Equal(MmResult.Ok, dev.ReadPage(slot, back));
                Assert.True(Rig.Holds(back, 0xDEADBEEF));
            }
            finally { NativeMemory.Free(storage); NativeMemory.Free(page); NativeMemory.Free(back); }
        }

        [Fact]
        public void A_segmented_device_keeps_each_slot_in_its_own_segment_bit_exact()
        {
            // Three segments of 4 slots: slot 5 lives at page 1 of segment 1.
            byte* a = (byte*)NativeMemory.AllocZeroed(4 * 4096), b = (byte*)NativeMemory.AllocZeroed(4 * 4096), c = (byte*)NativeMemory.AllocZeroed(4 * 4096);
            byte* page = (byte*)NativeMemory.AllocZeroed(4096), back = (byte*)NativeMemory.AllocZeroed(4096);
            ulong* segments = stackalloc ulong[3] { (ulong)a, (ulong)b, (ulong)c };
            try
            {
                Assert.Equal(MmResult.Ok, RamSwapDevice.CreateSegmented(segments, 3, 4, out RamSwapDevice dev));
                Assert.Equal(12UL, dev.Slots);
                Assert.Equal(11UL, dev.FreeSlots);
                ulong slot = 0;
                for (int i = 0; i < 5; i++) Assert.True(dev.GetSwapPage(out slot));
                Assert.Equal(5UL, slot);
                Rig.Fill(page, 0xFEEDFACE);
                Assert.Equal(MmResult.Ok, dev.WritePage(slot, page));
                Assert.True(Rig.Holds(b + 4096, 0xFEEDFACE), "slot 5 is page 1 of segment 1");
                Assert.Equal(MmResult.Ok, dev.ReadPage(slot, back));
                Assert.True(Rig.Holds(back, 0xFEEDFACE));
            }
            finally { NativeMemory.Free(a); NativeMemory.Free(b); NativeMemory.Free(c); NativeMemory.Free(page); NativeMemory.Free(back); }
        }

        [Fact]
        public void A_segmented_device_refuses_missing_segments_and_too_few_slots()
        {
            ulong* segments = stackalloc ulong[2] { 0x1000, 0 };
            Assert.Equal(MmResult.BadArgument, RamSwapDevice.CreateSegmented(segments, 2, 4, out _));
            Assert.Equal(MmResult.BadArgument, RamSwapDevice.CreateSegmented(segments, 1, 1, out _));
            Assert.Equal(MmResult.BadArgument, RamSwapDevice.CreateSegmented(null, 1, 4, out _));
            Assert.Equal(MmResult.Ok, RamSwapDevice.CreateSegmented(segments, 1, 4, out _));
        }

        [Fact]
        public void A_slot_is_free_again_only_when_its_swap_count_drops_to_zero()
        {
            RamSwapDevice.Create(null, 4, out RamSwapDevice dev);
            Assert.True(dev.GetSwapPage(out ulong slot));
            Assert.Equal(MmResult.Ok, dev.SwapDuplicate(slot));
            Assert.Equal(2, dev.SwapCount(slot));
            Assert.Equal(2UL, dev.FreeSlots);
            Assert.Equal(MmResult.Ok, dev.SwapFree(slot));
            Assert.Equal(1, dev.SwapCount(slot));
            Assert.Equal(2UL, dev.FreeSlots);
            Assert.Equal(MmResult.Ok, dev.SwapFree(slot));
            Assert.Equal(0, dev.SwapCount(slot));
            Assert.Equal(3UL, dev.FreeSlots);
        }

        [Fact]
        public void Freeing_a_free_slot_is_refused_and_changes_nothing()
        {
            RamSwapDevice.Create(null, 4, out RamSwapDevice dev);
            Assert.Equal(MmResult.DoubleFree, dev.SwapFree(1));
            Assert.Equal(MmResult.DoubleFree, dev.SwapFree(99));
            Assert.Equal(3UL, dev.FreeSlots);
            Assert.Equal(MmResult.BadArgument, dev.WritePage(1, null));
            Assert.Equal(MmResult.BadArgument, dev.SwapDuplicate(1));
        }

        [Fact]
        public void Get_swap_page_fails_when_every_slot_is_used_and_slot_zero_is_never_handed_out()
        {
            RamSwapDevice.Create(null, 4, out RamSwapDevice dev);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(dev.GetSwapPage(out ulong slot));
                Assert.NotEqual(0UL, slot);
            }
            Assert.False(dev.GetSwapPage(out _));
            Assert.Equal(0UL, dev.FreeSlots);
        }

        [Fact]
        public void The_swap_count_stops_at_swap_map_max()
        {
            RamSwapDevice.Create(null, 2, out RamSwapDevice dev);
            dev.GetSwapPage(out ulong slot);
            for (int i = 1; i < RamSwapDevice.SwapMapMax; i++) Assert.Equal(MmResult.Ok, dev.SwapDuplicate(slot));
            Assert.Equal(MmResult.BadArgument, dev.SwapDuplicate(slot));
            Assert.Equal(RamSwapDevice.SwapMapMax, dev.SwapCount(slot));
        }

        [Fact]
        public void A_device_needs_at_least_two_slots()
        {
            Assert.Equal(MmResult.BadArgument, RamSwapDevice.Create(null, 1, out _));
        }
    }
}
