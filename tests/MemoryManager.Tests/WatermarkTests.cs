using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>min_free_kbytes, min/low/high, lowmem_reserve and zone_watermark_ok.</summary>
    public unsafe class WatermarkTests
    {
        [Theory]
        [InlineData(16UL * 1024, 512)]          // 16 MiB
        [InlineData(64UL * 1024, 1024)]         // 64 MiB
        [InlineData(256UL * 1024, 2048)]        // 256 MiB
        [InlineData(1024UL * 1024, 4096)]       // 1 GiB
        [InlineData(4UL * 1024 * 1024, 8192)]   // 4 GiB
        [InlineData(16UL * 1024 * 1024, 16384)] // 16 GiB
        public void Min_free_kbytes_is_the_square_root_of_lowmem_kbytes_times_16(ulong lowmemKbytes, int expected)
        {
            Assert.Equal(expected, PageAllocator.CalculateMinFreeKbytes(lowmemKbytes));
        }

        [Fact]
        public void Min_free_kbytes_is_clamped_to_128_and_262144()
        {
            Assert.Equal(128, PageAllocator.CalculateMinFreeKbytes(512));               // 512 kB -> 90
            Assert.Equal(262144, PageAllocator.CalculateMinFreeKbytes(8UL << 30));       // 8 TiB -> 370727
        }

        [Fact]
        public void Int_sqrt_is_the_floor_of_the_square_root()
        {
            Assert.Equal(0UL, PageAllocator.IntSqrt(0));
            Assert.Equal(1UL, PageAllocator.IntSqrt(3));
            Assert.Equal(2UL, PageAllocator.IntSqrt(4));
            Assert.Equal(99UL, PageAllocator.IntSqrt(9999));
            Assert.Equal(100UL, PageAllocator.IntSqrt(10000));
            Assert.Equal(4294967295UL, PageAllocator.IntSqrt(ulong.MaxValue));
        }

        [Fact]
        public void The_allocator_computes_min_free_kbytes_from_its_managed_memory()
        {
            using var m = Flat(1 * GiB);
            Assert.Equal(4096, m.Pa.MinFreeKbytes);
        }

        [Fact]
        public void Pages_min_is_shared_among_zones_by_managed_pages()
        {
            using var m = Flat(1 * GiB);   // pages_min = 4096 kB = 1024 pages
            Assert.Equal(1024L * 4096 / 262144, m.Zone(ZoneType.Dma).WatermarkMin);       // 16
            Assert.Equal(1024L * 258048 / 262144, m.Zone(ZoneType.Dma32).WatermarkMin);   // 1008
        }

        [Fact]
        public void Seed_era_low_is_min_plus_a_quarter_and_high_is_min_plus_a_half()
        {
            using var m = Flat(1 * GiB);
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            Assert.Equal(1008 + 252, z.WatermarkLow);
            Assert.Equal(1008 + 504, z.WatermarkHigh);
        }

        [Fact]
        public void Modern_watermarks_step_by_watermark_scale_factor_of_managed_pages()
        {
            var map = new MemoryMap();
            map.Add(0, 1 * GiB);
            using var m = new Machine(map, new AllocatorOptions { ModernWatermarks = true, WatermarkScaleFactor = 10 });
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            // max(1008 / 4, 258048 * 10 / 10000) = max(252, 258) = 258
            Assert.Equal(1008, z.WatermarkMin);
            Assert.Equal(1008 + 258, z.WatermarkLow);
            Assert.Equal(1008 + 2 * 258, z.WatermarkHigh);
            using var m2 = new Machine(map, new AllocatorOptions { ModernWatermarks = true, WatermarkScaleFactor = 1 });
            Assert.Equal(1008 + 252, m2.Zone(ZoneType.Dma32).WatermarkLow);   // the min/4 floor wins
        }

        [Fact]
        public void Watermark_scale_factor_outside_1_to_3000_is_refused()
        {
            var map = new MemoryMap();
            map.Add(0, 4 * MiB);
            Assert.Equal(MmResult.BadArgument, PageAllocator.Create(map, (Page*)8, null, new AllocatorOptions { WatermarkScaleFactor = 3001 }, out _));
        }

        [Fact]
        public void Changing_min_free_kbytes_recomputes_the_watermarks()
        {
            using var m = Flat(1 * GiB);
            Assert.Equal(MmResult.Ok, m.Pa.SetMinFreeKbytes(8192));
            Assert.Equal(2016, m.Zone(ZoneType.Dma32).WatermarkMin);
            Assert.Equal(MmResult.BadArgument, m.Pa.SetMinFreeKbytes(-1));
        }

        [Fact]
        public void Lowmem_reserve_divides_the_managed_pages_above_by_the_ratios_256_256_32()
        {
            Assert.Equal(256, PageAllocator.LowmemReserveRatio(ZoneType.Dma));
            Assert.Equal(256, PageAllocator.LowmemReserveRatio(ZoneType.Dma32));
            Assert.Equal(32, PageAllocator.LowmemReserveRatio(ZoneType.Normal));
            using var m = Flat(6 * GiB);
            ref Zone dma = ref m.Zone(ZoneType.Dma);
            ref Zone dma32 = ref m.Zone(ZoneType.Dma32);
            ref Zone normal = ref m.Zone(ZoneType.Normal);
            Assert.Equal(1044480UL, dma32.ManagedPages);
            Assert.Equal(524288UL, normal.ManagedPages);
            Assert.Equal(new long[] { 0, 1044480 / 256, (1044480 + 524288) / 256 }, new[] { dma.Protection(0), dma.Protection(1), dma.Protection(2) });
            Assert.Equal(new long[] { 0, 0, 524288 / 256 }, new[] { dma32.Protection(0), dma32.Protection(1), dma32.Protection(2) });
            Assert.Equal(new long[] { 0, 0, 0 }, new[] { normal.Protection(0), normal.Protection(1), normal.Protection(2) });
        }

        private static Zone ZoneWith(long free, int order0Blocks = -1)
        {
            var z = new Zone();
            z.NrFree = free;
            z.FreeAreaNrFree[0] = order0Blocks < 0 ? (ulong)free : (ulong)order0Blocks;
            return z;
        }

        [Fact]
        public void Watermark_ok_requires_free_pages_above_the_mark()
        {
            var z = ZoneWith(101);
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.WmarkLow));
            z = ZoneWith(100);
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.WmarkLow));
        }

        [Fact]
        public void Watermark_ok_counts_the_request_itself_as_taken()
        {
            // free = 104 - 4 + 1 = 101 > 100
            var z = new Zone(); z.NrFree = 104; z.FreeAreaNrFree[2] = 26;
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
            z.NrFree = 103; z.FreeAreaNrFree[2] = 25; z.FreeAreaNrFree[0] = 3;
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
        }

        [Fact]
        public void ALLOC_HIGH_halves_the_mark_and_ALLOC_HARDER_takes_a_quarter_more()
        {
            var z = ZoneWith(51);
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.None));
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.High));       // 50
            z = ZoneWith(76);
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.Harder));     // 75
            z = ZoneWith(39);
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.High | AllocFlags.Harder));   // 50 - 50/4 = 38
            z = ZoneWith(38);
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 0, 100, 0, AllocFlags.High | AllocFlags.Harder));
        }

        [Fact]
        public void Watermark_ok_adds_the_lowmem_reserve_of_the_classzone()
        {
            var z = ZoneWith(550);
            z.LowmemReserve[2] = 500;
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 40, 0, AllocFlags.None));
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 0, 50, 2, AllocFlags.None));
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 0, 49, 2, AllocFlags.None));
        }

        [Fact]
        public void Watermark_ok_for_higher_orders_discounts_smaller_blocks_and_halves_min_per_order()
        {
            // 1000 free pages, all single: nothing is left once order-0 pages are discounted.
            var z = ZoneWith(1000);
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
            // The same 1000 pages as 250 order-2 blocks pass.
            z = new Zone(); z.NrFree = 1000; z.FreeAreaNrFree[2] = 250;
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
            // 200 singles + 200 order-2 blocks: after order 0, 1000-4+1-200 = 797 > 50; order 1 leaves 797 > 25.
            z = new Zone(); z.NrFree = 1000; z.FreeAreaNrFree[0] = 200; z.FreeAreaNrFree[2] = 200;
            Assert.True(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
            // 960 singles + 10 order-2 blocks: 997 - 960 = 37 <= 50 fails at the first step.
            z = new Zone(); z.NrFree = 1000; z.FreeAreaNrFree[0] = 960; z.FreeAreaNrFree[2] = 10;
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
        }
    
        [Fact]
        public void The_later_watermark_check_only_needs_a_free_block_at_or_above_the_order()
        {
            // 960 singles + 10 order-2 blocks: the seed's loop refuses an order-2 request, the later rule accepts it.
            var z = new Zone(); z.NrFree = 1000; z.FreeAreaNrFree[0] = 960; z.FreeAreaNrFree[2] = 10;
            Assert.False(PageAllocator.ZoneWatermarkOk(ref z, 2, 100, 0, AllocFlags.None));
            Assert.True(PageAllocator.ZoneWatermarkOkModern(ref z, 2, 100, 0, AllocFlags.None));
            // No block of order 2 or more: refused however much is free.
            z = ZoneWith(1000);
            Assert.False(PageAllocator.ZoneWatermarkOkModern(ref z, 2, 100, 0, AllocFlags.None));
            // The min/reserve part is the same as the seed's.
            z = new Zone(); z.NrFree = 100; z.FreeAreaNrFree[4] = 6;
            Assert.False(PageAllocator.ZoneWatermarkOkModern(ref z, 0, 100, 0, AllocFlags.None));
            Assert.True(PageAllocator.ZoneWatermarkOkModern(ref z, 0, 100, 0, AllocFlags.High));
        }

        [Fact]
        public void The_allocator_uses_the_later_watermark_check_when_asked()
        {
            ulong Attempt(bool later)
            {
                var map = new MemoryMap();
                map.Add(0, 4 * MiB);
                using var m = new Machine(map, new AllocatorOptions { PerCpuLists = false, ModernWatermarkCheck = later });
                m.Pa.SetMinFreeKbytes(512);   // min 128, low 160 pages
                var taker = m.Task;
                taker.Flags = TaskFlags.MemAlloc;
                for (int i = 0; i < 1024; i++) Assert.Equal((ulong)i, m.Pa.AllocPages(ref taker, Gfp.GFP_KERNEL, 0));
                for (ulong pfn = 0; pfn < 400; pfn += 2) m.Free(pfn, 0);      // 200 singles that cannot merge
                for (ulong pfn = 512; pfn < 520; pfn++) m.Free(pfn, 0);       // one order-3 block
                Assert.Equal(208, m.Zone(ZoneType.Dma).NrFree);
                ulong got = m.Alloc(Gfp.GFP_KERNEL | Gfp.NoWarn | Gfp.NoRetry | Gfp.NoKswapd, 3);
                m.AssertInvariants();
                return got;
            }
            Assert.Equal(PageAllocator.NoPfn, Attempt(later: false));   // the seed discounts the 200 singles
            Assert.Equal(512UL, Attempt(later: true));                  // the later rule sees the order-3 block
        }
    }
}
