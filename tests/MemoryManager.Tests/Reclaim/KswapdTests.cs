using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Reclaim;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public unsafe class KswapdTests
    {
        /// <summary>Faults anon pages in until the allocator's slow path has woken kswapd; returns the pages touched.</summary>
        private static int TouchUntilKswapdWakes(Rig r, int pid, int from = 0)
        {
            int v = from;
            while (r.Vm.Nodes[0].Kswapd.State != KswapdState.Running)
            {
                r.TouchAnon(pid, 1, v++);
                Assert.True(v < r.Vm.Procs.VpagesPerProcess, "kswapd never woke");
            }
            return v;
        }

        /// <summary>A rig without congestion waits whose allocator reports its events to <paramref name="events"/>.</summary>
        private static Rig Watched(out EventsDouble events)
        {
            var r = new Rig(congestion: false);
            events = new EventsDouble();
            r.Pa.Events = events;
            return r;
        }

        private static bool AnyZonePasses(Rig r, System.Func<Zone, long> mark)
        {
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
            {
                if (!r.Pa.HasZone(0, (ZoneType)t)) continue;
                ref Zone z = ref r.Pa.GetZone(0, (ZoneType)t);
                if (z.ManagedPages != 0 && z.NrFree >= mark(z)) return true;
            }
            return false;
        }

        [Fact]
        public void Kswapd_sleeps_while_every_zone_is_above_its_low_watermark()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 1000);
            Assert.True(AnyZonePasses(r, z => z.WatermarkLow));
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
        }

        [Fact]
        public void Kswapd_is_not_woken_while_the_node_is_balanced()
        {
            using var r = new Rig();
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
        }

        [Fact]
        public void The_slow_path_wakes_kswapd_once_the_zones_fall_below_low()
        {
            using var r = new Rig(congestion: false);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            Assert.False(r.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32));
            // The page that woke kswapd came from below the low watermark of the zone it used.
            ref Zone z = ref r.Pa.GetZone(0, ZoneType.Dma32);
            Assert.True(z.NrFree < z.WatermarkLow + 1, $"free {z.NrFree} low {z.WatermarkLow}");
        }

        [Fact]
        public void Kswapd_reclaims_until_the_node_is_balanced_at_high_then_naps_then_sleeps()
        {
            using var r = new Rig(congestion: false);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            int steps = 0;
            while (r.Vm.Nodes[0].Kswapd.State == KswapdState.Running)
            {
                r.Vm.Kswapd.Step(0);
                Assert.True(++steps < 1000);
            }
            Assert.Equal(KswapdState.Napping, r.Vm.Nodes[0].Kswapd.State);
            Assert.True(r.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32));
            Assert.True(AnyZonePasses(r, z => z.WatermarkHigh));
            r.Clock.Ticks += 10;                              // HZ/10 later
            r.Vm.Kswapd.Step(0);
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
            Assert.Equal(1UL, r.Pa.Stat.Pageoutrun);
            Assert.True(r.Pa.Stat.PgstealKswapd > 0);
            Assert.True(r.Pa.Stat.PgscanKswapd >= r.Pa.Stat.PgstealKswapd);
            r.AssertNoPageLost();
        }

        [Fact]
        public void One_kswapd_step_reclaims_at_most_one_batch()
        {
            var o = VmOptions.Default;
            o.KswapdBatch = 8;
            using var r = new Rig(options: o, congestion: false);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            Assert.Equal(KswapdState.Running, r.Vm.Nodes[0].Kswapd.State);
            ulong got = r.Vm.Kswapd.Step(0);
            Assert.InRange(got, 1UL, 8UL);
            Assert.Equal(got, r.Pa.Stat.PgstealKswapd);
        }

        [Fact]
        public void A_wake_during_the_nap_counts_kswapd_low_wmark_hit_quickly()
        {
            using var r = new Rig(congestion: false);
            int p = r.Spawn("p");
            int v = TouchUntilKswapdWakes(r, p);
            while (r.Vm.Nodes[0].Kswapd.State == KswapdState.Running) r.Vm.Kswapd.Step(0);
            Assert.Equal(KswapdState.Napping, r.Vm.Nodes[0].Kswapd.State);
            TouchUntilKswapdWakes(r, p, v);                   // below low again before the nap ends
            Assert.Equal(1UL, r.Pa.Stat.KswapdLowWmarkHitQuickly);
            Assert.Equal(0UL, r.Pa.Stat.KswapdHighWmarkHitQuickly);
        }

        [Fact]
        public void Unbalanced_at_the_end_of_the_nap_counts_kswapd_high_wmark_hit_quickly()
        {
            using var r = new Rig(congestion: false);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            while (r.Vm.Nodes[0].Kswapd.State == KswapdState.Running) r.Vm.Kswapd.Step(0);
            // Use memory without going through the slow path (no wake): kernel pages down to low.
            r.TakeKernelPagesUntil(z => z.WatermarkLow);
            r.Clock.Ticks += 10;
            r.Vm.Kswapd.Step(0);
            Assert.Equal(1UL, r.Pa.Stat.KswapdHighWmarkHitQuickly);
            Assert.Equal(KswapdState.Running, r.Vm.Nodes[0].Kswapd.State);
        }

        [Fact]
        public void After_16_runs_without_progress_the_node_is_unreclaimable_and_wakeups_are_ignored()
        {
            using var r = new Rig(congestion: false);
            r.TakeKernelPagesUntil(z => z.WatermarkMin);      // nothing on any LRU: nothing to reclaim
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            Assert.Equal(KswapdState.Running, r.Vm.Nodes[0].Kswapd.State);
            for (int i = 0; i < Kswapd.MaxReclaimRetries; i++)
            {
                Assert.False(r.Vm.Kswapd.NodeUnreclaimable(0));
                Assert.Equal(0UL, r.Vm.Kswapd.Step(0));
            }
            Assert.True(r.Vm.Kswapd.NodeUnreclaimable(0));
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
            Assert.Equal((ulong)Kswapd.MaxReclaimRetries, r.Pa.Stat.Pageoutrun);
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
        }

        [Fact]
        public void Reclaim_progress_resets_the_failure_count()
        {
            using var r = new Rig(congestion: false);
            r.TakeKernelPagesUntil(z => z.WatermarkMin + 8);
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            for (int i = 0; i < 3; i++) r.Vm.Kswapd.Step(0);
            Assert.Equal(3, r.Vm.Nodes[0].Kswapd.Failures);
            int f = r.File(8);
            Assert.Equal(ProcResult.Ok, r.Vm.PageCache.ReadFilePage(0, f, 0, out _));   // a reclaimable page appears
            Assert.Equal(1UL, r.Reclaim());
            Assert.Equal(0, r.Vm.Nodes[0].Kswapd.Failures);
        }

        [Fact]
        public void After_reclaiming_compact_gap_pages_for_a_high_order_kswapd_balances_for_order_0()
        {
            using var r = new Rig(congestion: false);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 9, ZoneType.Dma32);     // an order-9 request
            Assert.Equal(9, r.Vm.Nodes[0].Kswapd.Order);
            int steps = 0;
            while (r.Vm.Nodes[0].Kswapd.Order != 0) { r.Vm.Kswapd.Step(0); Assert.True(++steps < 100); }
            Assert.True(r.Vm.Nodes[0].Kswapd.RunReclaimed >= 2UL << 9);
            Assert.Equal(0UL, (ulong)r.Vm.Nodes[0].Kswapd.Failures);
        }

        [Fact]
        public void The_4_8_rule_is_balanced_when_any_zone_passes_high_and_the_pre_4_8_rule_needs_all()
        {
            var pre = VmOptions.Default;
            pre.PreLinux48Balance = true;
            using var modern = new Rig();
            using var old = new Rig(options: pre);
            foreach (Rig r in new[] { modern, old })
            {
                var k = new TaskContext(0, "kernel", TaskFlags.MemAlloc);
                ref Zone dma32 = ref r.Pa.GetZone(0, ZoneType.Dma32);
                while (dma32.NrFree > dma32.WatermarkLow)
                    Assert.NotEqual(PageAllocator.NoPfn, r.Pa.AllocPages(ref k, Gfp.Dma32 | Gfp.NoKswapd | Gfp.NoWarn, 0));
            }
            // DMA still passes high, DMA32 does not.
            Assert.True(modern.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32));
            Assert.False(old.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32));
        }

        [Fact]
        public void The_pre_4_8_rule_for_higher_orders_needs_a_quarter_of_the_node_balanced()
        {
            var pre = VmOptions.Default;
            pre.PreLinux48Balance = true;
            using var r = new Rig(options: pre);
            r.Pa.Options.FairZoneAllocation = false;   // DMA must stay untouched (the fair pass would take from it too)
            var k = new TaskContext(0, "kernel", TaskFlags.MemAlloc);
            ref Zone dma32 = ref r.Pa.GetZone(0, ZoneType.Dma32);
            ref Zone dma = ref r.Pa.GetZone(0, ZoneType.Dma);
            while (dma32.NrFree > dma32.WatermarkLow)
                r.Pa.AllocPages(ref k, Gfp.Dma32 | Gfp.NoKswapd | Gfp.NoWarn, 0);
            // DMA (balanced) holds more than a quarter of the node's managed pages.
            Assert.True(dma.ManagedPages * 4 >= dma.ManagedPages + dma32.ManagedPages);
            Assert.True(r.Vm.Kswapd.PgdatBalanced(0, 1, ZoneType.Dma32));
            Assert.False(r.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32));
        }
    

        [Fact]
        public void A_wake_is_counted_and_told_to_the_event_hook_once_per_transition_to_running_with_the_zones_numbers()
        {
            using var r = Watched(out EventsDouble events);
            int p = r.Spawn("p");
            int v = TouchUntilKswapdWakes(r, p);
            r.TouchAnon(p, 8, v);                                 // more wakes while it runs: no new transition
            Assert.Equal(1UL, r.Vm.Kswapd.Wakes);
            KswapdWake w = Assert.Single(events.Wakes);
            Assert.Equal(w, r.Vm.Kswapd.LastWake);
            Assert.Equal(0, w.Nid);
            Assert.True(w.BelowLow, "woken with every eligible zone below its low watermark");
            Assert.Equal(1UL, r.Vm.Kswapd.WakesBelowLow);
            Assert.True(w.Free <= w.Low, $"the zone woken for had free {w.Free} above low {w.Low}");
            Assert.Equal(r.Pa.GetZone(0, w.Zone).WatermarkLow, w.Low);
            Assert.Equal(r.Pa.GetZone(0, w.Zone).WatermarkHigh, w.High);
            Assert.Empty(events.Stops);
        }

        [Fact]
        public void A_stop_with_the_node_balanced_is_counted_and_told_to_the_event_hook_with_a_zone_above_high()
        {
            using var r = Watched(out EventsDouble events);
            int p = r.Spawn("p");
            TouchUntilKswapdWakes(r, p);
            while (r.Vm.Nodes[0].Kswapd.State == KswapdState.Running) r.Vm.Kswapd.Step(0);
            KswapdStop s = Assert.Single(events.Stops);
            Assert.Equal(s, r.Vm.Kswapd.LastStop);
            Assert.True(s.Balanced);
            Assert.True(s.Free > s.High, $"stopped with the best zone at free {s.Free}, high {s.High}");
            Assert.Equal(1UL, r.Vm.Kswapd.Stops);
            Assert.Equal(1UL, r.Vm.Kswapd.StopsBalanced);
            r.Clock.Ticks += 10;
            r.Vm.Kswapd.Step(0);                                  // the nap ends in sleep: not a stop of a running kswapd
            Assert.Equal(KswapdState.Sleeping, r.Vm.Nodes[0].Kswapd.State);
            Assert.Single(events.Stops);
        }

        [Fact]
        public void Giving_up_on_an_unreclaimable_node_is_a_stop_that_is_not_balanced()
        {
            using var r = Watched(out EventsDouble events);
            r.TakeKernelPagesUntil(z => z.WatermarkMin);          // nothing on any LRU: nothing to reclaim
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            for (int i = 0; i < Kswapd.MaxReclaimRetries; i++) r.Vm.Kswapd.Step(0);
            Assert.True(r.Vm.Kswapd.NodeUnreclaimable(0));
            KswapdStop s = Assert.Single(events.Stops);
            Assert.False(s.Balanced);
            Assert.Equal(1UL, r.Vm.Kswapd.Stops);
            Assert.Equal(0UL, r.Vm.Kswapd.StopsBalanced);
        }
    }
}
