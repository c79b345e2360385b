using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;
using Kernel.Tests.Framework;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Workloads;

namespace Kernel.Tests
{
    /// <summary>
    /// Processes, kswapd and the OOM killer at work inside the kernel (Kernel.Proc over the buddy
    /// heap). The workloads run as scheduler tasks; this test (the shell task) sleeps so that they
    /// and kswapd get the CPU. To be quick at any memory size, a test first starts its programs,
    /// then takes every page above the low watermarks away in a "balloon" (buddy blocks held by the
    /// test, GFP_THISNODE so nothing reclaims for it), so the programs meet pressure at once; the
    /// balloon goes back at the end. Skipped when the buddy is not the heap (RAT image).
    ///
    /// The programs are sized from the swap device, a quarter of RAM (<see cref="Processes.SwapSegmentsFor"/>):
    /// what reclaim can move out of RAM is what the swap holds, so a test that must swap, or must
    /// fit in RAM + swap, takes a fraction of it, up to the sizes it had at 128 MiB. The suite runs
    /// wherever the kernel boots: at the kernel's minimum the swap is 1 MiB and the programs are
    /// a few hundred pages.
    /// </summary>
    public sealed unsafe class ProcSuite : TestSuite
    {
        public ProcSuite() : base("proc", AnyMemory, null)
        {
            Add("Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high", &Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high);
            Add("Swapped_out_pages_come_back_bit_exact", &Swapped_out_pages_come_back_bit_exact);
            Add("A_memhog_beyond_RAM_and_swap_ends_in_exactly_one_OOM_kill_of_the_highest_badness_process", &A_memhog_beyond_RAM_and_swap_ends_in_exactly_one_OOM_kill_of_the_highest_badness_process);
            Add("Kernel_allocations_under_pressure_oom_kill_the_highest_badness_memhog_whose_memory_is_reaped_before_it_runs", &Kernel_allocations_under_pressure_oom_kill_the_highest_badness_memhog_whose_memory_is_reaped_before_it_runs);
            Add("No_page_is_lost_after_every_process_exits", &No_page_is_lost_after_every_process_exits);
        }

        private const int BalloonCapacity = 8192;
        private static ulong[] s_balloonPfn;
        private static int[] s_balloonOrder;
        private static int s_balloonCount;

        private static bool Available(Assert a)
        {
            if (Processes.IsAvailable) return true;
            a.Skip(string.Concat("processes are not available: ", Processes.UnavailableReason));
            return false;
        }

        /// <summary>Takes every block the fast path still gives at the low watermark (largest first): free pages end at about low.</summary>
        private static void Inflate()
        {
            if (s_balloonPfn == null) { s_balloonPfn = new ulong[BalloonCapacity]; s_balloonOrder = new int[BalloonCapacity]; }
            PageAllocator pa = BuddyHeap.Allocator;
            TaskContext k = TaskContext.Kernel;
            for (int order = MmConstants.LargestOrder; order >= 0; order--)
            {
                while (s_balloonCount < BalloonCapacity)
                {
                    ulong pfn = pa.AllocPages(ref k, Gfp.GFP_THISNODE, order);
                    if (pfn == PageAllocator.NoPfn) break;
                    s_balloonPfn[s_balloonCount] = pfn;
                    s_balloonOrder[s_balloonCount] = order;
                    s_balloonCount++;
                }
            }
        }

        private static void Deflate()
        {
            PageAllocator pa = BuddyHeap.Allocator;
            while (s_balloonCount > 0)
            {
                s_balloonCount--;
                pa.FreePages(s_balloonPfn[s_balloonCount], s_balloonOrder[s_balloonCount], 0);
            }
        }

