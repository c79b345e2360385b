using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;
using Kernel.Tests.Framework;
using MemoryManager;

namespace Kernel.Tests
{
    /// <summary>
    /// Processes, kswapd and the OOM killer at work inside the kernel (Kernel.Proc over the buddy
    /// heap). The workloads run as scheduler tasks; this test (the shell task) sleeps so that they
    /// and kswapd get the CPU. To be quick at any memory size, a test first starts its programs,
    /// then takes every page above the low watermarks away in a "balloon" (buddy blocks held by the
    /// test, GFP_THISNODE so nothing reclaims for it), so the programs meet pressure at once; the
    /// balloon goes back at the end. Skipped when the buddy is not the heap (RAT image).
    /// </summary>
    public sealed unsafe class ProcSuite : TestSuite
    {
        public ProcSuite() : base("proc")
        {
            Add("Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high", &Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high);
            Add("Swapped_out_pages_come_back_bit_exact", &Swapped_out_pages_come_back_bit_exact);
            Add("A_memhog_beyond_RAM_and_swap_ends_in_exactly_one_OOM_kill_of_the_highest_badness_process", &A_memhog_beyond_RAM_and_swap_ends_in_exactly_one_OOM_kill_of_the_highest_badness_process);
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
            for (int order = BuddyHeap.MaxOrder; order >= 0; order--)
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
            while (Processes.Vm.Kswapd(0).State != KswapdState.Sleeping && Timer.Jiffies < end) Scheduler.Sleep(1);
            return Processes.Vm.Kswapd(0).State == KswapdState.Sleeping;
        }

