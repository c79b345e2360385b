using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    // Watermarks (mm/page_alloc.c: init_per_zone_wmark_min, __setup_per_zone_wmarks,
    // setup_per_zone_lowmem_reserve, zone_watermark_ok).
    //
    //   free pages
    //     ^
    //     |  high  ..... kswapd stops here (balanced)
    //     |  low   ..... fast path allocates above this; below it kswapd is woken
    //     |  min   ..... slow path (ALLOC_WMARK_MIN) allocates above this;
    //     |              ALLOC_HIGH may use half of it, ALLOC_HARDER another quarter,
    //     |              ALLOC_NO_WATERMARKS (PF_MEMALLOC, TIF_MEMDIE) all of it
    //     0
    public sealed unsafe partial class PageAllocator
    {
        /// <summary>sysctl_lowmem_reserve_ratio: DMA 256, DMA32 256, Normal 32.</summary>
        public static int LowmemReserveRatio(ZoneType t) => t == ZoneType.Normal ? 32 : 256;

        /// <summary>int_sqrt: the largest r with r*r &lt;= x.</summary>
        public static ulong IntSqrt(ulong x)
        {
            ulong op = x, res = 0, one = 1UL << 62;
            while (one > op) one >>= 2;
            while (one != 0)
            {
                if (op >= res + one) { op -= res + one; res = (res >> 1) + one; }
                else res >>= 1;
                one >>= 2;
            }
            return res;
        }

        /// <summary>init_per_zone_wmark_min: min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to 128..262144.</summary>
        public static int CalculateMinFreeKbytes(ulong lowmemKbytes)
        {
            ulong m = IntSqrt(lowmemKbytes * 16);
            if (m < 128) m = 128;
            if (m > 262144) m = 262144;
            return (int)m;
        }

        /// <summary>Sets min_free_kbytes (sysctl vm.min_free_kbytes) and recomputes every zone's watermarks.</summary>
        public MmResult SetMinFreeKbytes(int kbytes)
        {
            if (kbytes < 0) return MmResult.BadArgument;
            MinFreeKbytes = kbytes;
            SetupPerZoneWmarks();
            return MmResult.Ok;
        }

        /// <summary>
        /// Sets vm.watermark_scale_factor (1..3000, in 1/10000 of a zone's managed pages) and
        /// switches to the watermark_scale_factor rule (Linux 4.6+); 0 goes back to the seed-era
        /// rule (low = min + min/4, high = min + min/2). Recomputes every zone's watermarks.
        /// </summary>
        public MmResult SetWatermarkScaleFactor(int factor)
        {
            if (factor < 0 || factor > 3000) return MmResult.BadArgument;
            if (factor == 0) Options.ModernWatermarks = false;
            else
            {
                Options.ModernWatermarks = true;
                Options.WatermarkScaleFactor = factor;
            }
            SetupPerZoneWmarks();
            return MmResult.Ok;
        }

        /// <summary>
        /// __setup_per_zone_wmarks: pages_min = min_free_kbytes in pages, shared among zones by
        /// managed pages. Seed era: low = min + min/4, high = min + min/2. Modern option:
        /// tmp = max(min/4, managed * watermark_scale_factor / 10000), low = min + tmp, high = low + tmp.
        /// Each zone's PcpFloor follows its new low mark.
        /// </summary>
        public void SetupPerZoneWmarks()
        {
            ulong pagesMin = (ulong)MinFreeKbytes >> (MmConstants.PageShift - 10);
            ulong lowmemPages = TotalManagedPages;
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                ulong tmp = lowmemPages == 0 ? 0 : pagesMin * z.ManagedPages / lowmemPages;
                z.WatermarkMin = (long)tmp;
                if (Options.ModernWatermarks)
                {
                    ulong scaled = z.ManagedPages * (ulong)Options.WatermarkScaleFactor / 10000;
                    ulong step = tmp >> 2;
                    if (scaled > step) step = scaled;
                    z.WatermarkLow = (long)(tmp + step);
                    z.WatermarkHigh = (long)(tmp + 2 * step);
                }
                else
                {
                    z.WatermarkLow = (long)(tmp + (tmp >> 2));
                    z.WatermarkHigh = (long)(tmp + (tmp >> 1));
                }
                // NR_ALLOC_BATCH follows the new marks (3.12+): high - low, depletion cleared.
                z.AllocBatch = z.WatermarkHigh - z.WatermarkLow;
                z.FairDepleted = false;
                z.PcpFloor = z.WatermarkLow + z.LowmemReserve[(int)z.Type];
            }
        }

        /// <summary>
        /// setup_per_zone_lowmem_reserve: lowmem_reserve[j] of zone i (i &lt; j) is the managed
        /// pages of zones i+1..j of the node divided by lowmem_reserve_ratio[i]; 0 for j &lt;= i.
        /// Each zone's PcpFloor follows.
        /// </summary>
        private void SetupPerZoneLowmemReserve()
        {
            for (int nid = 0; nid < NodeCount; nid++)
                for (int j = 0; j < MmConstants.MaxNrZones; j++)
                {
                    ulong managed = _zones[ZoneIndex(nid, j)].ManagedPages;
                    _zones[ZoneIndex(nid, j)].LowmemReserve[j] = 0;
                    for (int idx = j - 1; idx >= 0; idx--)
                    {
                        ref Zone lower = ref _zones[ZoneIndex(nid, idx)];
                        lower.LowmemReserve[j] = (long)(managed / (ulong)LowmemReserveRatio((ZoneType)idx));
                        managed += lower.ManagedPages;
                    }
                    for (int i = j + 1; i < MmConstants.MaxNrZones; i++) _zones[ZoneIndex(nid, i)].LowmemReserve[j] = 0;
                }
            for (int i = 0; i < _zones.Length; i++)
            {
                ref Zone z = ref _zones[i];
                z.PcpFloor = z.WatermarkLow + z.LowmemReserve[(int)z.Type];
            }
        }

        /// <summary>
        /// zone_watermark_ok, seed era: may 2^order pages be taken from z and leave it above
        /// mark (lowered by ALLOC_HIGH and ALLOC_HARDER) plus lowmem_reserve[classzoneIdx], with
        /// enough free memory left at every order at or above the request?
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool ZoneWatermarkOk(ref Zone z, int order, long mark, int classzoneIdx, AllocFlags flags)
        {
            long min = mark;
            long freePages = z.NrFree - (1L << order) + 1;   // may go negative: that's fine
            if ((flags & AllocFlags.High) != 0) min -= min / 2;
            if ((flags & AllocFlags.Harder) != 0) min -= min / 4;
            if (freePages <= min + z.LowmemReserve[classzoneIdx]) return false;
            for (int o = 0; o < order; o++)
            {
                // At the next order up, the pages of this order are not available.
                freePages -= (long)z.FreeAreaNrFree[o] << o;
                // Require fewer higher-order pages to be free.
                min >>= 1;
                if (freePages <= min) return false;
            }
            return true;
        }
    
        /// <summary>
        /// zone_watermark_ok of later kernels: the same min, ALLOC_HIGH, ALLOC_HARDER and
        /// lowmem_reserve test, then (for order &gt; 0) success as soon as a free list of the
        /// requested order or above is non-empty, instead of the seed's per-order loop.
        /// </summary>
        public static bool ZoneWatermarkOkModern(ref Zone z, int order, long mark, int classzoneIdx, AllocFlags flags)
        {
            long min = mark;
            long freePages = z.NrFree - (1L << order) + 1;
            if ((flags & AllocFlags.High) != 0) min -= min / 2;
            if ((flags & AllocFlags.Harder) != 0) min -= min / 4;
            if (freePages <= min + z.LowmemReserve[classzoneIdx]) return false;
            if (order == 0) return true;
            for (int o = order; o < MmConstants.MaxOrder; o++)
                if (z.FreeAreaNrFree[o] != 0) return true;
            return false;
        }
    }
}