        /// <summary>
        /// Gives back balloon blocks until at least <paramref name="pages"/> pages are free again:
        /// of the highest populated zone first (the one GFP_KERNEL and user pages come from first;
        /// lower zones keep a lowmem reserve against them), then, on a machine whose top zone is
        /// small (below 64 MiB of RAM most of it is the boot tables and the swap), of the zones below.
        /// </summary>
        private static void DeflatePages(ulong pages)
        {
            PageAllocator pa = BuddyHeap.Allocator;
            ulong given = 0;
            for (int zone = MmConstants.MaxNrZones - 1; zone >= 0 && given < pages; zone--)
            {
                for (int i = s_balloonCount - 1; i >= 0 && given < pages; i--)
                {
                    if (pa.PfnToPage(s_balloonPfn[i])->Zone != zone) continue;
                    pa.FreePages(s_balloonPfn[i], s_balloonOrder[i], 0);
                    given += 1UL << s_balloonOrder[i];
                    s_balloonCount--;
                    s_balloonPfn[i] = s_balloonPfn[s_balloonCount];
                    s_balloonOrder[i] = s_balloonOrder[s_balloonCount];
                }
            }
        }

        /// <summary>Swap slots (pages) the swap device offers; each program below is a fraction of it.</summary>
        private static int SwapPages => (int)Processes.Vm.TotalSwapPages;

        private static int Min(int a, int b) => a < b ? a : b;

        private static bool HasSwap(Assert a)
        {
            if (Processes.Vm.Swap != null) return true;
            a.Skip(string.Concat("no swap device: ", Processes.NoSwapReason));
            return false;
        }

        private static Program Start(Assert a, WorkloadKind kind, int pages, int rate, int adj)
        {
            RunError e = Processes.Run(kind, pages, rate, adj, out Program p);
            a.Equal((long)RunError.None, (long)e, string.Concat("run ", Processes.KindName(kind)));
            return p;
        }

        private static void Stop(Assert a, Program p)
        {
            if (p == null || !p.Alive) return;
            Processes.Kill(p.Pid);
            a.True(Processes.WaitExit(p, 500), string.Concat(Processes.KindName(p.Work.Kind), " exits after kill"));
        }

        private static bool WaitKswapdAsleep(ulong ticks)
        {
            ulong end = Timer.Jiffies + ticks;
            while (Processes.Vm.Nodes[0].Kswapd.State != KswapdState.Sleeping && Timer.Jiffies < end) Scheduler.Sleep(1);
            return Processes.Vm.Nodes[0].Kswapd.State == KswapdState.Sleeping;
        }

