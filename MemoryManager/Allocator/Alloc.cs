using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    public sealed unsafe partial class PageAllocator
    {
        /// <summary>gfp_zone: the highest zone the gfp mask allows (DMA, DMA32, else Normal); -1 for __GFP_DMA|__GFP_DMA32 together.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int GfpZone(Gfp gfp)
        {
            Gfp z = gfp & (Gfp.Dma | Gfp.Dma32);
            if (z == 0) return (int)ZoneType.Normal;
            if (z == Gfp.Dma) return (int)ZoneType.Dma;
            if (z == Gfp.Dma32) return (int)ZoneType.Dma32;
            return -1;
        }

        /// <summary>Gfp bits that keep an order-0 request off <see cref="AllocPages"/>' per-cpu entry: a zone modifier below Normal, __GFP_THISNODE (its own zonelist), __GFP_COLD (the list's cold end), __GFP_ZERO (a call to clear the page).</summary>
        private const Gfp PcpEntryExcluded = Gfp.Dma | Gfp.Dma32 | Gfp.ThisNode | Gfp.Cold | Gfp.Zero;

        /// <summary>
        /// __alloc_pages: allocates 2^order contiguous pages charged to current.Pid and returns
        /// the first pfn, or NoPfn. Fast path first (ALLOC_WMARK_LOW), then the slow path.
        /// </summary>
        /// <remarks>
        /// An order-0 request for ZONE_NORMAL's zonelist (no zone modifier, no __GFP_THISNODE, hot)
        /// is served here, before anything else, from the per-cpu list of the zonelist's first
        /// zone when that is exactly what the first attempt would do: per-cpu lists on, the list
        /// not empty, the zone not skipped by the fair pass (ZONE_FAIR_DEPLETED), and the order-0
        /// watermark test passing (zone_watermark_fast's "free pages above low + lowmem_reserve",
        /// which for order 0 and ALLOC_WMARK_LOW is the whole of zone_watermark_ok, seed or modern
        /// rule). Linux's order: get_page_from_freelist's first zone, rmqueue → rmqueue_pcplist.
        /// The counters are the same (pgalloc, NR_ALLOC_BATCH, zone_statistics). Every other case,
        /// an empty list included (its refill is rmqueue_bulk's), goes to <see cref="AllocPagesGeneral"/>.
        /// </remarks>
        public ulong AllocPages(ref TaskContext current, Gfp gfp, int order)
        {
            // (Each way out calls AllocPagesGeneral last, so it is a jump; once the tests have
            // passed, neither the arguments nor the node are needed again, which keeps the
            // entry in scratch registers.)
            if (((uint)order | ((uint)gfp & (uint)PcpEntryExcluded)) != 0)
                return AllocPagesGeneral(ref current, gfp, order);
            // The zonelist's first (preferred) zone, ZonelistOffset(nid, ZONE_NORMAL, false)'s,
            // precomputed per node with the options (SetupPcpEntry); -1 (a nid with no node, no
            // zone, or per-cpu lists off or poisoning on) fails the one range test, which also
            // proves the index valid. (A task on a nid with no node, which LocalNid takes as node 0,
            // goes the general way.)
            Zone[] zones = _zones;   // (read first: `this` is then known non-null for the table below)
            uint nid = (uint)current.Nid;
            if (nid >= MaxNodes) return AllocPagesGeneral(ref current, gfp, 0);
            int first = _pcpEntry.Zone[nid];
            if ((uint)first >= (uint)zones.Length) return AllocPagesGeneral(ref current, gfp, 0);
            ref Zone z = ref zones[first];
            int count = z.Pcp.Count;
            // PcpFloor = WatermarkLow + LowmemReserve[z.Type] (classzone_idx: the preferred zone's type).
            if (count == 0
                || z.NrFree <= z.PcpFloor
                || (z.FairDepleted && Options.FairZoneAllocation))
                return AllocPagesGeneral(ref current, gfp, 0);
            int pid = current.Pid;
            // zone_statistics(preferred = z, z): a hit, on the task's node or not. (Counters are
            // written as x = x + 1: the JIT then updates the field in place.)
            z.NumaHit = z.NumaHit + 1;
            if (z.Nid == (int)nid) z.NumaLocal = z.NumaLocal + 1; else z.NumaOther = z.NumaOther + 1;
            // pgalloc (indexed by the zone's type) and NR_ALLOC_BATCH, as CountPgalloc(z, 1).
            Stat.Pgalloc[(int)z.Type] = Stat.Pgalloc[(int)z.Type] + 1;
            z.AllocBatch = z.AllocBatch - 1;
            if (z.AllocBatch <= 0) z.FairDepleted = true;
            // __rmqueue_pcplist's unlink from the hot end, then prep_new_page (as PcpAllocPrep).
            Page* memmap = _memmap;
            uint idx = z.Pcp.Head;
            Page* p = memmap + idx;
            uint next = p->Next;
            z.Pcp.Head = next;
            if (next != Page.None) memmap[next].Prev = Page.None; else z.Pcp.Tail = Page.None;
            z.Pcp.Count = count - 1;
            p->Flags = PageFlags.None;
            p->Order = 0;
            p->RefCount = 1;
            *(ulong*)&p->Next = 0xFFFFFFFFFFFFFFFFUL;   // Next and Prev (adjacent) both Page.None, in one store
            p->Owner = pid;
            p->Private = 0;
            return MinPfn + idx;
        }

        /// <summary>__alloc_pages for every request the per-cpu entry of <see cref="AllocPages"/> does not serve.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private ulong AllocPagesGeneral(ref TaskContext current, Gfp gfp, int order)
        {
            if ((uint)order >= MmConstants.MaxOrder)
            {
                if ((gfp & Gfp.NoWarn) == 0) WarnBadRequest(ref current, "order not below MAX_ORDER", order, gfp);
                return NoPfn;
            }
            int highZoneIdx = GfpZone(gfp);
            if (highZoneIdx < 0)
            {
                WarnBadRequest(ref current, "__GFP_DMA and __GFP_DMA32 together (GFP_ZONE_BAD)", order, gfp);
                return NoPfn;
            }
            int nid = LocalNid(ref current);
            int zonelist = ZonelistOffset(nid, highZoneIdx, (gfp & Gfp.ThisNode) != 0);
            int first = _zonelists[zonelist];
            if (first < 0) return NoPfn;   // no zone can satisfy this gfp mask
            // classzone_idx: the preferred (first) zone of the zonelist.
            ref Zone z = ref _zones[first];
            int classzoneIdx = (int)z.Type;

            // First allocation attempt: get_page_from_freelist at ALLOC_WMARK_LOW|ALLOC_CPUSET,
            // with ALLOC_FAIR (3.12+) unless the fair pass is switched off. Its first zone is tried
            // here, with the zone already in hand (one zonelist and one zone-table lookup per call
            // instead of two); the rest of the zonelist, if the first zone is below its low
            // watermark, has nothing or has used up its fair batch, goes through the walk.
            Gfp fastGfp = gfp | Gfp.Hardwall;
            AllocFlags fastFlags = Options.FairZoneAllocation ? AllocFlags.WmarkLow | AllocFlags.Cpuset | AllocFlags.Fair
                                                              : AllocFlags.WmarkLow | AllocFlags.Cpuset;
            int skip = 1;
            ulong pfn;
            // The fair pass skips a depleted zone (and counts it): leave that to the walk.
            if ((fastFlags & AllocFlags.Fair) != 0 && z.FairDepleted) { skip = 0; goto rest; }
            // (Two ifs rather than one on a ?: of both checks, so the JIT branches on the
            // comparison itself instead of materialising a bool and testing it.)
            if (Options.ModernWatermarkCheck)
            {
                if (!ZoneWatermarkOkModern(ref z, order, z.WatermarkLow, classzoneIdx, AllocFlags.WmarkLow | AllocFlags.Cpuset)) goto rest;
            }
            else if (!ZoneWatermarkOk(ref z, order, z.WatermarkLow, classzoneIdx, AllocFlags.WmarkLow | AllocFlags.Cpuset)) goto rest;
            if (order == 0 && Options.PerCpuLists)
            {
                if (PcpAllocPrep(ref z, fastGfp, current.Pid, out pfn)) { ZoneStatistics(ref z, ref z, nid); return pfn; }
            }
            else
            {
                pfn = RmqueuePrep(ref z, order, fastGfp, current.Pid);
                if (pfn != NoPfn) { ZoneStatistics(ref z, ref z, nid); return pfn; }
            }
        rest:
            pfn = GetPageFromFreelist(ref current, fastGfp, order, zonelist, skip, fastFlags, classzoneIdx);
            if (pfn != NoPfn) return pfn;
            return AllocPagesSlowpath(ref current, gfp, order, zonelist, highZoneIdx, classzoneIdx);
        }

        /// <summary>buffered_rmqueue + prep_new_page where buffered_rmqueue goes to the buddy lists (order &gt; 0, or no per-cpu lists); NoPfn if z has nothing.</summary>
        private ulong RmqueuePrep(ref Zone z, int order, Gfp gfp, int pid)
        {
            ulong pfn = Rmqueue(ref z, order);
            if (pfn != NoPfn) PrepNewPage(ref z, pfn, order, gfp, pid);
            return pfn;
        }

        /// <summary>
        /// The order-0 fast path with per-cpu lists: buffered_rmqueue's pcp unlink and
        /// prep_new_page in one pass over the descriptor (each field written once), the same
        /// result as BufferedRmqueue(z, 0, gfp) followed by PrepNewPage(z, pfn, 0, gfp, pid).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool PcpAllocPrep(ref Zone z, Gfp gfp, int pid, out ulong pfn)
        {
            if (z.Pcp.Count == 0)
            {
                RmqueueBulk(ref z, z.Pcp.Batch);
                if (z.Pcp.Count == 0) { pfn = NoPfn; return false; }
            }
            // Locals: stores through Page* could alias this object's fields, so the JIT would
            // otherwise load _memmap and MinPfn again after each one.
            Page* memmap = _memmap;
            uint idx;
            Page* p;
            if ((gfp & Gfp.Cold) == 0)
            {
                // The hot end: the head has no predecessor.
                idx = z.Pcp.Head;
                p = memmap + idx;
                uint next = p->Next;
                z.Pcp.Head = next;
                if (next != Page.None) memmap[next].Prev = Page.None; else z.Pcp.Tail = Page.None;
            }
            else
            {
                // The cold end: the tail has no successor.
                idx = z.Pcp.Tail;
                p = memmap + idx;
                uint prev = p->Prev;
                z.Pcp.Tail = prev;
                if (prev != Page.None) memmap[prev].Next = Page.None; else z.Pcp.Head = Page.None;
            }
            z.Pcp.Count--;
            pfn = MinPfn + idx;
            // prep_new_page, order 0.
            p->Flags = PageFlags.None;
            p->Order = 0;
            p->RefCount = 1;
            p->Next = Page.None;
            p->Prev = Page.None;
            p->Owner = pid;
            p->Private = 0;
            if (Options.PoisonFreePages) CheckPoison(pfn, 0);
            if ((gfp & Gfp.Zero) != 0 && _hasPhys) ZeroPages(pfn, 1);
            CountPgalloc(ref z, 1);
            return true;
        }

        /// <summary>
        /// pgalloc_dma/dma32/normal += n for the zone's type (indexed by it); and NR_ALLOC_BATCH -= n, the zone
        /// marked ZONE_FAIR_DEPLETED once its batch is used up (buffered_rmqueue, 3.12+).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void CountPgalloc(ref Zone z, ulong n)
        {
            Stat.Pgalloc[(int)z.Type] += n;
            z.AllocBatch -= (long)n;
            if (z.AllocBatch <= 0) z.FairDepleted = true;
        }

        /// <summary>
        /// zone_statistics: numa_hit on z when it is on the preferred zone's node, else numa_miss
        /// on z and numa_foreign on the preferred zone; local_node when z is on the allocating
        /// task's node <paramref name="nid"/>, else other_node. Once per allocation.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ZoneStatistics(ref Zone preferred, ref Zone z, int nid)
        {
            if (z.Nid == preferred.Nid) z.NumaHit++;
            else { z.NumaMiss++; preferred.NumaForeign++; }
            if (z.Nid == nid) z.NumaLocal++; else z.NumaOther++;
        }

        /// <summary>numa_node_id() of the allocating task: its node, or node 0 for a nid that does not exist.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private int LocalNid(ref TaskContext current) => (uint)current.Nid < (uint)NodeCount ? current.Nid : 0;

        /// <summary>
        /// get_page_from_freelist (3.18, seed 003): walks the zonelist from entry
        /// <paramref name="skip"/> (1 when the fast path already tried the first zone) and takes
        /// the pages from the first zone that passes the watermark alloc_flags select (none with
        /// ALLOC_NO_WATERMARKS). With ALLOC_FAIR only the preferred node's zones are tried and a
        /// zone whose batch is used up (ZONE_FAIR_DEPLETED) is skipped; after that pass the walk
        /// runs once more without fairness from the first zone, with the batches reset if a zone
        /// was skipped, and always when there are other nodes (remote zones are considered only
        /// now: spill to a remote node before the slow path wakes kswapd). A zone below its
        /// watermark is reclaimed first when vm.zone_reclaim_mode asks for it (zone_reclaim) and
        /// the zone is on the allocating task's node.
        /// </summary>
        private ulong GetPageFromFreelist(ref TaskContext current, Gfp gfp, int order, int zonelist, int skip, AllocFlags allocFlags, int classzoneIdx)
        {
            int first = _zonelists[zonelist];
            if (first < 0) return NoPfn;
            ref Zone preferred = ref _zones[first];
            int nid = LocalNid(ref current);
            int nrFairSkipped;
        zonelist_scan:
            nrFairSkipped = 0;
            for (int i = zonelist + skip; ; i++)
            {
                int zi = _zonelists[i];
                if (zi < 0) break;
                ref Zone z = ref _zones[zi];
                if ((allocFlags & AllocFlags.Fair) != 0)
                {
                    if (z.Nid != preferred.Nid) break;                   // the fair pass stays on the local node
                    if (z.FairDepleted) { nrFairSkipped++; continue; }
                }
                if ((allocFlags & AllocFlags.NoWatermarks) == 0)
                {
                    long mark = (allocFlags & AllocFlags.WmarkMin) != 0 ? z.WatermarkMin
                              : (allocFlags & AllocFlags.WmarkLow) != 0 ? z.WatermarkLow
                              : z.WatermarkHigh;
                    if (!WatermarkOk(ref z, order, mark, classzoneIdx, allocFlags))
                    {
                        // zone_reclaim_mode: reclaim this (local) zone's node before going further.
                        if ((ZoneReclaimMode & ReclaimZone) == 0 || NodeReclaim == null || z.Nid != nid) continue;
                        if (!ZoneReclaim(ref current, nid, gfp, order)) continue;
                        if (!WatermarkOk(ref z, order, mark, classzoneIdx, allocFlags)) continue;
                    }
                }
                ulong pfn = BufferedRmqueue(ref z, order, gfp);
                if (pfn != NoPfn)
                {
                    PrepNewPage(ref z, pfn, order, gfp, current.Pid);
                    ZoneStatistics(ref preferred, ref z, nid);
                    return pfn;
                }
            }
            if ((allocFlags & AllocFlags.Fair) != 0)
            {
                // The first pass spread allocations fairly within the local node. The local node
                // may still have free pages once the batches are used up, and remote zones have
                // not been considered yet: try once more without fairness, remote zones included.
                allocFlags &= ~AllocFlags.Fair;
                bool rescan = false;
                if (nrFairSkipped != 0) { rescan = true; ResetAllocBatches(ref preferred); }
                if (NodeCount > 1) rescan = true;
                if (rescan) { skip = 0; goto zonelist_scan; }
            }
            return NoPfn;
        }

        /// <summary>zone_watermark_ok by the rule in effect (the seed's per-order loop, or the later "a free list at or above the order").</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool WatermarkOk(ref Zone z, int order, long mark, int classzoneIdx, AllocFlags allocFlags)
            => Options.ModernWatermarkCheck
                ? ZoneWatermarkOkModern(ref z, order, mark, classzoneIdx, allocFlags)
                : ZoneWatermarkOk(ref z, order, mark, classzoneIdx, allocFlags);

        /// <summary>
        /// reset_alloc_batches: every zone of the preferred zone's node from DMA up to the
        /// preferred zone gets its batch back (high - low) and loses ZONE_FAIR_DEPLETED.
        /// </summary>
        private void ResetAllocBatches(ref Zone preferred)
        {
            for (int t = 0; t <= (int)preferred.Type; t++)
            {
                ref Zone z = ref _zones[ZoneIndex(preferred.Nid, t)];
                z.AllocBatch = z.WatermarkHigh - z.WatermarkLow;
                z.FairDepleted = false;
            }
        }

        /// <summary>
        /// zone_reclaim: reclaims on the allocating task's node through NodeReclaim, unless the
        /// caller cannot wait or is itself reclaiming (ZONE_RECLAIM_NOSCAN). True when pages were
        /// reclaimed; a scan that frees nothing counts zone_reclaim_failed.
        /// </summary>
        private bool ZoneReclaim(ref TaskContext current, int nid, Gfp gfp, int order)
        {
            if ((gfp & Gfp.Wait) == 0 || (current.Flags & TaskFlags.MemAlloc) != 0) return false;
            Stat.ZoneReclaim++;
            ulong reclaimed = NodeReclaim.NodeReclaim(ref current, nid, gfp, order, ZoneReclaimMode);
            if (reclaimed == 0) { Stat.ZoneReclaimFailed++; return false; }
            return true;
        }

        /// <summary>prep_new_page: the head page becomes an allocated block (order, refcount 1, owner); poison checked, __GFP_ZERO honoured.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrepNewPage(ref Zone z, ulong pfn, int order, Gfp gfp, int pid)
        {
            Page* p = Desc(pfn);
            p->Flags = order != 0 ? PageFlags.Head : PageFlags.None;
            p->Order = (byte)order;
            p->RefCount = 1;
            p->Owner = pid;
            p->Private = 0;
            if (Options.PoisonFreePages) CheckPoison(pfn, order);
            if ((gfp & Gfp.Zero) != 0 && _hasPhys) ZeroPages(pfn, 1UL << order);
            CountPgalloc(ref z, 1UL << order);
        }

        /// <summary>HZ/50 ticks: congestion_wait(WRITE, HZ/50).</summary>
        private uint CongestionTicks
        {
            get
            {
                uint hz = Clock != null ? Clock.Hz : 100;
                uint t = hz / 50;
                return t == 0 ? 1 : t;
            }
        }

        /// <summary>
        /// congestion_wait() through the partner, unless the task may not sleep
        /// (TaskFlags.MemallocNosleep): then the wait is skipped (counted) and the ladder goes on at once.
        /// Needs Congestion set (callers check).
        /// </summary>
        public void CongestionWait(ref TaskContext current, uint ticks)
        {
            if ((current.Flags & TaskFlags.MemallocNosleep) != 0) { Stat.CongestionWaitSkipped++; return; }
            Congestion.CongestionWait(ref current, ticks);
        }

        /// <summary>
        /// __alloc_pages_slowpath: the escalation ladder, top to bottom as the seeds climb it.
        /// Each numbered step is one box of the ladder in docs/memory-manager.md. The gfp mask
        /// is first narrowed by the task's allocation scopes (current_gfp_context, MemallocScope).
        /// </summary>
        private ulong AllocPagesSlowpath(ref TaskContext current, Gfp gfp, int order, int zonelist, int highZoneIdx, int classzoneIdx)
        {
            gfp = MemallocScope.CurrentGfpContext(ref current, gfp);
            bool wait = (gfp & Gfp.Wait) != 0;
            ulong pfn;
            AllocFlags allocFlags;
            ulong didSomeProgress;
            TraceStep(ref current, "slowpath", order, gfp);

            // 1. GFP_THISNODE (__GFP_THISNODE|__GFP_NORETRY|__GFP_NOWARN) must not cause reclaim:
            //    the caller falls back to other nodes itself.
            if ((gfp & Gfp.GFP_THISNODE) == Gfp.GFP_THISNODE) { TraceStep(ref current, "GFP_THISNODE: no reclaim", order, gfp); goto nopage; }

        restart:
            // 2. Wake kswapd for every zone of the zonelist (background reclaim).
            if ((gfp & Gfp.NoKswapd) == 0) { TraceStep(ref current, "wake kswapd", order, gfp); WakeAllKswapds(zonelist, order, classzoneIdx); }

            // 3. Dip to the min watermark: deeper still for real-time tasks (not in interrupt)
            //    and callers that cannot wait (ALLOC_HARDER) and for __GFP_HIGH (ALLOC_HIGH).
            allocFlags = GfpToAllocFlags(ref current, gfp);
            TraceFlags(ref current, "try min watermark", allocFlags);
            pfn = GetPageFromFreelist(ref current, gfp, order, zonelist, 0, allocFlags, classzoneIdx);
            if (pfn != NoPfn) goto got_pg;

        rebalance:
            // 4. PF_MEMALLOC (reclaim itself) or TIF_MEMDIE (the OOM victim), not in interrupt:
            //    ignore the watermarks, unless __GFP_NOMEMALLOC; __GFP_NOFAIL loops on it.
            if ((current.Flags & (TaskFlags.MemAlloc | TaskFlags.MemDie)) != 0 && !current.InInterrupt)
            {
                if ((gfp & Gfp.NoMemalloc) == 0)
                {
                    TraceStep(ref current, "PF_MEMALLOC/TIF_MEMDIE: try without watermarks", order, gfp);
                    pfn = AllocPagesHighPriority(ref current, gfp, order, zonelist, classzoneIdx);
                    if (pfn != NoPfn) goto got_pg;
                }
                goto nopage;
            }

            // 5. Atomic allocations cannot reclaim: fail.
            if (!wait) { TraceStep(ref current, "cannot wait: fail", order, gfp); goto nopage; }

            // 6. Direct reclaim under PF_MEMALLOC; with progress, try again at the same flags.
            TraceStep(ref current, "direct reclaim", order, gfp);
            pfn = AllocPagesDirectReclaim(ref current, gfp, order, zonelist, highZoneIdx, allocFlags, classzoneIdx, out didSomeProgress);
            if (pfn != NoPfn) goto got_pg;

            // 7. No progress: for __GFP_FS without __GFP_NORETRY, the OOM killer (one try at
            //    the high watermark first), then start over.
            if (didSomeProgress == 0 && (gfp & Gfp.Fs) != 0 && (gfp & Gfp.NoRetry) == 0)
            {
                bool killed;
                TraceStep(ref current, "no progress: high watermark try, then OOM killer", order, gfp);
                pfn = AllocPagesMayOom(ref current, gfp, order, zonelist, highZoneIdx, classzoneIdx, out killed);
                if (pfn != NoPfn) goto got_pg;
                if ((gfp & Gfp.NoFail) == 0)
                {
                    // The OOM killer does not help costly orders, lowmem-only or single-node requests.
                    if (order > MmConstants.CostlyOrder) goto nopage;
                    if (highZoneIdx < (int)ZoneType.Normal) goto nopage;
                    if ((gfp & Gfp.ThisNode) != 0) goto nopage;
                    // Nobody was killed and nobody can be: give up rather than spin.
                    if (!killed) goto nopage;
                }
                else if (!killed)
                {
                    // __GFP_NOFAIL with nothing to kill: let time pass before starting over.
                    if (Congestion == null) goto nopage;
                    CongestionWait(ref current, CongestionTicks);
                }
                goto restart;
            }

            // 8. Retry rule: not __GFP_NORETRY, and order <= 3 or __GFP_REPEAT or __GFP_NOFAIL:
            //    wait for writeback to make progress and climb again from step 4.
            if (ShouldAllocRetry(gfp, order))
            {
                if (Congestion == null) goto nopage;   // nobody can let time pass: do not spin
                TraceStep(ref current, "retry: congestion_wait, rebalance", order, gfp);
                CongestionWait(ref current, CongestionTicks);
                goto rebalance;
            }

        nopage:
            // 9. Failure report unless __GFP_NOWARN.
            Stat.AllocFail++;
            TraceStep(ref current, "nopage", order, gfp);
            if ((gfp & Gfp.NoWarn) == 0) WarnAllocFailed(ref current, gfp, order);
            return NoPfn;
        got_pg:
            TraceStep(ref current, "got page", order, gfp);
            return pfn;
        }

        /// <summary>Writes one slow-path step to Trace (if set): "[comm] step order:N mode:0x...".</summary>
        private void TraceStep(ref TaskContext current, string step, int order, Gfp gfp)
        {
            ITextSink o = Trace;
            if (o == null) return;
            o.Write('[');
            o.Write(current.Comm != null ? current.Comm : "?");
            o.Write("] ");
            o.Write(step);
            o.Write(" order:");
            TextFormat.Dec(o, (ulong)order);
            o.Write(" mode:0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write('\n');
        }

        /// <summary>Writes a slow-path step with its ALLOC_* flags to Trace (if set).</summary>
        private void TraceFlags(ref TaskContext current, string step, AllocFlags f)
        {
            ITextSink o = Trace;
            if (o == null) return;
            o.Write('[');
            o.Write(current.Comm != null ? current.Comm : "?");
            o.Write("] ");
            o.Write(step);
            o.Write(" (ALLOC_WMARK_MIN");
            if ((f & AllocFlags.Harder) != 0) o.Write("|ALLOC_HARDER");
            if ((f & AllocFlags.High) != 0) o.Write("|ALLOC_HIGH");
            if ((f & AllocFlags.Cpuset) != 0) o.Write("|ALLOC_CPUSET");
            o.Write(")\n");
        }

        /// <summary>gfp_to_alloc_flags (seed era): ALLOC_WMARK_MIN, +HARDER for rt tasks not in interrupt or !wait, +HIGH for __GFP_HIGH, +CPUSET if the caller can wait.</summary>
        public static AllocFlags GfpToAllocFlags(ref TaskContext current, Gfp gfp)
        {
            bool wait = (gfp & Gfp.Wait) != 0;
            AllocFlags f = AllocFlags.WmarkMin;
            if (((current.Flags & TaskFlags.RealTime) != 0 && !current.InInterrupt) || !wait) f |= AllocFlags.Harder;
            if ((gfp & Gfp.High) != 0) f |= AllocFlags.High;
            if (wait) f |= AllocFlags.Cpuset;
            return f;
        }

        /// <summary>wake_all_kswapds: wakeup_kswapd(zone, order, classzone) for every zone of the zonelist.</summary>
        private void WakeAllKswapds(int zonelist, int order, int classzoneIdx)
        {
            if (Kswapd == null) return;
            for (int i = zonelist; _zonelists[i] >= 0; i++)
            {
                ref Zone z = ref _zones[_zonelists[i]];
                Kswapd.WakeupKswapd(z.Nid, z.Type, order, (ZoneType)classzoneIdx);
            }
        }

        /// <summary>__alloc_pages_high_priority: ALLOC_NO_WATERMARKS; with __GFP_NOFAIL, wait and try again until it succeeds.</summary>
        private ulong AllocPagesHighPriority(ref TaskContext current, Gfp gfp, int order, int zonelist, int classzoneIdx)
        {
            ulong pfn;
            do
            {
                pfn = GetPageFromFreelist(ref current, gfp, order, zonelist, 0, AllocFlags.NoWatermarks, classzoneIdx);
                if (pfn == NoPfn && (gfp & Gfp.NoFail) != 0)
                {
                    if (Congestion == null) return NoPfn;   // nobody can let time pass: do not spin
                    CongestionWait(ref current, CongestionTicks);
                }
            } while (pfn == NoPfn && (gfp & Gfp.NoFail) != 0);
            return pfn;
        }

        /// <summary>
        /// __alloc_pages_direct_reclaim: try_to_free_pages with PF_MEMALLOC set on the caller
        /// (so reclaim's own allocations may use the reserves), then one more try at the same
        /// flags, and once more after draining the per-cpu lists.
        /// </summary>
        private ulong AllocPagesDirectReclaim(ref TaskContext current, Gfp gfp, int order, int zonelist, int highZoneIdx,
            AllocFlags allocFlags, int classzoneIdx, out ulong didSomeProgress)
        {
            didSomeProgress = 0;
            if (DirectReclaim == null) return NoPfn;
            Stat.Allocstall++;
            if (Events != null) ReportAllocStall(ref current, gfp, order);
            TaskFlags saved = current.Flags & TaskFlags.MemAlloc;
            current.Flags |= TaskFlags.MemAlloc;
            didSomeProgress = DirectReclaim.TryToFreePages(ref current, gfp, order, (ZoneType)highZoneIdx);
            current.Flags = (current.Flags & ~TaskFlags.MemAlloc) | saved;
            if (didSomeProgress == 0) return NoPfn;
            ulong pfn = GetPageFromFreelist(ref current, gfp, order, zonelist, 0, allocFlags, classzoneIdx);
            if (pfn == NoPfn && Options.PerCpuLists)
            {
                // Pages may be pinned on the per-cpu lists: drain them and try again.
                DrainPerCpuLists();
                pfn = GetPageFromFreelist(ref current, gfp, order, zonelist, 0, allocFlags, classzoneIdx);
            }
            return pfn;
        }

        /// <summary>Tells the event hook that <paramref name="current"/> entered direct reclaim.</summary>
        private void ReportAllocStall(ref TaskContext current, Gfp gfp, int order)
        {
            AllocStall e = default;
            e.Pid = current.Pid;
            e.Comm = current.Comm;
            e.Order = order;
            e.Gfp = gfp;
            Events.AllocStalled(e);
        }

        /// <summary>
        /// __alloc_pages_may_oom: one OOM kill at a time per zonelist (else sleep a tick); one
        /// try at ALLOC_WMARK_HIGH to catch a parallel kill; no kill for order &gt; 3, for
        /// zones below Normal or for __GFP_THISNODE, unless __GFP_NOFAIL.
        /// </summary>
        private ulong AllocPagesMayOom(ref TaskContext current, Gfp gfp, int order, int zonelist, int highZoneIdx,
            int classzoneIdx, out bool killed)
        {
            killed = false;
            if (!TrySetZonelistOom(zonelist))
            {
                // Someone else is OOM killing: sleep a tick and let them finish. Without a way
                // to wait, treat it as "nothing killed" so the caller fails instead of spinning.
                if (Congestion == null) return NoPfn;
                CongestionWait(ref current, 1);
                killed = true;   // a victim is on its way out
                return NoPfn;
            }
            // Keep a very high watermark here: this only catches a parallel OOM kill.
            ulong pfn = GetPageFromFreelist(ref current, gfp | Gfp.Hardwall, order, zonelist, 0,
                AllocFlags.WmarkHigh | AllocFlags.Cpuset, classzoneIdx);
            if (pfn == NoPfn)
            {
                bool allowed = true;
                if ((gfp & Gfp.NoFail) == 0)
                {
                    if (order > MmConstants.CostlyOrder) allowed = false;        // does not help costly orders
                    if (highZoneIdx < (int)ZoneType.Normal) allowed = false;     // does not kill for lowmem
                    if ((gfp & Gfp.ThisNode) != 0) allowed = false;              // caller handles failure
                }
                if (allowed && OomKiller != null)
                    killed = OomKiller.OutOfMemory(ref current, gfp, order, (ZoneType)highZoneIdx);
            }
            ClearZonelistOom(zonelist);
            return pfn;
        }

        /// <summary>try_set_zonelist_oom: locks every zone of the zonelist for an OOM kill, or fails if one is locked.</summary>
        private bool TrySetZonelistOom(int zonelist)
        {
            for (int i = zonelist; _zonelists[i] >= 0; i++)
                if (_zones[_zonelists[i]].OomLocked) return false;
            for (int i = zonelist; _zonelists[i] >= 0; i++) _zones[_zonelists[i]].OomLocked = true;
            return true;
        }

        /// <summary>clear_zonelist_oom: unlocks every zone of the zonelist.</summary>
        private void ClearZonelistOom(int zonelist)
        {
            for (int i = zonelist; _zonelists[i] >= 0; i++) _zones[_zonelists[i]].OomLocked = false;
        }

        /// <summary>The seed's do_retry: never with __GFP_NORETRY; otherwise for order &lt;= 3, __GFP_REPEAT or __GFP_NOFAIL.</summary>
        public static bool ShouldAllocRetry(Gfp gfp, int order)
        {
            if ((gfp & Gfp.NoRetry) != 0) return false;
            if (order <= MmConstants.CostlyOrder) return true;
            if ((gfp & Gfp.Repeat) != 0) return true;
            if ((gfp & Gfp.NoFail) != 0) return true;
            return false;
        }

        /// <summary>The failure report: "&lt;comm&gt;: page allocation failure. order:N, mode:0x..." and show_mem, rate-limited as warn_alloc is.</summary>
        private void WarnAllocFailed(ref TaskContext current, Gfp gfp, int order)
        {
            ITextSink o = Log;
            if (o == null) return;
            // warn_alloc's nopage_rs: a burst of reports, then "warn_alloc: N callbacks suppressed".
            if (!WarnAllocLimit.Allow(Clock, o, "warn_alloc")) { Stat.WarnAllocSuppressed++; return; }
            o.Write(current.Comm != null ? current.Comm : "?");
            o.Write(": page allocation failure. order:");
            TextFormat.Dec(o, (ulong)order);
            o.Write(", mode:0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write('\n');
            ShowMem(o);
        }

        /// <summary>Logs an allocation refused before any attempt (order or zone bits out of range).</summary>
        private void WarnBadRequest(ref TaskContext current, string what, int order, Gfp gfp)
        {
            ITextSink o = Log;
            if (o == null) return;
            o.Write("WARNING: ");
            o.Write(current.Comm != null ? current.Comm : "?");
            o.Write(": alloc_pages refused: ");
            o.Write(what);
            o.Write(" (order:");
            TextFormat.Signed(o, order);
            o.Write(", mode:0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write(")\n");
        }
    }
}
