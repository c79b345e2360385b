using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>
    /// Exit, the oom_reaper, reclaim's shrink lists and slab shrinking give pages back in batches
    /// (PageBatch + PageAllocator.FreePagesBulk): the allocator must end exactly where the same
    /// frees one page at a time leave it.
    /// </summary>
    public unsafe class BatchedTeardownTests
    {
        /// <summary>Two processes whose anonymous pages interleave on the LRU and in memory; some of a's pages swapped out by reclaim.</summary>
        private static (int a, int b) TwoInterleaved(Rig r)
        {
            int a = r.Spawn("a"), b = r.Spawn("b");
            for (int v = 0; v < 1500; v++)
            {
                r.TouchAnon(a, 1, v);
                if (v % 3 == 0) r.TouchAnon(b, 1, v);
            }
            r.Reclaim();   // a few pages to swap, so exit also frees swap slots
            return (a, b);
        }

        [Fact]
        public void Exit_in_batches_leaves_the_allocator_byte_for_byte_as_unmapping_page_by_page_then_exiting()
        {
            using var batched = new Rig();
            using var single = new Rig();
            var (a1, _) = TwoInterleaved(batched);
            var (a2, _) = TwoInterleaved(single);
            Assert.Equal(single.M.Snapshot(), batched.M.Snapshot());
            Assert.True(batched.Process(a1).SwapEnts > 0, "reclaim swapped some of a's pages out");

            Assert.Equal(ProcResult.Ok, batched.Vm.Memory.ExitProcess(a1));
            for (int v = 0; v < single.Vm.Procs.VpagesPerProcess; v++) single.Vm.Memory.Unmap(a2, v);
            Assert.Equal(ProcResult.Ok, single.Vm.Memory.ExitProcess(a2));

            Assert.Equal(single.M.Snapshot(), batched.M.Snapshot());
            Assert.Equal(single.Swap.FreeSlots, batched.Swap.FreeSlots);
            Assert.Equal(single.Vm.Nodes[0].Lru.Total, batched.Vm.Nodes[0].Lru.Total);
            batched.M.AssertInvariants();
            batched.AssertNoPageLost();
        }

        [Fact]
        public void The_oom_reaper_frees_every_page_of_the_victim_on_the_lru_and_its_swap_in_batches()
        {
            using var r = new Rig();
            var (a, b) = TwoInterleaved(r);
            ulong rss = r.Process(a).RssAnon, swap = r.Process(a).SwapEnts;
            ulong free = r.Pa.NrFreePages + r.Pa.PcpPages;
            ulong bRss = r.Process(b).RssAnon;
            Assert.Equal(ProcResult.Ok, r.Vm.OomReaper.Reap(a, out ulong freed));
            Assert.Equal(rss + swap, freed);
            Assert.Equal(0UL, r.Process(a).RssAnon);
            Assert.Equal(0UL, r.Process(a).SwapEnts);
            Assert.Equal(free + rss, r.Pa.NrFreePages + r.Pa.PcpPages);
            Assert.Equal(bRss, r.Process(b).RssAnon);   // the other process keeps everything
            r.M.AssertInvariants();
            r.AssertNoPageLost();
        }
    }
}
