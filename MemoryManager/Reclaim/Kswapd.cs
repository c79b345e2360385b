using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;

namespace MemoryManager.Reclaim
{
    /// <summary>
    /// kswapd (mm/vmscan.c: wakeup_kswapd, kswapd, balance_pgdat, pgdat_balanced), one per
    /// node, as a cooperative task: the allocator's slow path wakes it (IKswapdWaker), a
    /// scheduler or the host simulation calls <see cref="Step"/> once per tick; a step never
    /// blocks and does at most one batch of reclaim (VmOptions.KswapdBatch pages) through
    /// <see cref="Vmscan.ShrinkNode"/>. Its state lives in the node (<see cref="PgData.Kswapd"/>).
    /// Its wakes and stops are counted here, the last of each kept with its zone's numbers, and
    /// told to the host's event hook (<see cref="IMmEvents"/>) as they happen.
    /// </summary>
    public sealed class Kswapd : IKswapdWaker
    {
        /// <summary>MAX_RECLAIM_RETRIES: kswapd failures after which a node counts as unreclaimable.</summary>
        public const int MaxReclaimRetries = 16;

        /// <summary>Wakes (sleeping or napping to running), and of those the ones with every eligible zone below its low watermark.</summary>
        public ulong Wakes, WakesBelowLow;
        /// <summary>Stops (a step that began running ended not running), and of those the ones with the node balanced.</summary>
        public ulong Stops, StopsBalanced;
        /// <summary>The last wake and the last stop, with their zones' numbers (all zero before the first).</summary>
        public KswapdWake LastWake;
        public KswapdStop LastStop;

        private readonly PageAllocator _pa;
        private readonly Nodes _nodes;
        private readonly Vmscan _vmscan;
        private readonly int _batch;
        private readonly bool _preLinux48Balance;

        /// <summary>
        /// kswapd for every node of <paramref name="nodes"/>: <paramref name="batch"/> pages per
        /// step, balanced by the pre-4.8 rule when <paramref name="preLinux48Balance"/> (set-up only).
        /// </summary>
        public Kswapd(PageAllocator pa, Nodes nodes, Vmscan vmscan, int batch, bool preLinux48Balance)
        {
            _pa = pa;
            _nodes = nodes;
            _vmscan = vmscan;
            _batch = batch;
            _preLinux48Balance = preLinux48Balance;
        }

        /// <summary>The comm of node <paramref name="nid"/>'s kswapd thread (a literal: no string building in the kernel subset).</summary>
        public static string ThreadName(int nid)
        {
            switch (nid)
            {
                case 0: return "kswapd0";
                case 1: return "kswapd1";
                case 2: return "kswapd2";
                case 3: return "kswapd3";
                default: return "kswapd";
            }
        }

        /// <summary>pgdat->kswapd_failures reached MAX_RECLAIM_RETRIES: kswapd is no longer woken.</summary>
        public bool NodeUnreclaimable(int nid) => _nodes[nid].Kswapd.Failures >= MaxReclaimRetries;

        private ulong Now => _pa.Clock == null ? 0 : _pa.Clock.Ticks;
        private ulong NapTicks => _pa.Clock == null ? 1 : (_pa.Clock.Hz / 10 == 0 ? 1 : _pa.Clock.Hz / 10);

        /// <summary>
        /// wakeup_kswapd(): ignored for an unknown node, an unreclaimable node (16 failures)
        /// or a node already balanced; otherwise records the order and classzone and wakes
        /// the thread. A wake during the post-balance nap counts kswapd_low_wmark_hit_quickly.
        /// </summary>
        public void WakeupKswapd(int nid, ZoneType zone, int order, ZoneType classzoneIdx)
        {
            if (nid < 0 || nid >= _nodes.Count) return;
            ref KswapdNode k = ref _nodes[nid].Kswapd;
            if (k.Failures >= MaxReclaimRetries) return;
            if (PgdatBalanced(nid, order, classzoneIdx)) return;
            if (k.State == KswapdState.Running)
            {
                if (order > k.Order) k.Order = order;
                if (classzoneIdx > k.ClasszoneIdx) k.ClasszoneIdx = classzoneIdx;
                return;
            }
            if (k.State == KswapdState.Napping) _pa.Stat.KswapdLowWmarkHitQuickly++;
            k.Order = order;
            k.ClasszoneIdx = classzoneIdx;
            k.State = KswapdState.Running;
            RecordWake(nid, zone, order, classzoneIdx);
        }

