using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    // /proc/buddyinfo, /proc/zoneinfo, /proc/vmstat, /proc/meminfo and show_mem, written to an
    // ITextSink piece by piece (no strings are built).
    public sealed unsafe partial class PageAllocator
    {
        /// <summary>/proc/buddyinfo: "Node 0, zone   Normal" then nr_free of each order in columns of 6.</summary>
        public void WriteBuddyInfo(ITextSink o)
        {
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                if (!z.IsPopulated) continue;
                ZoneHeader(o, ref z);
                o.Write(' ');
                for (int k = 0; k < MmConstants.MaxOrder; k++)
                {
                    TextFormat.Dec(o, z.FreeAreaNrFree[k], 6);
                    o.Write(' ');
                }
                o.Write('\n');
            }
        }

        /// <summary>"Node 0, zone   Normal": how buddyinfo and zoneinfo name a zone.</summary>
        private static void ZoneHeader(ITextSink o, ref Zone z)
        {
            o.Write("Node ");
            TextFormat.Dec(o, (ulong)z.Nid);
            o.Write(", zone ");
            TextFormat.Right(o, z.Name, 8);
        }

        /// <summary>One zoneinfo line: indent, name padded to width, value.</summary>
        private static void Field(ITextSink o, string indent, string name, int width, long value)
        {
            o.Write(indent);
            TextFormat.Left(o, name, width);
            o.Write(' ');
            TextFormat.Signed(o, value);
            o.Write('\n');
        }

        /// <summary>/proc/zoneinfo: per zone pages free/min/low/high/spanned/present/managed, protection and the pageset.</summary>
        public void WriteZoneInfo(ITextSink o)
        {
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                if (!z.IsPopulated) continue;
                ZoneHeader(o, ref z);
                o.Write('\n');
                o.Write("  pages free     ");
                TextFormat.Signed(o, z.NrFree);
                o.Write('\n');
                Field(o, "        ", "min", 8, z.WatermarkMin);
                Field(o, "        ", "low", 8, z.WatermarkLow);
                Field(o, "        ", "high", 8, z.WatermarkHigh);
                Field(o, "        ", "scanned", 8, (long)z.PagesScanned);
                Field(o, "        ", "spanned", 8, (long)z.SpannedPages);
                Field(o, "        ", "present", 8, (long)z.PresentPages);
                Field(o, "        ", "managed", 8, (long)z.ManagedPages);
                Field(o, "    ", "nr_free_pages", 0, z.NrFree);
                o.Write("        protection: (");
                for (int k = 0; k < MmConstants.MaxNrZones; k++)
                {
                    if (k != 0) o.Write(", ");
                    TextFormat.Signed(o, z.LowmemReserve[k]);
                }
                o.Write(")\n");
                o.Write("  pagesets\n    cpu: 0\n");
                o.Write("              count: "); TextFormat.Signed(o, z.Pcp.Count); o.Write('\n');
                o.Write("              high:  "); TextFormat.Signed(o, z.Pcp.High); o.Write('\n');
                o.Write("              batch: "); TextFormat.Signed(o, z.Pcp.Batch); o.Write('\n');
                if (NodeCount > 1)
                {
                    Field(o, "    ", "numa_hit", 0, (long)z.NumaHit);
                    Field(o, "    ", "numa_miss", 0, (long)z.NumaMiss);
                    Field(o, "    ", "numa_foreign", 0, (long)z.NumaForeign);
                    Field(o, "    ", "numa_local", 0, (long)z.NumaLocal);
                    Field(o, "    ", "numa_other", 0, (long)z.NumaOther);
                }
                o.Write("  all_unreclaimable: "); o.Write(z.AllUnreclaimable ? '1' : '0'); o.Write('\n');
                o.Write("  start_pfn:         "); TextFormat.Dec(o, z.ZoneStartPfn); o.Write('\n');
            }
        }

        /// <summary>One vmstat line: "name value".</summary>
        private static void Line(ITextSink o, string name, ulong value)
        {
            o.Write(name);
            o.Write(' ');
            TextFormat.Dec(o, value);
            o.Write('\n');
        }

        /// <summary>/proc/vmstat: "name value" lines.</summary>
        public void WriteVmStat(ITextSink o)
        {
            Line(o, "nr_free_pages", NrFreePages);
            Line(o, "nr_inactive_anon", Stat.NrInactiveAnon);
            Line(o, "nr_active_anon", Stat.NrActiveAnon);
            Line(o, "nr_inactive_file", Stat.NrInactiveFile);
            Line(o, "nr_active_file", Stat.NrActiveFile);
            Line(o, "pswpin", Stat.Pswpin);
            Line(o, "pswpout", Stat.Pswpout);
            Line(o, "pgalloc_dma", Stat.PgallocDma);
            Line(o, "pgalloc_dma32", Stat.PgallocDma32);
            Line(o, "pgalloc_normal", Stat.PgallocNormal);
            Line(o, "pgfree", Stat.Pgfree);
            Line(o, "pgsteal_kswapd", Stat.PgstealKswapd);
            Line(o, "pgsteal_direct", Stat.PgstealDirect);
            Line(o, "pgscan_kswapd", Stat.PgscanKswapd);
            Line(o, "pgscan_direct", Stat.PgscanDirect);
            Line(o, "slabs_scanned", Stat.SlabsScanned);
            Line(o, "slabs_freed", Stat.SlabsFreed);
            Line(o, "kswapd_low_wmark_hit_quickly", Stat.KswapdLowWmarkHitQuickly);
            Line(o, "kswapd_high_wmark_hit_quickly", Stat.KswapdHighWmarkHitQuickly);
            Line(o, "pageoutrun", Stat.Pageoutrun);
            Line(o, "allocstall", Stat.Allocstall);
            Line(o, "compact_stall", Stat.CompactStall);
            Line(o, "oom_kill", Stat.OomKill);
            if (NodeCount > 1)
            {
                // CONFIG_NUMA's lines (a one-node machine prints none of them, as a kernel without NUMA).
                NumaCounters(-1, out ulong hit, out ulong miss, out ulong foreign, out ulong local, out ulong other);
                Line(o, "numa_hit", hit);
                Line(o, "numa_miss", miss);
                Line(o, "numa_foreign", foreign);
                Line(o, "numa_local", local);
                Line(o, "numa_other", other);
                Line(o, "zone_reclaim_failed", Stat.ZoneReclaimFailed);
            }
            Line(o, "alloc_fail", Stat.AllocFail);
            Line(o, "warn_alloc_suppressed", Stat.WarnAllocSuppressed);
        }

        /// <summary>The numa_* counters of node <paramref name="nid"/>'s zones summed (all nodes for -1).</summary>
        public void NumaCounters(int nid, out ulong hit, out ulong miss, out ulong foreign, out ulong local, out ulong other)
        {
            hit = miss = foreign = local = other = 0;
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                if (nid >= 0 && z.Nid != nid) continue;
                hit += z.NumaHit; miss += z.NumaMiss; foreign += z.NumaForeign; local += z.NumaLocal; other += z.NumaOther;
            }
        }

        /// <summary>numastat: one column per node (node0, node1, ...) of numa_hit, numa_miss, numa_foreign, local_node, other_node.</summary>
        public void WriteNumaStat(ITextSink o)
        {
            TextFormat.Left(o, "", 16);
            for (int n = 0; n < NodeCount; n++)
            {
                TextFormat.Left(o, "", 11 - (n >= 10 ? 1 : 0));
                o.Write("node");
                TextFormat.Dec(o, (ulong)n);
            }
            o.Write('\n');
            for (int row = 0; row < 5; row++)
            {
                TextFormat.Left(o, row == 0 ? "numa_hit" : row == 1 ? "numa_miss" : row == 2 ? "numa_foreign" : row == 3 ? "local_node" : "other_node", 16);
                for (int n = 0; n < NodeCount; n++)
                {
                    NumaCounters(n, out ulong hit, out ulong miss, out ulong foreign, out ulong local, out ulong other);
                    ulong v = row == 0 ? hit : row == 1 ? miss : row == 2 ? foreign : row == 3 ? local : other;
                    TextFormat.Dec(o, v, 16);
                }
                o.Write('\n');
            }
        }

        /// <summary>Managed and free pages (buddy lists plus per-cpu lists) of node <paramref name="nid"/>.</summary>
        public void NodePages(int nid, out ulong managed, out ulong free)
        {
            managed = free = 0;
            for (int t = 0; t < MmConstants.MaxNrZones && (uint)nid < (uint)NodeCount; t++)
            {
                ref Zone z = ref _zones[ZoneIndex(nid, t)];
                managed += z.ManagedPages;
                free += (ulong)z.NrFree + (ulong)z.Pcp.Count;
            }
        }

        /// <summary>Present pages (usable RAM the firmware gave the node, reserved pages included) of node <paramref name="nid"/>.</summary>
        public ulong NodePresentPages(int nid)
        {
            ulong present = 0;
            for (int t = 0; t < MmConstants.MaxNrZones && (uint)nid < (uint)NodeCount; t++) present += _zones[ZoneIndex(nid, t)].PresentPages;
            return present;
        }

        /// <summary>
        /// numactl --hardware, reduced: "available: N nodes (0-N-1)", each node's size (present) and
        /// free memory in MB, the zonelist order and the node distance table.
        /// </summary>
        public void WriteNumaHardware(ITextSink o)
        {
            o.Write("available: "); TextFormat.Dec(o, (ulong)NodeCount); o.Write(NodeCount == 1 ? " node (0" : " nodes (0");
            if (NodeCount > 1) { o.Write('-'); TextFormat.Dec(o, (ulong)(NodeCount - 1)); }
            o.Write(")\n");
            for (int n = 0; n < NodeCount; n++)
            {
                NodePages(n, out ulong managed, out ulong free);
                o.Write("node "); TextFormat.Dec(o, (ulong)n); o.Write(" size: "); TextFormat.Dec(o, NodePresentPages(n) >> 8); o.Write(" MB\n");
                o.Write("node "); TextFormat.Dec(o, (ulong)n); o.Write(" free: "); TextFormat.Dec(o, free >> 8); o.Write(" MB\n");
            }
            o.Write("zonelist order: "); o.Write(Options.ZonelistOrder == ZonelistOrder.Zone ? "Zone" : "Node");
            o.Write("\nnode distances:\nnode ");
            for (int n = 0; n < NodeCount; n++) TextFormat.Dec(o, (ulong)n, 4);
            o.Write('\n');
            for (int f = 0; f < NodeCount; f++)
            {
                TextFormat.Dec(o, (ulong)f, 3); o.Write(": ");
                for (int t = 0; t < NodeCount; t++) TextFormat.Dec(o, (ulong)NodeDistance(f, t), 4);
                o.Write('\n');
            }
        }

        /// <summary>One meminfo line: label padded to 16, pages in kB right-aligned in 8, " kB".</summary>
        private static void Kb(ITextSink o, string label, ulong pages)
        {
            TextFormat.Left(o, label, 16);
            TextFormat.Dec(o, pages << (MmConstants.PageShift - 10), 8);
            o.Write(" kB\n");
        }

        /// <summary>totalreserve_pages: per zone the high watermark plus its largest lowmem_reserve.</summary>
        public ulong TotalReservePages
        {
            get
            {
                ulong sum = 0;
                for (int i = 0; i < _zones.Length; i++)
                {
                    long max = 0;
                    for (int k = 0; k < MmConstants.MaxNrZones; k++) if (_zones[i].LowmemReserve[k] > max) max = _zones[i].LowmemReserve[k];
                    long r = max + _zones[i].WatermarkHigh;
                    if (r > (long)_zones[i].ManagedPages) r = (long)_zones[i].ManagedPages;
                    sum += (ulong)r;
                }
                return sum;
            }
        }

        /// <summary>si_mem_available: free pages above the reserves plus the page cache that could be dropped.</summary>
        public ulong MemAvailablePages
        {
            get
            {
                long wmarkLow = 0;
                for (int i = 0; i < _zones.Length; i++) wmarkLow += _zones[i].WatermarkLow;
                long available = (long)(NrFreePages + PcpPages) - (long)TotalReservePages;
                long pagecache = (long)(Stat.NrActiveFile + Stat.NrInactiveFile);
                long keep = pagecache / 2 < wmarkLow ? pagecache / 2 : wmarkLow;
                available += pagecache - keep;
                return available < 0 ? 0 : (ulong)available;
            }
        }

        /// <summary>/proc/meminfo: the lines the allocator and reclaim know about.</summary>
        public void WriteMemInfo(ITextSink o)
        {
            Kb(o, "MemTotal:", TotalManagedPages);
            Kb(o, "MemFree:", NrFreePages + PcpPages);
            Kb(o, "MemAvailable:", MemAvailablePages);
            Kb(o, "Active:", Stat.NrActiveAnon + Stat.NrActiveFile);
            Kb(o, "Inactive:", Stat.NrInactiveAnon + Stat.NrInactiveFile);
            Kb(o, "Active(anon):", Stat.NrActiveAnon);
            Kb(o, "Inactive(anon):", Stat.NrInactiveAnon);
            Kb(o, "Active(file):", Stat.NrActiveFile);
            Kb(o, "Inactive(file):", Stat.NrInactiveFile);
            Kb(o, "SwapTotal:", Stat.SwapTotalPages);
            Kb(o, "SwapFree:", Stat.SwapFreePages);
        }

        /// <summary>show_mem: per zone free and watermarks in kB, then its free blocks as "N*4kB ... = total".</summary>
        public void ShowMem(ITextSink o)
        {
            o.Write("Mem-Info:\n");
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                if (!z.IsPopulated) continue;
                o.Write("Node "); TextFormat.Dec(o, (ulong)z.Nid); o.Write(' '); o.Write(z.Name);
                o.Write(" free:"); TextFormat.Signed(o, z.NrFree * 4);
                o.Write("kB min:"); TextFormat.Signed(o, z.WatermarkMin * 4);
                o.Write("kB low:"); TextFormat.Signed(o, z.WatermarkLow * 4);
                o.Write("kB high:"); TextFormat.Signed(o, z.WatermarkHigh * 4);
                o.Write("kB present:"); TextFormat.Dec(o, z.PresentPages * 4);
                o.Write("kB managed:"); TextFormat.Dec(o, z.ManagedPages * 4);
                o.Write("kB pcp:"); TextFormat.Signed(o, z.Pcp.Count * 4L);
                o.Write("kB\n");
            }
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                if (!z.IsPopulated) continue;
                o.Write("Node "); TextFormat.Dec(o, (ulong)z.Nid); o.Write(' '); o.Write(z.Name); o.Write(':');
                ulong total = 0;
                for (int k = 0; k < MmConstants.MaxOrder; k++)
                {
                    o.Write(' ');
                    TextFormat.Dec(o, z.FreeAreaNrFree[k]);
                    o.Write('*');
                    TextFormat.Dec(o, 4UL << k);
                    o.Write("kB");
                    total += z.FreeAreaNrFree[k] * (4UL << k);
                }
                o.Write(" = "); TextFormat.Dec(o, total); o.Write("kB\n");
            }
            TextFormat.Dec(o, NrFreePages + PcpPages);
            o.Write(" pages free, ");
            TextFormat.Dec(o, TotalManagedPages);
            o.Write(" pages managed\n");
        }
    }
}
