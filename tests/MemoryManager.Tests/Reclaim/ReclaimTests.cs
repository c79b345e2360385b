using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Reclaim;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public unsafe class ReclaimTests
    {
        private static ScanControl Sc(ulong nr = 32) => new ScanControl
        {
            NrToReclaim = nr, Priority = Vmscan.DefPriority, MayWritepage = true, MaySwap = true,
        };

        [Fact]
        public void Reclaim_takes_file_pages_before_anon_pages()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            int f = r.File(100);
            r.TouchAnon(p, 100);
            r.Read(p, f, 0, 100);
            ScanControl sc = Sc();
            r.Vm.Vmscan.ShrinkNode(0, ref sc);
            Assert.Equal(32UL, sc.NrReclaimed);
            Assert.Equal(100UL, r.Process(p).RssAnon);
            Assert.Equal(0UL, r.Process(p).SwapEnts);
            Assert.Equal(68UL, r.Vm.PageCache.File(f).NrCached);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Reclaim_takes_inactive_pages_before_active_ones()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            int f = r.File(64);
            r.Read(p, f, 0, 64);
            r.Read(p, f, 0, 32);
            r.Read(p, f, 0, 32);                       // pages 0..31 now active
            Assert.Equal(32UL, r.Vm.Nodes[0].Lru.Size(LruList.ActiveFile));
            ScanControl sc = Sc();
            r.Vm.Vmscan.ShrinkNode(0, ref sc);
            Assert.Equal(32UL, sc.NrReclaimed);
            for (int i = 0; i < 32; i++) Assert.NotEqual(PageAllocator.NoPfn, r.Vm.PageCache.FindGetPage(f, i));
            for (int i = 32; i < 64; i++) Assert.Equal(PageAllocator.NoPfn, r.Vm.PageCache.FindGetPage(f, i));
        }

        [Fact]
        public void A_referenced_inactive_page_is_activated_instead_of_reclaimed()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            int f = r.File(8);
            r.Read(p, f, 0, 8);                        // page 0 is the oldest: at the tail
            r.Read(p, f, 0, 1);                        // page 0 gets PG_referenced
            ScanControl sc = Sc(7);
            r.Vm.Vmscan.ShrinkNode(0, ref sc);
            Assert.Equal(7UL, sc.NrReclaimed);
            Assert.NotEqual(PageAllocator.NoPfn, r.Vm.PageCache.FindGetPage(f, 0));
        }

        [Fact]
        public void Aging_deactivates_unreferenced_active_pages_and_keeps_referenced_ones_active()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 40);                        // all active, unreferenced; page 0 at the tail
            r.TouchAnon(p, 10);                        // pages 0..9 get PG_referenced
            ScanControl sc = Sc();
            r.Vm.Vmscan.ShrinkNode(0, ref sc);
            // The active scan takes the 32 oldest (0..31): 0..9 rotate back to the active head,
            // 10..31 move to the inactive list, where they are reclaimed to swap.
            Assert.Equal(22UL, sc.NrReclaimed);
            for (int v = 0; v < 40; v++)
            {
                bool swapped = Pte.IsSwap(r.Vm.Procs.ReadPte(p, v));
                Assert.True(swapped == (v >= 10 && v < 32), $"page {v}: swapped={swapped}");
            }
            Assert.Equal(18UL, r.Vm.Nodes[0].Lru.Size(LruList.ActiveAnon));
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_dirty_file_page_is_written_back_before_it_is_freed()
        {
            using var r = new Rig();
            int p = r.Spawn("writer");
            int f = r.File(4);
            r.Vm.PageCache.WriteFilePage(p, f, 2, out byte* data);
            Rig.Fill(data, 4242);
            Assert.False(Rig.Holds(r.FileBacking(2), 4242));
            r.Reclaim();
            Assert.Equal(PageAllocator.NoPfn, r.Vm.PageCache.FindGetPage(f, 2));
            Assert.True(Rig.Holds(r.FileBacking(2), 4242));
            Assert.Equal(1UL, r.Vm.PageCache.File(f).NrWritten);
            Assert.Equal(ProcResult.Ok, r.Vm.PageCache.ReadFilePage(p, f, 2, out byte* again));
            Assert.True(Rig.Holds(again, 4242));
        }

        [Fact]
        public void Without_gfp_fs_dirty_file_pages_stay_in_the_cache()
        {
            using var r = new Rig();
            int p = r.Spawn("writer");
            int f = r.File(4);
            for (int i = 0; i < 4; i++) r.Vm.PageCache.WriteFilePage(p, f, i, out _);
            Assert.Equal(0UL, r.Reclaim(Gfp.GFP_NOFS));
            Assert.Equal(4UL, r.Vm.PageCache.File(f).NrCached);
            Assert.Equal(4UL, r.Reclaim(Gfp.GFP_KERNEL));
        }

        [Fact]
        public void Without_gfp_io_anon_pages_are_not_swapped()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 64);
            Assert.Equal(0UL, r.Reclaim(Gfp.GFP_NOIO));
            Assert.Equal(64UL, r.Process(p).RssAnon);
        }

        [Fact]
        public void Anon_pages_go_to_swap_only_while_it_has_room()
        {
            using var r = new Rig(swapSlots: 4);                 // 3 usable slots
            int p = r.Spawn("p");
            r.TouchAnon(p, 64);
            ulong total = 0;
            for (int i = 0; i < 5; i++) total += r.Reclaim();
            Assert.Equal(3UL, total);
            Assert.Equal(3UL, r.Process(p).SwapEnts);
            Assert.Equal(61UL, r.Process(p).RssAnon);
            Assert.Equal(0UL, r.Reclaim());
            r.AssertNoPageLost();
        }

        [Fact]
        public void Without_a_swap_device_anon_pages_are_never_reclaimed()
        {
            using var r = new Rig(swapSlots: 0);
            int p = r.Spawn("p");
            r.TouchAnon(p, 64);
            Assert.Equal(0UL, r.Reclaim());
            Assert.Equal(64UL, r.Process(p).RssAnon);
        }

        [Fact]
        public void A_process_touching_its_swapped_out_page_faults_it_back_bit_exact()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 64);
            while (r.Process(p).SwapEnts < 64) Assert.True(r.Reclaim() > 0);
            Assert.Equal(0UL, r.Process(p).RssAnon);
            ulong pswpin = r.Pa.Stat.Pswpin;
            for (int v = 0; v < 64; v++)
            {
                Assert.True(Pte.IsSwap(r.Vm.Procs.ReadPte(p, v)));
                Assert.Equal(ProcResult.Ok, r.Vm.Memory.TouchAnon(p, v, false, out byte* data));
                Assert.True(Rig.Holds(data, Rig.Seed(p, v)), $"page {v} changed in swap");
            }
            Assert.Equal(pswpin + 64, r.Pa.Stat.Pswpin);
            Assert.Equal(0UL, r.Process(p).SwapEnts);
            Assert.Equal(r.Swap.Slots - 1, r.Swap.FreeSlots);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Try_to_free_pages_reports_the_pages_it_reclaimed()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            int f = r.File(100);
            r.Read(p, f, 0, 100);
            ulong free = r.Pa.NrFreePages;
            ulong got = r.Reclaim();
            Assert.Equal((ulong)Vmscan.SwapClusterMax, got);
            Assert.Equal(free + got, r.Pa.NrFreePages);
            Assert.Equal(got, r.Pa.Stat.PgstealDirect);
            Assert.True(r.Pa.Stat.PgscanDirect >= got);
        }

        [Fact]
        public void Pages_charged_to_a_process_cannot_be_freed_by_another()
        {
            using var r = new Rig();
            int a = r.Spawn("a"), b = r.Spawn("b");
            r.TouchAnon(a, 1);
            ulong pfn = Pte.Pfn(r.Vm.Procs.ReadPte(a, 0));
            Assert.Equal(a, r.Pa.PfnToPage(pfn)->Owner);
            Assert.Equal(MmResult.NotOwner, r.Pa.FreePages(pfn, 0, b));
            Assert.True(Pte.IsPresent(r.Vm.Procs.ReadPte(a, 0)));
            Assert.Equal(ProcResult.Ok, r.Vm.Memory.Unmap(b, 0));       // b's own (empty) entry: a's page untouched
            Assert.Equal(1UL, r.Process(a).RssAnon);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Page_table_pages_are_charged_to_the_process_one_per_512_virtual_pages()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 1);
            Assert.Equal(1UL, r.Process(p).NrPtes);
            r.TouchAnon(p, 1, from: 511);
            Assert.Equal(1UL, r.Process(p).NrPtes);
            r.TouchAnon(p, 1, from: 512);
            Assert.Equal(2UL, r.Process(p).NrPtes);
        }

        [Fact]
        public void A_fault_outside_the_software_page_table_is_refused()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            Assert.Equal(ProcResult.AddressOutOfRange, r.Vm.Memory.TouchAnon(p, r.Vm.Procs.VpagesPerProcess, true, out _));
            Assert.Equal(ProcResult.AddressOutOfRange, r.Vm.Memory.TouchAnon(p, -1, true, out _));
        }

        [Fact]
        public void Exit_frees_every_page_swap_slot_and_page_table_page_of_the_process()
        {
            using var r = new Rig();
            ulong free0 = r.Pa.NrFreePages;
            int p = r.Spawn("p");
            r.TouchAnon(p, 600);
            r.Reclaim();
            Assert.True(r.Process(p).SwapEnts > 0);
            Assert.Equal(ProcResult.Ok, r.Vm.Memory.ExitProcess(p));
            Assert.False(r.Vm.Procs.Exists(p));
            Assert.Equal(free0, r.Pa.NrFreePages);
            Assert.Equal(r.Swap.Slots - 1, r.Swap.FreeSlots);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Exit_leaves_page_cache_pages_cached_and_charged_to_the_kernel()
        {
            using var r = new Rig();
            int p = r.Spawn("reader");
            int f = r.File(10);
            r.Read(p, f, 0, 10);
            r.Vm.Memory.ExitProcess(p);
            Assert.Equal(10UL, r.Vm.PageCache.File(f).NrCached);
            Assert.Equal(0, r.Pa.PfnToPage(r.Vm.PageCache.FindGetPage(f, 0))->Owner);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Init_and_kernel_threads_do_not_exit()
        {
            using var r = new Rig();
            Assert.NotEqual(ProcResult.Ok, r.Vm.Memory.ExitProcess(ProcessTable.InitPid));
            Assert.NotEqual(ProcResult.Ok, r.Vm.Memory.ExitProcess(r.Vm.Nodes[0].Kswapd.Pid));
        }

        [Fact]
        public void The_scan_target_is_the_list_size_shifted_by_priority_but_at_least_a_cluster()
        {
            Assert.Equal(32UL, Vmscan.ScanTarget(1000, 12));
            Assert.Equal(10UL, Vmscan.ScanTarget(10, 12));
            Assert.Equal(1UL << 8, Vmscan.ScanTarget(1UL << 20, 12));
            Assert.Equal(1000UL, Vmscan.ScanTarget(1000, 0));
        }
    }
}