        /// <summary>Counts a wake and tells the event hook, with the zone's numbers and whether every eligible zone was below low.</summary>
        private void RecordWake(int nid, ZoneType zone, int order, ZoneType classzoneIdx)
        {
            PgData node = _nodes[nid];
            KswapdWake w = default;
            w.Nid = nid;
            w.Zone = zone;
            w.Order = order;
            w.ClasszoneIdx = classzoneIdx;
            w.BelowLow = true;
            for (int t = 0; t <= (int)classzoneIdx && t < MmConstants.MaxNrZones; t++)
            {
                if (!node.HasZone((ZoneType)t)) continue;
                ref Zone e = ref node.Zone((ZoneType)t);
                if (e.ManagedPages != 0 && PageAllocator.ZoneWatermarkOk(ref e, order, e.WatermarkLow, (int)classzoneIdx, AllocFlags.None))
                    w.BelowLow = false;
            }
            ref Zone z = ref node.Zone(zone);
            w.Free = z.NrFree;
            w.Low = z.WatermarkLow;
            w.High = z.WatermarkHigh;
            Wakes++;
            node.Kswapd.Wakes++;
            if (w.BelowLow) WakesBelowLow++;
            LastWake = w;
            if (_pa.Events != null) _pa.Events.KswapdWoken(w);
        }

        /// <summary>Counts a stop and tells the event hook, with the node's zone furthest above its high watermark and whether the node is balanced.</summary>
        private void RecordStop(int nid, ref KswapdNode k)
        {
            PgData node = _nodes[nid];
            ZoneType best = ZoneType.Dma;
            long bestMargin = -0x7FFFFFFFFFFFFFFFL - 1;
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
            {
                if (!node.HasZone((ZoneType)t)) continue;
                ref Zone e = ref node.Zone((ZoneType)t);
                if (e.ManagedPages == 0) continue;
                if (e.NrFree - e.WatermarkHigh > bestMargin) { bestMargin = e.NrFree - e.WatermarkHigh; best = (ZoneType)t; }
            }
            KswapdStop s = default;
            s.Nid = nid;
            s.Zone = best;
            ref Zone z = ref node.Zone(best);
            s.Free = z.NrFree;
            s.Low = z.WatermarkLow;
            s.High = z.WatermarkHigh;
            s.Balanced = k.State == KswapdState.Napping && PgdatBalanced(nid, k.Order, k.ClasszoneIdx);
            Stops++;
            if (s.Balanced) StopsBalanced++;
            LastStop = s;
            if (_pa.Events != null) _pa.Events.KswapdStopped(s);
        }

        /// <summary>
        /// One step of the kswapd() loop. Running: starts a balance_pgdat run (pageoutrun) if
        /// needed and does one batch of it. Napping (kswapd_try_to_sleep): at the nap's end,
        /// sleeps if still balanced, else counts kswapd_high_wmark_hit_quickly and runs again.
        /// Returns the pages reclaimed in this step.
        /// </summary>
        public ulong Step(int nid)
        {
            if (nid < 0 || nid >= _nodes.Count) return 0;
            ref KswapdNode k = ref _nodes[nid].Kswapd;
            bool wasRunning = k.State == KswapdState.Running;
            ulong reclaimed = StepNode(nid, ref k);
            if (wasRunning && k.State != KswapdState.Running) RecordStop(nid, ref k);
            return reclaimed;
        }

        /// <summary>The body of <see cref="Step"/> for node <paramref name="nid"/>, whose kswapd state is <paramref name="k"/>.</summary>
        private ulong StepNode(int nid, ref KswapdNode k)
        {
            if (k.State == KswapdState.Sleeping) return 0;
            if (k.State == KswapdState.Napping)
            {
                if (Now < k.NapUntil) return 0;
                if (PgdatBalanced(nid, k.Order, k.ClasszoneIdx))
                {
                    k.State = KswapdState.Sleeping;
                    k.Order = 0;
                    k.ClasszoneIdx = 0;
                    return 0;
                }
                _pa.Stat.KswapdHighWmarkHitQuickly++;
                k.State = KswapdState.Running;
            }
            if (!k.InRun)
            {
                k.InRun = true;
                k.RunReclaimed = 0;
                _pa.Stat.Pageoutrun++;
            }
            return BalancePgdat(nid, ref k);
        }

