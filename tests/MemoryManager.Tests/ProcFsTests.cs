using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>/proc/buddyinfo, /proc/zoneinfo, /proc/vmstat, /proc/meminfo and show_mem.</summary>
    public unsafe class ProcFsTests
    {
        [Fact]
        public void Buddyinfo_prints_nr_free_of_each_order_per_zone_in_the_proc_format()
        {
            using var m = Flat(64 * MiB, pcp: false);
            m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(
                "Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      4 \n" +
                "Node 0, zone    DMA32      1      1      1      1      1      1      1      1      1      1     11 \n",
                m.BuddyInfo());
        }

        [Fact]
        public void Zoneinfo_prints_pages_watermarks_spans_protection_and_pagesets()
        {
            using var m = Flat(64 * MiB);
            string s = m.ZoneInfo();
            // 64 MiB: min_free_kbytes 1024 = 256 pages: DMA gets 256 * 4096 / 16384 = 64, DMA32 192.
            Assert.Contains(
                "Node 0, zone      DMA\n" +
                "  pages free     4096\n" +
                "        min      64\n" +
                "        low      80\n" +
                "        high     96\n" +
                "        scanned  0\n" +
                "        spanned  4096\n" +
                "        present  4096\n" +
                "        managed  4096\n" +
                "    nr_free_pages 4096\n" +
                "        protection: (0, 48, 48)\n" +
                "  pagesets\n" +
                "    cpu: 0\n" +
                "              count: 0\n" +
                "              high:  0\n" +
                "              batch: 1\n", s);
            Assert.Contains("Node 0, zone    DMA32\n  pages free     12288\n        min      192\n", s);
            Assert.Contains("              high:  18\n              batch: 3\n", s);
            Assert.Contains("  start_pfn:         4096\n", s);
        }

        [Fact]
        public void Vmstat_counts_allocations_per_zone_frees_and_allocstall()
        {
            using var m = Flat(64 * MiB, pcp: false);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 2);
            ulong b = m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma, 0);
            m.Free(a, 2);
            m.Free(b, 0);
            string s = m.VmStat();
            Assert.Contains("\npgalloc_dma 1\n", s);
            Assert.Contains("\npgalloc_dma32 4\n", s);
            Assert.Contains("\npgalloc_normal 0\n", s);
            Assert.Contains("\npgfree 5\n", s);
            Assert.StartsWith("nr_free_pages 16384\n", s);
            foreach (var name in new[] { "allocstall", "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct",
                "pageoutrun", "kswapd_low_wmark_hit_quickly", "kswapd_high_wmark_hit_quickly", "compact_stall", "oom_kill", "pswpin", "pswpout" })
                Assert.Contains("\n" + name + " 0\n", s);
        }

        [Fact]
        public void Meminfo_prints_kB_values_in_the_proc_columns()
        {
            using var m = Flat(64 * MiB, pcp: false);
            m.Alloc(Gfp.GFP_KERNEL, 8);   // 1 MiB
            m.Pa.Stat.NrActiveFile = 10;
            string s = m.MemInfo();
            Assert.StartsWith("MemTotal:          65536 kB\nMemFree:           64512 kB\nMemAvailable:   ", s);
            Assert.True(s.Contains("Active(file):         40 kB\n"), s);
            Assert.Contains("SwapTotal:             0 kB\n", s);
        }

        [Fact]
        public void Mem_available_is_free_memory_above_the_reserves()
        {
            using var m = Flat(64 * MiB, pcp: false);
            // high watermarks 96 + 288 plus the largest protections 48 + 0
            Assert.Equal(96UL + 48 + 288, m.Pa.TotalReservePages);
            Assert.Equal(16384UL - 432, m.Pa.MemAvailablePages);
        }

        [Fact]
        public void Show_mem_lists_each_zones_free_blocks_in_kB()
        {
            using var m = Flat(64 * MiB, pcp: false);
            var s = new StringSink();
            m.Pa.ShowMem(s);
            Assert.Contains("Node 0 DMA: 0*4kB 0*8kB 0*16kB 0*32kB 0*64kB 0*128kB 0*256kB 0*512kB 0*1024kB 0*2048kB 4*4096kB = 16384kB\n", s.ToString());
            Assert.Contains("16384 pages free, 16384 pages managed\n", s.ToString());
        }

        [Fact]
        public void The_number_formatter_pads_signs_and_prints_hex()
        {
            var s = new StringSink();
            TextFormat.Dec(s, 42, 6); s.Write('|');
            TextFormat.Signed(s, -7, 4); s.Write('|');
            TextFormat.Signed(s, long.MinValue); s.Write('|');
            TextFormat.Hex(s, 0x200d0); s.Write('|');
            TextFormat.Hex(s, 0x1f, 5); s.Write('|');
            TextFormat.Dec(s, ulong.MaxValue);
            Assert.Equal("    42|  -7|-9223372036854775808|200d0|0001f|18446744073709551615", s.ToString());
        }

        [Fact]
        public void The_invariant_checker_reports_a_corrupted_free_list()
        {
            using var m = Flat(64 * MiB, pcp: false);
            m.Zone(ZoneType.Dma32).FreeAreaNrFree[10]++;
            string report = m.Invariants();
            Assert.Contains("free list length differs from nr_free", report);
            m.Zone(ZoneType.Dma32).FreeAreaNrFree[10]--;
            m.AssertInvariants();
        }

        [Fact]
        public unsafe void The_invariant_checker_reports_a_lost_page_and_unmerged_buddies()
        {
            using var m = Flat(4 * MiB, pcp: false);
            m.Pa.SetMinFreeKbytes(0);
            ulong a = m.Alloc(Gfp.GFP_KERNEL, 0);
            Page* p = m.Pa.PfnToPage(a);
            p->RefCount = 0;   // neither free nor allocated
            Assert.Contains("managed page in no state", m.Invariants());
            p->RefCount = 1;
            m.AssertInvariants();
            Page* half = m.Pa.PfnToPage(1);   // the free order-0 buddy of pfn 0
            p->Flags = PageFlags.Buddy; p->RefCount = 0; p->Owner = -1;   // pretend pfn 0 is free but was never merged
            Assert.Contains("free buddies left unmerged", m.Invariants());
        }
    }
}