        private static void Kswapd_wakes_when_every_zone_is_below_low_and_sleeps_once_a_zone_is_at_high(Assert a)
        {
            if (!Available(a)) return;
            Vm vm = Processes.Vm;
            a.True(WaitKswapdAsleep(100), "kswapd0 asleep before the test");
            ulong wakes = Processes.KswapdWakes, below = Processes.KswapdWakesBelowLow, balanced = Processes.KswapdStopsBalanced;
            ulong runs = vm.Pa.Stat.Pageoutrun, steal = vm.Pa.Stat.PgstealKswapd, scan = vm.Pa.Stat.PgscanKswapd;
            // Cold memory first (what kswapd will reclaim), then the balloon, then a second idle
            // program whose faults take every zone below low.
            Program cold = Start(a, WorkloadKind.Idle, 2048, 1, 0);
            if (cold == null) return;
            ulong end = Timer.Jiffies + 100;
            while (cold.Work.Touched < cold.Work.Pages && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.Equal((long)cold.Work.Pages, (long)cold.Work.Touched, "the cold program touched all its pages");
            a.True(WaitKswapdAsleep(100), "kswapd0 asleep before the pressure");
            Inflate();
            Program p = Start(a, WorkloadKind.Idle, 512, 1, 0);
            if (p == null) { Stop(a, cold); Deflate(); return; }
            end = Timer.Jiffies + 400;
            while ((p.Work.Touched < p.Work.Pages || vm.Kswapd(0).State != KswapdState.Sleeping) && Timer.Jiffies < end) Scheduler.Sleep(1);
            a.Equal((long)p.Work.Pages, (long)p.Work.Touched, "the second idle program touched all its pages");
            a.True(Processes.KswapdWakes > wakes, "kswapd0 was woken");
            a.True(Processes.KswapdWakesBelowLow > below, "woken with every eligible zone below its low watermark");
            a.True(Processes.LastWakeFree <= Processes.LastWakeLow, "the zone woken for had free <= low");
            a.True(vm.Pa.Stat.Pageoutrun > runs, "pageoutrun counted a balance_pgdat run");
            a.True(vm.Pa.Stat.PgscanKswapd > scan && vm.Pa.Stat.PgstealKswapd > steal, "kswapd scanned and reclaimed pages");
            a.True(Processes.KswapdStopsBalanced > balanced, "kswapd stopped with the node balanced");
            a.True(Processes.LastStopFree > Processes.LastStopHigh, "at the stop a zone's free pages were above its high watermark");
            a.Equal((long)KswapdState.Sleeping, (long)vm.Kswapd(0).State, "kswapd0 went back to sleep");
            Stop(a, p);
            Stop(a, cold);
            Deflate();
        }

        private static void Swapped_out_pages_come_back_bit_exact(Assert a)
        {
            if (!Available(a)) return;
            Vm vm = Processes.Vm;
            ulong pswpin = vm.Pa.Stat.Pswpin, pswpout = vm.Pa.Stat.Pswpout;
            Program p = Start(a, WorkloadKind.Memhog, 4096, 256, 0);
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
            Program keep = Start(a, WorkloadKind.Idle, 512, 1, ProcessTable.OomScoreAdjMin);
            Program small = Start(a, WorkloadKind.Idle, 256, 1, 0);
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
            a.Equal((long)hog.Pid, (long)vm.LastOomVictim, "the victim is the memhog (highest oom_badness)");
            a.True(ConsoleSink.Captured("Out of memory: Killed process "), "Linux's 'Out of memory: Killed process' line on the console");
            a.True(keep.Alive && vm.Procs.Exists(keep.Pid), "the process at oom_score_adj -1000 survives");
            a.True(small.Alive && vm.Procs.Exists(small.Pid), "the small process survives");
            a.Equal(0L, vm.OomScore(keep.Pid), "oom_score of an oom_score_adj -1000 process");
            a.False(vm.Procs.Exists(hog.Pid), "the victim's process slot is released");
            Stop(a, keep);
            Stop(a, small);
            Deflate();
        }

        private static void No_page_is_lost_after_every_process_exits(Assert a)
        {
            if (!Available(a)) return;
            Vm vm = Processes.Vm;
            PageAllocator pa = vm.Pa;
            Scheduler.Sleep(2);
            ulong before = pa.NrFreePages + pa.PcpPages;
            ulong cachedBefore = vm.NrFilePages;
            Program hog = Start(a, WorkloadKind.Memhog, 2048, 256, 0);
            Program idle = Start(a, WorkloadKind.Idle, 512, 1, 0);
            Program leak = Start(a, WorkloadKind.Leaker, Processes.VpagesPerProcess, 64, 0);
            Program read = Start(a, WorkloadKind.Reader, 256, 64, 0);
            Scheduler.Sleep(40);
            a.True(hog != null && hog.Work.Touched > 0 && leak != null && leak.Work.Touched > 0, "the programs ran");
            a.Equal(0UL, read == null ? 1UL : read.Work.Corruptions, "the reader's file pages held their bytes");
            Stop(a, hog); Stop(a, idle); Stop(a, leak); Stop(a, read);
            Scheduler.Sleep(2);   // the last task's stack is freed by the next task to run
            a.True(vm.CheckNoPageLost(BuddyHeap.Log), "Vm.CheckNoPageLost (its report is on the console)");
            a.True(pa.CheckInvariants(BuddyHeap.Log), "PageAllocator.CheckInvariants");
            ulong after = pa.NrFreePages + pa.PcpPages;
            ulong cached = vm.NrFilePages - cachedBefore;   // the page cache outlives its reader
            ulong disk = 256;                                // the file's disk, kept for the next reader (if new)
            a.True(after + cached + disk + 32 >= before, "free pages came back (allowing for the page cache, the file's disk and kept slabs)");
            a.True(after <= before + 32, "no more free pages than before");
            for (int s = 0; s < vm.Procs.Capacity; s++)
            {
                ref MemoryManager.Task t = ref vm.Procs.At(s);
                if (t.State == MemoryManager.TaskState.Unused || t.Pid == Vm.InitPid || (t.Flags & TaskFlags.KernelThread) != 0) continue;
                a.Fail("a program's process is still in the table");
            }
        }
    }
}