        /// <summary>
        /// balance_pgdat(), one batch of it: a node already balanced ends the run (kswapd naps);
        /// otherwise shrink_node (LRU lists, then shrink_slab with GFP_KERNEL) from DEF_PRIORITY
        /// down to 0 until a batch is reclaimed. A run that reclaims nothing (no page, no shrinker object) counts a failure; at 16 the node is unreclaimable and kswapd
        /// sleeps. Returns the pages reclaimed.
        /// </summary>
        private ulong BalancePgdat(int nid, ref KswapdNode k)
        {
            if (PgdatBalanced(nid, k.Order, k.ClasszoneIdx))
            {
                EndRun(ref k, KswapdState.Napping);
                return 0;
            }
            ScanControl sc = default;
            sc.NrToReclaim = (ulong)_batch;
            sc.MayWritepage = true;
            sc.MaySwap = true;
            sc.IsKswapd = true;
            sc.GfpMask = Gfp.GFP_KERNEL;
            sc.MayShrinkSlab = true;
            for (sc.Priority = Vmscan.DefPriority; sc.Priority >= 0; sc.Priority--)
            {
                _vmscan.ShrinkNode(nid, ref sc);
                if (sc.NrReclaimed >= sc.NrToReclaim) break;
            }
            k.RunReclaimed += sc.NrReclaimed;
            // Reclaim frees order-0 pages; without compaction a high order may never balance.
            // As Linux 4.8+ does, once compact_gap(order) = 2 << order pages are reclaimed,
            // balance for order 0 instead.
            if (k.Order > 0 && k.RunReclaimed >= (2UL << k.Order)) k.Order = 0;
            _nodes.UpdateStat();
            if (sc.NrReclaimed == 0 && sc.NrSlabFreed == 0)
            {
                // balance_pgdat gave up at priority 0 without reclaiming anything (pages or shrinker objects).
                k.Failures++;
                EndRun(ref k, k.Failures >= MaxReclaimRetries ? KswapdState.Sleeping : KswapdState.Running);
            }
            return sc.NrReclaimed;
        }

        /// <summary>Ends a balance_pgdat run and moves kswapd to <paramref name="next"/> (a nap starts now).</summary>
        private void EndRun(ref KswapdNode k, KswapdState next)
        {
            k.InRun = false;
            k.State = next;
            if (next == KswapdState.Napping) k.NapUntil = Now + NapTicks;
        }

        /// <summary>
        /// pgdat_balanced(): by the 4.8+ rule, any populated zone up to the classzone passes
        /// its high watermark at this order; by the pre-4.8 rule, every such zone must pass
        /// for order 0, and for higher orders the passing zones must hold 25 % of the node's
        /// managed pages.
        /// </summary>
        public bool PgdatBalanced(int nid, int order, ZoneType classzoneIdx)
        {
            PgData node = _nodes[nid];
            ulong managed = 0, balancedPages = 0;
            bool any = false, all = true;
            for (int t = 0; t <= (int)classzoneIdx && t < MmConstants.MaxNrZones; t++)
            {
                if (!node.HasZone((ZoneType)t)) continue;
                ref Zone z = ref node.Zone((ZoneType)t);
                if (z.ManagedPages == 0) continue;
                any = true;
                managed += z.ManagedPages;
                bool ok = PageAllocator.ZoneWatermarkOk(ref z, order, z.WatermarkHigh, (int)classzoneIdx, AllocFlags.None);
                if (ok) balancedPages += z.ManagedPages; else all = false;
                if (ok && !_preLinux48Balance) return true;
            }
            if (!any) return true;
            if (!_preLinux48Balance) return false;
            if (order == 0) return all;
            return balancedPages >= managed / 4;
        }
    }
}