        private static void Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high(Assert a)
        {
            if (!Available(a) || !HasSwap(a)) return;
            Vm vm = Processes.Vm;
            // kswapd swaps the cold pages out: they fit in half the swap; the hot program is a quarter of them.
            int coldPages = Min(2048, SwapPages / 2), hotPages = Min(512, coldPages / 4);
            a.True(WaitKswapdAsleep(100), "kswapd0 asleep before the test");
            ulong wakes = vm.Kswapd.Wakes, below = vm.Kswapd.WakesBelowLow, balanced = vm.Kswapd.StopsBalanced;
            ulong runs = vm.Pa.Stat.Pageoutrun, steal = vm.Pa.Stat.PgstealKswapd, scan = vm.Pa.Stat.PgscanKswapd;
            // Cold memory first (what kswapd will reclaim), then the balloon, then a second idle
            // program whose faults take every zone below low.
            Program cold = Start(a, WorkloadKind.Idle, coldPages, 1, 0);
            if (cold == null) return;
            ulong end = Timer.Jiffies + 100;
            while (cold.Work.Touched < cold.Work.Pages && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.Equal((long)cold.Work.Pages, (long)cold.Work.Touched, "the cold program touched all its pages");
            a.True(WaitKswapdAsleep(100), "kswapd0 asleep before the pressure");
            Inflate();
            Program p = Start(a, WorkloadKind.Idle, hotPages, 1, 0);
            if (p == null) { Stop(a, cold); Deflate(); return; }
            end = Timer.Jiffies + 400;
            while ((p.Work.Touched < p.Work.Pages || vm.Nodes[0].Kswapd.State != KswapdState.Sleeping) && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.Equal((long)p.Work.Pages, (long)p.Work.Touched, "the second idle program touched all its pages");
            a.True(vm.Kswapd.Wakes > wakes, "kswapd0 was woken");
            a.True(vm.Kswapd.WakesBelowLow > below, "woken with every eligible zone below its low watermark");
            a.True(vm.Kswapd.LastWake.Free <= vm.Kswapd.LastWake.Low, "the zone woken for had free <= low");
            a.True(vm.Pa.Stat.Pageoutrun > runs, "pageoutrun counted a balance_pgdat run");
            a.True(vm.Pa.Stat.PgscanKswapd > scan && vm.Pa.Stat.PgstealKswapd > steal, "kswapd scanned and reclaimed pages");
            a.True(vm.Kswapd.StopsBalanced > balanced, "kswapd stopped with the node balanced");
            a.True(vm.Kswapd.LastStop.Free > vm.Kswapd.LastStop.High, "at the stop a zone's free pages were above its high watermark");
            a.Equal((long)KswapdState.Sleeping, (long)vm.Nodes[0].Kswapd.State, "kswapd0 went back to sleep");
            Stop(a, p);
            Stop(a, cold);
            Deflate();
        }

        private static void Swapped_out_pages_come_back_bit_exact(Assert a)
        {
            if (!Available(a) || !HasSwap(a)) return;
            Vm vm = Processes.Vm;
            ulong pswpin = vm.Pa.Stat.Pswpin, pswpout = vm.Pa.Stat.Pswpout;
            // Above the balloon there is about a low watermark of RAM: the memhog lives mostly in
            // swap, so it is three quarters of the swap (16 MiB from 128 MiB of RAM on).
            Program p = Start(a, WorkloadKind.Memhog, Min(4096, SwapPages - SwapPages / 4), 256, 0);
            if (p == null) return;
            Inflate();
            ulong end = Timer.Jiffies + 1500;
            while (p.Alive && p.Work.Cursor < 2 * p.Work.Pages && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.True(p.Alive, "the memhog was not killed (it fits in RAM + swap)");
            a.True(p.Work.Cursor >= 2 * p.Work.Pages, "the memhog re-read its pages twice");
            a.True(vm.Pa.Stat.Pswpout > pswpout, "pages were swapped out");
            a.True(vm.Pa.Stat.Pswpin > pswpin && p.Work.SwapIns > 0, "pages were swapped back in");
            a.Equal(0UL, p.Work.Corruptions, "pages whose bytes differ from what the memhog wrote");
            Stop(a, p);
            Deflate();
        }

        private static void A_memhog_beyond_RAM_and_swap_ends_in_exactly_one_OOM_kill_of_the_highest_badness_process(Assert a)
        {
            if (!Available(a)) return;
            Vm vm = Processes.Vm;
            ulong kills = vm.Pa.Stat.OomKill;
            // The two survivors end up in swap next to the memhog's pages: a quarter and an eighth of it.
            Program keep = Start(a, WorkloadKind.Idle, Min(512, SwapPages / 4), 1, ProcessTable.OomScoreAdjMin);
            Program small = Start(a, WorkloadKind.Idle, Min(256, SwapPages / 8), 1, 0);
            int hogPages = (int)vm.TotalSwapPages + 4096;
            if (hogPages > Processes.VpagesPerProcess) hogPages = Processes.VpagesPerProcess;
            Program hog = Start(a, WorkloadKind.Memhog, hogPages, 512, 0);
            if (keep == null || small == null || hog == null) return;
            ConsoleSink.ClearCapture();
            Inflate();
            ulong end = Timer.Jiffies + 2000;
            while (hog.Alive && Timer.Jiffies < end) Scheduler.Sleep(1);
            Scheduler.Sleep(10);
            a.False(hog.Alive, "the memhog is gone");
            a.True(hog.OomKilled, "the memhog exited because the OOM killer chose it");
            a.Equal(kills + 1, vm.Pa.Stat.OomKill, "oom_kill counted exactly one kill");
            a.Equal((long)hog.Pid, (long)vm.Oom.LastVictim, "the victim is the memhog (highest oom_badness)");
            a.True(ConsoleSink.Captured("Out of memory: Killed process "), "Linux's 'Out of memory: Killed process' line on the console");
            a.True(keep.Alive && vm.Procs.Exists(keep.Pid), "the process at oom_score_adj -1000 survives");
            a.True(small.Alive && vm.Procs.Exists(small.Pid), "the small process survives");
            a.Equal(0L, vm.Oom.OomScore(keep.Pid), "oom_score of an oom_score_adj -1000 process");
            a.False(vm.Procs.Exists(hog.Pid), "the victim's process slot is released");
            Stop(a, keep);
            Stop(a, small);
            Deflate();
        }

        /// <summary>Bytes of one burst object: with its array header it fits kmalloc-8k, whose slabs are order 3 (the largest order the OOM killer serves).</summary>
        private const int BurstObjectBytes = 8000;

        /// <summary>RAM the memhogs of the burst test share (the balloon leaves them this much above low): 16 MiB, or a quarter of RAM below 64 MiB.</summary>
        private static int BurstHogRam => Min(4096, (int)(Processes.Vm.Pa.TotalManagedPages / 4));

        /// <summary>
        /// Two memhogs fill RAM (the balloon leaves them <see cref="BurstHogRam"/> pages of the
        /// top zone) and all but about BurstHogRam/2 pages of swap; then the test, without
        /// sleeping, allocates kernel objects (`new byte[8000]`, GFP_KERNEL | __GFP_HIGH) until one
        /// of them has OOM-killed (reclaim had nothing left to give), and then half of what the
        /// big memhog held in RAM more. The kill takes the big memhog; the oom_reaper frees its
        /// memory at once, so the burst succeeds although the victim has not run since (its rss is
        /// 0 and its task is still alive when the burst ends). Exactly one kill; then everything
        /// is freed and exits, and no page is lost. (A swapped-out page is no RAM: killing a
        /// process whose pages are all in swap would free no heap memory.)
        /// </summary>
        private static void Kernel_allocations_under_pressure_oom_kill_the_highest_badness_memhog_whose_memory_is_reaped_before_it_runs(Assert a)
        {
            if (!Available(a) || !HasSwap(a)) return;
            if (BuddyHeap.Mode != BuddyHeapMode.Heap)
            {
                // The kernel's objects come from the image's own heap, which lent the page allocator its pages: they never meet the OOM killer.
                a.Skip(string.Concat("kernel allocations come from the '", Heap.Name, "' heap, not from the page allocator the processes use (docs/plugs.md)"));
                return;
            }
            Vm vm = Processes.Vm;
            PageAllocator pa = vm.Pa;
            ulong kills = pa.Stat.OomKill, reaped = vm.OomReaper.Reaped;
            int swapPages = (int)vm.TotalSwapPages;
            // The burst's bookkeeping is allocated before the pressure: at most swap + 2 x BurstHogRam pages, 2 pages per object.
            int capacity = (swapPages + 2 * BurstHogRam) / 2 + 16;
            // References, not raw addresses: a `new` that fails short of the OOM killer runs the
            // collector first (docs/exceptions.md), which would take objects only a raw address names.
            object[] burst = new object[capacity];
            int hogPages = swapPages + BurstHogRam / 2;
            Program keep = Start(a, WorkloadKind.Idle, Min(256, swapPages / 8), 1, ProcessTable.OomScoreAdjMin);
            Program big = Start(a, WorkloadKind.Memhog, hogPages * 2 / 3, 512, 0);
            Program small = Start(a, WorkloadKind.Memhog, hogPages / 3, 512, 0);
            if (keep == null || big == null || small == null) { Stop(a, keep); Stop(a, big); Stop(a, small); return; }
            Inflate();
            DeflatePages((ulong)BurstHogRam);
            ulong end = Timer.Jiffies + 2000;
            while ((big.Work.Touched < big.Work.Pages || small.Work.Touched < small.Work.Pages || keep.Work.Touched < keep.Work.Pages)
                   && big.Alive && small.Alive && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.True(big.Alive && small.Alive, "the memhogs fit in RAM + swap");
            a.Equal((long)big.Work.Pages, (long)big.Work.Touched, "the big memhog touched all its pages");
            a.Equal((long)small.Work.Pages, (long)small.Work.Touched, "the small memhog touched all its pages");
            a.Equal(kills, pa.Stat.OomKill, "no OOM kill while the memhogs fill memory");
            if (!big.Alive || !small.Alive) { Stop(a, keep); Stop(a, big); Stop(a, small); Deflate(); return; }   // nothing left to burst against

            // Until the kill, then half the big memhog's RAM more (objects of 2 pages each:
            // kmalloc-8k has 4 objects per order-3 slab): far less than the kill gives back.
            ulong bigRss = vm.Procs.Get(big.Pid).RssAnon;
            a.True(bigRss >= (ulong)BurstHogRam / 4, "the big memhog holds RAM (a quarter of what the balloon left)");
            ConsoleSink.ClearCapture();
            ulong waitsInHeap = Processes.CongestionWaitsInHeap;
            ulong ticks = Timer.Jiffies;
            int made = 0, count = capacity, killedAt = -1;
            for (; made < count; made++)
            {
                byte[] o = new byte[BurstObjectBytes];   // never null: out of memory would panic the kernel
                o[made % BurstObjectBytes] = 1;
                burst[made] = o;
                if (killedAt < 0 && pa.Stat.OomKill != kills)
                {
                    killedAt = made;
                    int more = made + 1 + (int)(bigRss / 4);
                    if (more < count) count = more;
                }
            }
            // Nothing has run since the burst began (no sleep inside a heap allocation).
            bool victimExists = vm.Procs.Exists(big.Pid);
            ulong victimRss = victimExists ? vm.Procs.Get(big.Pid).RssAnon : 1;
            ulong victimSwap = victimExists ? vm.Procs.Get(big.Pid).SwapEnts : 1;
            bool victimSkipped = victimExists && (vm.Procs.Get(big.Pid).Flags & TaskFlags.OomSkip) != 0;
            bool victimAlive = big.Alive;
            bool reaperLine = ConsoleSink.Captured("oom_reaper: reaped process ") && ConsoleSink.Captured(", now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB");
            bool killLine = ConsoleSink.Captured("Out of memory: Killed process ");
            bool header = ConsoleSink.Captured("swapper invoked oom-killer: gfp_mask=0x");
            ulong inHeap = Processes.CongestionWaitsInHeap - waitsInHeap;
            bool noTick = Timer.Jiffies - ticks < 1000;
            ulong refused = 0;
            for (int i = 0; i < made; i++)
            {
                if (Heap.Free((byte*)ObjectModel.AddressOf(burst[i]) - 8) != HeapFreeResult.Ok) refused++;   // the allocation starts 8 bytes before the reference
                burst[i] = null;
            }
            Heap.Free((byte*)ObjectModel.AddressOf(burst) - 8);
            a.Equal(0UL, refused, "every burst object freed");

            a.True(killedAt >= 0, "a kernel allocation of the burst OOM-killed");
            a.Equal((long)count, (long)made, "every kernel allocation of the burst succeeded");
            a.Equal(kills + 1, pa.Stat.OomKill, "exactly one OOM kill");
            a.Equal((long)big.Pid, (long)vm.Oom.LastVictim, "the victim is the big memhog (highest oom_badness)");
            a.Equal(reaped + 1, vm.OomReaper.Reaped, "the oom_reaper reaped one process");
            a.True(header && killLine, "the kernel's allocation invoked the OOM killer ('swapper invoked oom-killer', 'Killed process')");
            a.True(reaperLine, "Linux's 'oom_reaper: reaped process ..., now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB' line");
            a.True(victimExists && victimAlive, "the victim had not run (its task and process still existed after the burst)");
            a.Equal(0UL, victimRss, "the victim's anon rss right after the kill");
            a.Equal(0UL, victimSwap, "the victim's swap entries right after the kill");
            a.True(victimSkipped, "the victim is marked MMF_OOM_SKIP");
            a.True(inHeap > 0 || pa.Stat.OomKill > kills, "the burst went down the slow path");
            a.True(noTick, "the burst finished");

            a.True(Processes.WaitExit(big, 500), "the victim exits when it next runs");
            a.True(big.OomKilled, "it exited because of the OOM kill");
            a.True(keep.Alive && small.Alive, "the -1000 process and the small memhog survive");
            a.Equal(0UL, small.Work.Corruptions + big.Work.Corruptions, "pages whose bytes differ from what the memhogs wrote");
            Stop(a, small);
            Stop(a, keep);
            Deflate();
            Scheduler.Sleep(2);
            a.True(vm.Census.CheckNoPageLost(BuddyHeap.Log), "Vm.Census.CheckNoPageLost (its report is on the console)");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "PageAllocator.CheckInvariants");
            a.Equal(vm.TotalSwapPages, vm.Swap.FreeSlots, "every swap slot is free again");
        }

        private static void No_page_is_lost_after_every_process_exits(Assert a)
        {
            if (!Available(a)) return;
            Vm vm = Processes.Vm;
            PageAllocator pa = vm.Pa;
            Scheduler.Sleep(2);
            ulong before = pa.NrFreePages + pa.PcpPages;
            ulong cachedBefore = vm.PageCache.NrFilePages;
            // Together (the leaker takes its rate for 40 ticks) they fit in RAM: the sizes they had
            // at 128 MiB, or fractions of a quarter of RAM below that.
            int quarter = (int)(pa.TotalManagedPages / 4), readerPages = Min(256, quarter / 4);
            Program hog = Start(a, WorkloadKind.Memhog, Min(2048, quarter), 256, 0);
            Program idle = Start(a, WorkloadKind.Idle, Min(512, quarter / 4), 1, 0);
            Program leak = Start(a, WorkloadKind.Leaker, Processes.VpagesPerProcess, Min(64, quarter / 32), 0);
            Program read = Start(a, WorkloadKind.Reader, readerPages, 64, 0);
            Scheduler.Sleep(40);
            a.True(hog != null && hog.Work.Touched > 0 && leak != null && leak.Work.Touched > 0, "the programs ran");
            a.Equal(0UL, read == null ? 1UL : read.Work.Corruptions, "the reader's file pages held their bytes");
            Stop(a, hog); Stop(a, idle); Stop(a, leak); Stop(a, read);
            Scheduler.Sleep(2);   // the last task's stack is freed by the next task to run
            a.True(vm.Census.CheckNoPageLost(BuddyHeap.Log), "Vm.Census.CheckNoPageLost (its report is on the console)");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "PageAllocator.CheckInvariants");
            ulong after = pa.NrFreePages + pa.PcpPages;
            ulong cached = vm.PageCache.NrFilePages - cachedBefore;   // the page cache outlives its reader
            ulong disk = 1;                                  // the file's disk (one buddy block), kept for the next reader (if new)
            while (disk < (ulong)readerPages) disk *= 2;
            a.True(after + cached + disk + 32 >= before, "free pages came back (allowing for the page cache, the file's disk and kept slabs)");
            a.True(after <= before + 32, "no more free pages than before");
            for (int s = 0; s < vm.Procs.Capacity; s++)
            {
                ref Process t = ref vm.Procs.At(s);
                if (t.State == ProcessState.Unused || t.Pid == ProcessTable.InitPid || (t.Flags & TaskFlags.KernelThread) != 0) continue;
                a.Fail("a program's process is still in the table");
            }
        }
    }
}
