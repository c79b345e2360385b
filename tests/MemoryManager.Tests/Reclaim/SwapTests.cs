using System.Runtime.InteropServices;
using MemoryManager;
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
