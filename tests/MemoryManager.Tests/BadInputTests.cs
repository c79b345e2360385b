using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// Bad input is refused with its MmResult and a "BUG: Bad page state" message, and the
    /// allocator's state is unchanged byte for byte (memmap, zones, counters), invariants intact.
    /// </summary>
    public unsafe class BadInputTests
    {
        private static void AssertRefused(Machine m, MmResult expected, ulong pfn, int order, int pid, string reason)
        {
            byte[] before = m.Snapshot();
            m.Log.Clear();
            Assert.Equal(expected, m.Pa.FreePages(pfn, order, pid));
            Assert.Equal(before, m.Snapshot());
            Assert.StartsWith("BUG: Bad page state: pfn:0x", m.Log.ToString());
            Assert.Contains(reason, m.Log.ToString());
            m.AssertInvariants();
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Double_free_of_a_single_page_is_refused(bool pcp)
        {
            using var m = Flat(64 * MiB, pcp: pcp);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            AssertRefused(m, MmResult.DoubleFree, pfn, 0, m.Task.Pid, "double free");
        }

        [Fact]
        public void Double_free_of_a_block_that_merged_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 3);
            Assert.Equal(MmResult.Ok, m.Free(pfn, 3));
            AssertRefused(m, MmResult.DoubleFree, pfn, 3, m.Task.Pid, "double free");
            AssertRefused(m, MmResult.DoubleFree, pfn + 1, 0, m.Task.Pid, "double free");   // inside a free block
        }

        [Fact]
        public void A_pfn_outside_the_memory_map_is_refused()
        {
            using var m = Flat(64 * MiB, start: 1 * MiB);
            AssertRefused(m, MmResult.PfnOutOfRange, 64 * MiB / 4096 + 256, 0, m.Task.Pid, "outside the memory map");
            AssertRefused(m, MmResult.PfnOutOfRange, 0, 0, m.Task.Pid, "outside the memory map");
        }

        [Fact]
        public void Holes_and_reserved_pages_are_not_managed_and_are_refused()
        {
            var map = new MemoryMap();
            map.Add(0, 4 * MiB);
            map.Add(8 * MiB, 56 * MiB);
            map.Reserve(8 * MiB, 1 * MiB);   // kernel image
            using var m = new Machine(map, new AllocatorOptions());
            AssertRefused(m, MmResult.NotManaged, 5 * MiB / 4096, 0, m.Task.Pid, "hole or reserved");
            AssertRefused(m, MmResult.NotManaged, 8 * MiB / 4096, 0, m.Task.Pid, "hole or reserved");
        }

        [Fact]
        public void A_pfn_misaligned_for_its_order_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 2);
            AssertRefused(m, MmResult.Misaligned, pfn + 1, 1, m.Task.Pid, "not aligned");
            Assert.Equal(MmResult.Ok, m.Free(pfn, 2));
        }

        [Fact]
        public void Freeing_with_the_wrong_order_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 2);
            AssertRefused(m, MmResult.WrongOrder, pfn, 1, m.Task.Pid, "block order:2");
            AssertRefused(m, MmResult.WrongOrder, pfn, 0, m.Task.Pid, "another order");
            Assert.Equal(MmResult.Ok, m.Free(pfn, 2));
        }

        [Fact]
        public void Order_11_and_above_is_refused_on_free()
        {
            using var m = Flat(64 * MiB);
            AssertRefused(m, MmResult.BadOrder, 0, MmConstants.MaxOrder, m.Task.Pid, "MAX_ORDER");
            AssertRefused(m, MmResult.BadOrder, 0, -1, m.Task.Pid, "MAX_ORDER");
        }

        [Fact]
        public void Freeing_another_owners_page_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            AssertRefused(m, MmResult.NotOwner, pfn, 0, 999, "owner:100");
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
        }

        [Fact]
        public void Freeing_a_tail_page_of_an_allocated_block_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 2);
            AssertRefused(m, MmResult.NotHead, pfn + 1, 0, m.Task.Pid, "tail page");
            AssertRefused(m, MmResult.NotHead, pfn + 2, 1, m.Task.Pid, "tail page");
            Assert.Equal(MmResult.Ok, m.Free(pfn, 2));
        }

        [Fact]
        public void Freeing_a_page_still_on_an_LRU_list_is_refused()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Pa.PfnToPage(pfn)->Flags |= PageFlags.Lru;
            AssertRefused(m, MmResult.BadPageState, pfn, 0, m.Task.Pid, "lru");
            m.Pa.PfnToPage(pfn)->Flags &= ~PageFlags.Lru;
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
        }

        [Fact]
        public void A_page_with_an_extra_reference_only_loses_that_reference()
        {
            using var m = Flat(64 * MiB, pcp: false);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            m.Pa.PfnToPage(pfn)->RefCount = 2;   // get_page
            ulong free = m.Pa.NrFreePages;
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            Assert.Equal(free, m.Pa.NrFreePages);
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            Assert.Equal(free + 1, m.Pa.NrFreePages);
            m.AssertInvariants();
        }

        [Fact]
        public void Set_owner_recharges_an_allocated_block_and_refuses_a_free_one()
        {
            using var m = Flat(64 * MiB);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 1);
            Assert.Equal(MmResult.Ok, m.Pa.SetOwner(pfn, 1, 7));
            Assert.Equal(MmResult.NotOwner, m.Free(pfn, 1));
            Assert.Equal(MmResult.Ok, m.Pa.FreePages(pfn, 1, 7));
            byte[] before = m.Snapshot();
            Assert.Equal(MmResult.DoubleFree, m.Pa.SetOwner(pfn, 1, 7));
            Assert.Equal(before, m.Snapshot());
        }

        [Fact]
        public void Free_pages_are_poisoned_when_real_memory_is_behind_them()
        {
            using var m = Flat(4 * MiB, pcp: false, realMemory: true);
            m.Pa.SetMinFreeKbytes(0);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            byte* b = m.Pa.PageAddress(pfn);
            for (int i = 0; i < 4096; i++) b[i] = 1;
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            for (int i = 0; i < 4096; i++) Assert.Equal(PageAllocator.PagePoison, b[i]);
            m.AssertInvariants();
        }

        [Fact]
        public void A_write_after_free_breaks_the_poison_and_is_reported_by_the_checker_and_on_allocation()
        {
            using var m = Flat(4 * MiB, pcp: false, realMemory: true);
            m.Pa.SetMinFreeKbytes(0);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            byte* b = m.Pa.PageAddress(pfn);
            Assert.Equal(MmResult.Ok, m.Free(pfn, 0));
            b[0x123] = 7;   // use after free
            Assert.Contains("free page poison overwritten", m.Invariants());
            Assert.Equal(pfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Contains("use after free) at offset 0x123", m.Log.ToString());
            Assert.Equal(1UL, m.Pa.Stat.PoisonCorrupted);
            m.AssertInvariants();
        }
    }
}
