using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// __alloc_pages and the slow-path ladder, one rule per test. The machine: 8 MiB of ZONE_DMA
    /// (2048 pages), no per-cpu lists, min_free_kbytes 1024 so min = 256, low = 320, high = 384.
    /// </summary>
    public sealed class SlowPathTests : System.IDisposable
    {
        private const long Min = 256, Low = 320, High = 384;
        private readonly Machine m = Flat(8 * MiB, pcp: false, minFreeKbytes: 1024);
        private readonly KswapdDouble kswapd = new();
        private readonly ReclaimDouble reclaim = new();
        private readonly OomDouble oom = new();
        private readonly CongestionDouble congestion = new();
        private readonly List<(ulong pfn, int order)> held = new();

        public SlowPathTests()
        {
            m.Pa.Kswapd = kswapd; m.Pa.DirectReclaim = reclaim; m.Pa.OomKiller = oom; m.Pa.Congestion = congestion;
        }

        public void Dispose()
        {
            m.AssertInvariants();
            m.Dispose();
        }

        private ref Zone Dma => ref m.Zone(ZoneType.Dma);

        [Fact]
        public void The_test_machine_has_the_expected_watermarks()
        {
            Assert.Equal(Min, Dma.WatermarkMin);
            Assert.Equal(Low, Dma.WatermarkLow);
            Assert.Equal(High, Dma.WatermarkHigh);
        }

        [Fact]
        public void Fast_path_allocates_above_the_low_watermark_without_waking_kswapd()
        {
            m.DrainZoneTo(ZoneType.Dma, Low + 1, held);
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Empty(kswapd.Calls);
            Assert.Equal(0, reclaim.Calls);
        }

        [Fact]
        public void At_the_low_watermark_the_slow_path_wakes_kswapd_for_every_zone_of_the_zonelist()
        {
            using var two = Flat(64 * MiB, pcp: false);   // DMA and DMA32
            var k = new KswapdDouble();
            two.Pa.Kswapd = k;
            var h = new List<(ulong, int)>();
            two.DrainZoneTo(ZoneType.Dma32, two.Zone(ZoneType.Dma32).WatermarkLow, h);
            two.DrainZoneTo(ZoneType.Dma, two.Zone(ZoneType.Dma).WatermarkLow, h);
            Assert.NotEqual(PageAllocator.NoPfn, two.Alloc(Gfp.GFP_KERNEL, 2));
            Assert.Equal(new[] { (0, ZoneType.Dma32, 2, ZoneType.Dma32), (0, ZoneType.Dma, 2, ZoneType.Dma32) }, k.Calls.ToArray());
            two.AssertInvariants();
        }

        [Fact]
        public void GFP_NO_KSWAPD_allocations_do_not_wake_kswapd()
        {
            m.DrainZoneTo(ZoneType.Dma, Low, held);
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoKswapd, 0));
            Assert.Empty(kswapd.Calls);
        }

        [Fact]
        public void GFP_THISNODE_fails_below_the_low_watermark_without_kswapd_reclaim_or_report()
        {
            m.DrainZoneTo(ZoneType.Dma, Low, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.GFP_THISNODE, 0));
            Assert.Empty(kswapd.Calls);
            Assert.Equal(0, reclaim.Calls);
            Assert.Equal("", m.Log.ToString());
        }

        [Fact]
        public void Below_the_low_watermark_the_slow_path_allocates_down_to_the_min_watermark()
        {
            m.DrainZoneTo(ZoneType.Dma, Min + 1, held);
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Single(kswapd.Calls);
            Assert.Equal(0, reclaim.Calls);
            Assert.Equal(Min, Dma.NrFree);
        }

        [Fact]
        public void Slow_path_alloc_flags_are_WMARK_MIN_plus_HARDER_HIGH_and_CPUSET_by_the_seed_rules()
        {
            var normal = new TaskContext(1, "t", TaskFlags.None);
            var rt = new TaskContext(2, "rt", TaskFlags.RealTime);
            var rtIrq = rt; rtIrq.InInterrupt = true;
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.Cpuset, PageAllocator.GfpToAllocFlags(ref normal, Gfp.GFP_KERNEL));
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.Harder | AllocFlags.High, PageAllocator.GfpToAllocFlags(ref normal, Gfp.GFP_ATOMIC));
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.Harder, PageAllocator.GfpToAllocFlags(ref normal, Gfp.GFP_NOWAIT));
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.Harder | AllocFlags.Cpuset, PageAllocator.GfpToAllocFlags(ref rt, Gfp.GFP_KERNEL));
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.Cpuset, PageAllocator.GfpToAllocFlags(ref rtIrq, Gfp.GFP_KERNEL));
            Assert.Equal(AllocFlags.WmarkMin | AllocFlags.High | AllocFlags.Cpuset, PageAllocator.GfpToAllocFlags(ref normal, Gfp.GFP_KERNEL | Gfp.High));
        }

        [Fact]
        public void Atomic_allocation_may_dip_below_min_watermark()
        {
            // ALLOC_HIGH halves min (128), ALLOC_HARDER takes a quarter more (96).
            m.DrainZoneTo(ZoneType.Dma, 97, held);
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_ATOMIC, 0));
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_ATOMIC, 0));
            Assert.Equal(0, reclaim.Calls);
        }

        [Fact]
        public void A_caller_that_cannot_wait_gets_ALLOC_HARDER_a_quarter_below_min()
        {
            m.DrainZoneTo(ZoneType.Dma, 193, held);   // min - min/4 = 192
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_NOWAIT, 0));
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_NOWAIT, 0));
        }

        [Fact]
        public void A_real_time_task_gets_ALLOC_HARDER_but_not_in_interrupt()
        {
            m.DrainZoneTo(ZoneType.Dma, 200, held);
            m.Task.Flags = TaskFlags.RealTime;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, reclaim.Calls);
            m.Task.InInterrupt = true;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoRetry, 0));
            Assert.Equal(1, reclaim.Calls);
        }

        [Fact]
        public void PF_MEMALLOC_task_ignores_the_watermarks()
        {
            m.DrainZoneTo(ZoneType.Dma, 1, held);
            m.Task.Flags = TaskFlags.MemAlloc;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, Dma.NrFree);
            Assert.Equal(0, reclaim.Calls);
        }

        [Fact]
        public void TIF_MEMDIE_OOM_victim_ignores_the_watermarks_so_it_can_exit()
        {
            m.DrainZoneTo(ZoneType.Dma, 1, held);
            m.Task.Flags = TaskFlags.MemDie;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, reclaim.Calls);
        }

        [Fact]
        public void PF_MEMALLOC_in_interrupt_gets_no_access_to_the_reserves()
        {
            m.DrainZoneTo(ZoneType.Dma, 50, held);
            m.Task.Flags = TaskFlags.MemAlloc;
            m.Task.InInterrupt = true;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_ATOMIC, 0));
        }

        [Fact]
        public void GFP_NOMEMALLOC_forbids_the_reserves_and_fails_without_reclaim()
        {
            m.DrainZoneTo(ZoneType.Dma, 50, held);
            m.Task.Flags = TaskFlags.MemAlloc;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoMemalloc, 0));
            Assert.Equal(0, reclaim.Calls);
        }

        [Fact]
        public void PF_MEMALLOC_task_never_recurses_into_direct_reclaim_when_the_reserves_are_empty()
        {
            m.DrainZoneTo(ZoneType.Dma, 0, held);
            m.Task.Flags = TaskFlags.MemAlloc;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, reclaim.Calls);
            Assert.Equal(0, oom.Calls);
        }

        [Fact]
        public void GFP_NOFAIL_with_the_reserves_empty_waits_for_congestion_until_pages_come_back()
        {
            m.DrainZoneTo(ZoneType.Dma, 0, held);
            m.Task.Flags = TaskFlags.MemAlloc;
            congestion.Action = n => { if (n == 3) m.Release(held, 1); };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoFail, 0));
            Assert.Equal(3, congestion.Calls);
            Assert.All(congestion.Ticks, t => Assert.Equal(2u, t));   // HZ/50 with HZ = 100
        }

        [Fact]
        public void Atomic_allocation_fails_without_direct_reclaim()
        {
            m.DrainZoneTo(ZoneType.Dma, 50, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_ATOMIC, 0));
            Assert.Equal(0, reclaim.Calls);
            Assert.Equal(0, oom.Calls);
            Assert.Single(kswapd.Calls);
        }

        [Fact]
        public void Direct_reclaim_runs_under_PF_MEMALLOC_and_clears_it_afterwards()
        {
            m.DrainZoneTo(ZoneType.Dma, Min, held);
            reclaim.Action = n => { m.Release(held, 10); return 10; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(TaskFlags.MemAlloc, reclaim.FlagsSeen[0] & TaskFlags.MemAlloc);
            Assert.Equal(TaskFlags.None, m.Task.Flags & TaskFlags.MemAlloc);
            Assert.Equal(1UL, m.Pa.Stat.Allocstall);
        }

        [Fact]
        public void Entering_direct_reclaim_is_an_allocation_stall_told_to_the_event_hook()
        {
            var events = new EventsDouble();
            m.Pa.Events = events;
            m.DrainZoneTo(ZoneType.Dma, Min, held);
            reclaim.Action = n => { m.Release(held, 10); return 10; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Zero, 0));
            AllocStall s = Assert.Single(events.Stalls);
            Assert.Equal(m.Task.Pid, s.Pid);
            Assert.Equal(m.Task.Comm, s.Comm);
            Assert.Equal(0, s.Order);
            Assert.Equal(Gfp.GFP_KERNEL | Gfp.Zero, s.Gfp);
            Assert.Equal(1UL, m.Pa.Stat.Allocstall);
        }

        [Fact]
        public void Direct_reclaim_progress_retries_at_the_same_flags()
        {
            m.DrainZoneTo(ZoneType.Dma, Min, held);
            reclaim.Action = n => { m.Release(held, 1); return 1; };   // min + 1: enough for WMARK_MIN, not for LOW
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, reclaim.Calls);
            Assert.Equal(0, oom.Calls);
            Assert.Equal(0, congestion.Calls);
        }

        [Fact]
        public void Direct_reclaim_drains_the_per_cpu_lists_before_giving_up()
        {
            var map = new MemoryMap();
            map.Add(16 * MiB, 64 * MiB);   // DMA32 only: batch 3, high 18
            using var p = new Machine(map, new AllocatorOptions { MinFreeKbytesOverride = 1024 });
            var r = new ReclaimDouble();
            p.Pa.DirectReclaim = r;
            var h = new List<(ulong, int)>();
            ref Zone z = ref p.Zone(ZoneType.Dma32);
            p.DrainZoneTo(ZoneType.Dma32, z.WatermarkMin - 10, h);
            r.Action = n => { p.Release(h, 15); return 15; };   // the freed pages land on the per-cpu list
            Assert.NotEqual(PageAllocator.NoPfn, p.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, r.Calls);
            p.AssertInvariants();
        }

        [Fact]
        public void Reclaim_progress_without_a_page_waits_for_congestion_and_climbs_again()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n == 3) m.Release(held, 200); return 5; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(3, reclaim.Calls);
            Assert.Equal(2, congestion.Calls);
            Assert.Equal(0, oom.Calls);
            Assert.Single(kswapd.Calls);   // the climb restarts at rebalance, not at the kswapd wake-up
        }

        [Fact]
        public void No_progress_with_GFP_FS_calls_the_OOM_killer_then_restarts()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            oom.Action = n => { m.Release(held, 300); return true; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, oom.Calls);
            Assert.Equal((Gfp.GFP_KERNEL, 0, ZoneType.Normal), oom.Args[0]);
            Assert.Equal(2, kswapd.Calls.Count);   // restart wakes kswapd again
        }

        [Fact]
        public void Before_killing_the_allocator_tries_once_more_at_the_high_watermark()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            // Reclaim reports no progress, but a parallel OOM kill has just freed plenty.
            reclaim.Action = n => { m.Release(held, 400); return 0; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, oom.Calls);
        }

        [Fact]
        public void The_high_watermark_try_does_not_succeed_between_min_and_high()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n == 1) m.Release(held, 200); return 0; };   // 300: above min, below high
            oom.Action = n => true;
            congestion.Action = n => { };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, oom.Calls);   // the high try failed, the OOM killer ran, the restart at WMARK_MIN succeeded
        }

        [Fact]
        public void The_OOM_killer_is_not_called_for_costly_orders()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, MmConstants.CostlyOrder + 1));
            Assert.Equal(0, oom.Calls);
            Assert.Equal(1, reclaim.Calls);
        }

        [Fact]
        public void The_OOM_killer_is_not_called_for_allocations_limited_below_ZONE_NORMAL()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma, 0));
            Assert.Equal(0, oom.Calls);
        }

        [Fact]
        public void The_OOM_killer_is_not_called_for_GFP_THISNODE_without_NORETRY()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.ThisNode, 0));
            Assert.Equal(0, oom.Calls);
            Assert.Equal(1, reclaim.Calls);
        }

        [Fact]
        public void GFP_NOFAIL_overrides_the_OOM_exclusions()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            oom.Action = n => { m.Release(held, 400); return true; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma | Gfp.NoFail, 4));
            Assert.Equal(1, oom.Calls);
        }

        [Fact]
        public void Only_one_OOM_kill_at_a_time_per_zonelist()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            ulong inner = PageAllocator.NoPfn;
            oom.Action = n =>
            {
                // While this kill is in progress another task allocates and finds the OOM lock taken.
                var other = new TaskContext(200, "other", TaskFlags.None);
                inner = m.Pa.AllocPages(ref other, Gfp.GFP_KERNEL, 0);
                return true;
            };
            congestion.Action = n => m.Release(held, 300);   // the other task sleeps a tick; memory comes back
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.NotEqual(PageAllocator.NoPfn, inner);
            Assert.Equal(1, oom.Calls);
            Assert.Equal(new uint[] { 1 }, congestion.Ticks.ToArray());
            Assert.Equal(MmResult.Ok, m.Pa.FreePages(inner, 0, 200));
        }

        [Fact]
        public void An_allocation_that_finds_the_OOM_lock_taken_and_cannot_wait_fails_instead_of_spinning()
        {
            m.Pa.Congestion = null;
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            ulong inner = 0;
            oom.Action = n =>
            {
                if (n == 1)
                {
                    var other = new TaskContext(200, "other", TaskFlags.None);
                    inner = m.Pa.AllocPages(ref other, Gfp.GFP_KERNEL | Gfp.NoWarn, 0);
                }
                m.Release(held, 300);
                return true;
            };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(PageAllocator.NoPfn, inner);
            Assert.Equal(1, oom.Calls);
        }

        [Fact]
        public void GFP_NOFS_never_calls_the_OOM_killer_and_retries_small_orders()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            // Writeback completes during the 4th wait; the 5th reclaim finds those pages (progress).
            congestion.Action = n => { if (n == 4) m.Release(held, 200); };
            reclaim.Action = n => n >= 5 ? 200UL : 0UL;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_NOFS, 0));
            Assert.Equal(0, oom.Calls);
            Assert.Equal(4, congestion.Calls);
            Assert.Equal(5, reclaim.Calls);
        }

        [Fact]
        public void GFP_NORETRY_fails_after_one_round_of_direct_reclaim()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => 5;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoRetry, 0));
            Assert.Equal(1, reclaim.Calls);
            Assert.Equal(0, oom.Calls);
            Assert.Equal(0, congestion.Calls);
        }

        [Fact]
        public void Costly_orders_are_not_retried_without_GFP_REPEAT()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => 5;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 4));
            Assert.Equal(1, reclaim.Calls);
            Assert.Equal(0, congestion.Calls);
        }

        [Fact]
        public void GFP_REPEAT_retries_costly_orders()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n == 3) m.Release(held, 600); return 5; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Repeat, 4));
            Assert.Equal(3, reclaim.Calls);
            Assert.Equal(2, congestion.Calls);
        }

        [Fact]
        public void GFP_NOFAIL_retries_costly_orders()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n == 2) m.Release(held, 600); return 5; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoFail, 4));
            Assert.Equal(2, reclaim.Calls);
        }

        [Fact]
        public void The_retry_rule_follows_the_seed_NORETRY_first_then_order_up_to_3_REPEAT_or_NOFAIL()
        {
            Assert.True(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL, 3));
            Assert.False(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL, 4));
            Assert.True(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL | Gfp.Repeat, 9));
            Assert.True(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL | Gfp.NoFail, 9));
            Assert.False(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL | Gfp.NoRetry, 0));
            // The seed tests __GFP_NORETRY before __GFP_NOFAIL: NORETRY wins.
            Assert.False(PageAllocator.ShouldAllocRetry(Gfp.GFP_KERNEL | Gfp.NoRetry | Gfp.NoFail, 0));
        }

        [Fact]
        public void The_failure_report_names_the_task_order_and_gfp_mode_and_shows_memory()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            string log = m.Log.ToString();
            Assert.StartsWith("test: page allocation failure. order:0, mode:0xd0\n", log);
            Assert.Contains("Mem-Info:", log);
            Assert.Contains("Node 0 DMA free:400kB min:1024kB low:1280kB high:1536kB", log);
            Assert.Equal(1UL, m.Pa.Stat.AllocFail);
        }

        private sealed class StepClock : IClock
        {
            public ulong Ticks { get; set; }
            public uint Hz => 100;
        }

        private static int Count(string text, string what)
        {
            int n = 0;
            for (int at = text.IndexOf(what, System.StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, System.StringComparison.Ordinal)) n++;
            return n;
        }

        [Fact]
        public void Failure_reports_are_rate_limited_as_warn_alloc_is_a_burst_of_ten_per_five_seconds_then_counted()
        {
            var clock = new StepClock();
            m.Pa.Clock = clock;
            m.DrainZoneTo(ZoneType.Dma, 10, held);            // below even GFP_ATOMIC's reach (min/4)
            for (int i = 0; i < 25; i++) Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_ATOMIC, 0));
            string log = m.Log.ToString();
            Assert.Equal(10, Count(log, "page allocation failure"));
            Assert.Equal(10, Count(log, "Mem-Info:"));                 // show_mem is part of the report: held back with it
            Assert.Equal(25UL, m.Pa.Stat.AllocFail);                    // every failure is still counted
            Assert.Equal(15UL, m.Pa.Stat.WarnAllocSuppressed);
            Assert.DoesNotContain("callbacks suppressed", log);        // said only when the interval is over
        }

        [Fact]
        public void The_first_report_after_the_interval_says_how_many_were_suppressed_and_a_new_burst_begins()
        {
            var clock = new StepClock();
            m.Pa.Clock = clock;
            m.DrainZoneTo(ZoneType.Dma, 10, held);            // below even GFP_ATOMIC's reach (min/4)
            for (int i = 0; i < 13; i++) m.Alloc(Gfp.GFP_ATOMIC, 0);
            clock.Ticks = 5 * 100;                                      // exactly 5 s: still the same interval
            m.Alloc(Gfp.GFP_ATOMIC, 0);
            Assert.DoesNotContain("callbacks suppressed", m.Log.ToString());
            clock.Ticks = 5 * 100 + 1;
            m.Log.Clear();
            for (int i = 0; i < 12; i++) m.Alloc(Gfp.GFP_ATOMIC, 0);
            string log = m.Log.ToString();
            Assert.StartsWith("warn_alloc: 4 callbacks suppressed\ntest: page allocation failure. order:0", log);
            Assert.Equal(10, Count(log, "page allocation failure"));
            Assert.Equal(4UL + 2UL, m.Pa.Stat.WarnAllocSuppressed);
        }

        [Fact]
        public void The_allocation_failure_counters_are_in_vmstat()
        {
            m.DrainZoneTo(ZoneType.Dma, 10, held);            // below even GFP_ATOMIC's reach (min/4)
            for (int i = 0; i < 12; i++) m.Alloc(Gfp.GFP_ATOMIC, 0);
            var vmstat = new StringSink();
            m.Pa.WriteVmStat(vmstat);
            Assert.Contains("\nalloc_fail 12\n", vmstat.ToString());
            Assert.Contains("\nwarn_alloc_suppressed 2\n", vmstat.ToString());
        }

        [Fact]
        public void GFP_NOWARN_suppresses_the_failure_report()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoWarn, 0));
            Assert.Equal("", m.Log.ToString());
        }

        [Fact]
        public void With_no_OOM_victim_to_kill_the_allocation_fails_instead_of_looping()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            oom.Action = n => false;
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, oom.Calls);
        }

        [Fact]
        public void Without_partners_every_wait_and_retry_becomes_a_failure()
        {
            m.Pa.Kswapd = null; m.Pa.DirectReclaim = null; m.Pa.OomKiller = null; m.Pa.Congestion = null;
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_NOFS, 0));
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            m.Task.Flags = TaskFlags.MemDie;
            m.DrainZoneTo(ZoneType.Dma, 0, held);
            Assert.Equal(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.NoFail, 0));
        }

        [Fact]
        public void The_trace_narrates_the_ladder_step_by_step()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            var trace = new StringSink();
            m.Pa.Trace = trace;
            oom.Action = n => { m.Release(held, 300); return true; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(
                "[test] slowpath order:0 mode:0xd0\n" +
                "[test] wake kswapd order:0 mode:0xd0\n" +
                "[test] try min watermark (ALLOC_WMARK_MIN|ALLOC_CPUSET)\n" +
                "[test] direct reclaim order:0 mode:0xd0\n" +
                "[test] no progress: high watermark try, then OOM killer order:0 mode:0xd0\n" +
                "[test] wake kswapd order:0 mode:0xd0\n" +
                "[test] try min watermark (ALLOC_WMARK_MIN|ALLOC_CPUSET)\n" +
                "[test] got page order:0 mode:0xd0\n", trace.ToString());
        }

        [Fact]
        public void Allocated_pages_are_charged_to_the_current_task()
        {
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 2);
            unsafe
            {
                Page* p = m.Pa.PfnToPage(pfn);
                Assert.Equal(m.Task.Pid, p->Owner);
                Assert.Equal(1, p->RefCount);
                Assert.Equal(2, p->Order);
            }
            Assert.Equal(MmResult.NotOwner, m.Pa.FreePages(pfn, 2, m.Task.Pid + 1));
            Assert.Equal(MmResult.Ok, m.Free(pfn, 2));
        }

        // ---------------------------------------------------------------- allocation scopes (MemallocScope)

        [Fact]
        public void Inside_memalloc_noreclaim_the_task_takes_the_reserves_and_never_enters_direct_reclaim()
        {
            m.DrainZoneTo(ZoneType.Dma, 50, held);
            TaskFlags saved = MemallocScope.NoreclaimSave(ref m.Task);
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            MemallocScope.Restore(ref m.Task, TaskFlags.MemAlloc, saved);
            Assert.Equal(49, Dma.NrFree);
            Assert.Equal(0, reclaim.Calls);
            Assert.Equal(TaskFlags.None, m.Task.Flags);
        }

        [Fact]
        public void Inside_memalloc_nofs_direct_reclaim_runs_without_GFP_FS_and_the_OOM_killer_is_never_called()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n < 2) return 0; m.Release(held, 300); return 300; };
            m.Task.Flags = TaskFlags.MemallocNofs;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(2, reclaim.Calls);                          // no progress: the retry rule, not the OOM killer
            Assert.All(reclaim.GfpSeen, g => Assert.Equal(Gfp.GFP_NOFS, g));
            Assert.Equal(0, oom.Calls);
            Assert.Equal(1, congestion.Calls);
        }

        [Fact]
        public void Inside_memalloc_noio_direct_reclaim_runs_without_GFP_IO_or_GFP_FS()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { m.Release(held, 300); return 300; };
            m.Task.Flags = TaskFlags.MemallocNoio | TaskFlags.MemallocNofs;   // NOIO wins over NOFS
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL | Gfp.Zero, 0));
            Assert.Equal(Gfp.GFP_NOIO | Gfp.Zero, Assert.Single(reclaim.GfpSeen));
            Assert.Equal(0, oom.Calls);
        }

        [Fact]
        public void Inside_memalloc_nosleep_the_ladder_is_climbed_without_a_single_congestion_wait()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            reclaim.Action = n => { if (n == 3) m.Release(held, 200); return 5; };
            m.Task.Flags = TaskFlags.MemallocNosleep;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(3, reclaim.Calls);
            Assert.Equal(0, congestion.Calls);
            Assert.Equal(2UL, m.Pa.Stat.CongestionWaitSkipped);   // the two waits the same climb makes without the scope
        }

        [Fact]
        public void Inside_memalloc_nosleep_the_OOM_killer_is_still_called()
        {
            m.DrainZoneTo(ZoneType.Dma, 100, held);
            oom.Action = n => { m.Release(held, 300); return true; };
            m.Task.Flags = TaskFlags.MemallocNosleep;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(1, reclaim.Calls);
            Assert.Equal(1, oom.Calls);
            Assert.Equal(Gfp.GFP_KERNEL | Gfp.High, oom.Args[0].gfp);
            Assert.Equal(0, congestion.Calls);
        }

        [Fact]
        public void Inside_memalloc_nosleep_an_allocation_dips_into_the_GFP_HIGH_half_of_the_min_reserve()
        {
            m.DrainZoneTo(ZoneType.Dma, Min - 10, held);
            m.Task.Flags = TaskFlags.MemallocNosleep;
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));
            Assert.Equal(0, reclaim.Calls);
            m.Task.Flags = TaskFlags.None;
            reclaim.Action = n => { m.Release(held, 20); return 20; };
            Assert.NotEqual(PageAllocator.NoPfn, m.Alloc(Gfp.GFP_KERNEL, 0));   // without the scope: direct reclaim first
            Assert.Equal(1, reclaim.Calls);
        }

        [Fact]
        public void Scopes_nest_and_each_restore_puts_back_what_its_save_found()
        {
            TaskFlags outer = MemallocScope.NofsSave(ref m.Task);
            TaskFlags inner = MemallocScope.NofsSave(ref m.Task);
            TaskFlags sleep = MemallocScope.NosleepSave(ref m.Task);
            MemallocScope.Restore(ref m.Task, TaskFlags.MemallocNosleep, sleep);
            MemallocScope.Restore(ref m.Task, TaskFlags.MemallocNofs, inner);
            Assert.Equal(TaskFlags.MemallocNofs, m.Task.Flags);   // the outer scope is still open
            MemallocScope.Restore(ref m.Task, TaskFlags.MemallocNofs, outer);
            Assert.Equal(TaskFlags.None, m.Task.Flags);
            Assert.Equal(Gfp.GFP_KERNEL, MemallocScope.CurrentGfpContext(ref m.Task, Gfp.GFP_KERNEL));
        }

        [Fact]
        public void Scopes_leave_atomic_allocations_alone()
        {
            m.Task.Flags = MemallocScope.All;
            Assert.Equal(Gfp.GFP_ATOMIC, MemallocScope.CurrentGfpContext(ref m.Task, Gfp.GFP_ATOMIC));
        }
    }
}
