using System;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Reclaim;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>
    /// A cache of kernel pages (off the LRU) that gives them back when a shrinker call asks:
    /// one object = one page. Its pages are taken in advance; scanning allocates nothing.
    /// </summary>
    public sealed class PageCacheShrinker : IShrinker
    {
        private readonly PageAllocator _pa;
        private readonly ulong[] _pfns;
        private int _held;
        public int Seeks { get; set; } = Shrinkers.DefaultSeeks;
        public ulong Batch { get; set; }
        /// <summary>Answer every scan with SHRINK_STOP.</summary>
        public bool Stop;
        public int CountCalls, ScanCalls, KswapdScans, DirectScans;
        public ulong Asked, Freed;

        public PageCacheShrinker(PageAllocator pa, int pages)
        {
            _pa = pa;
            _pfns = new ulong[pages];
            var k = new TaskContext(0, "cache", TaskFlags.MemAlloc);
            for (; _held < pages; _held++)
            {
                _pfns[_held] = pa.AllocPages(ref k, Gfp.GFP_KERNEL | Gfp.NoKswapd | Gfp.NoWarn, 0);
                Assert.NotEqual(PageAllocator.NoPfn, _pfns[_held]);
            }
        }

        public int Held => _held;

        public ulong CountObjects(ref ShrinkControl sc) { CountCalls++; return (ulong)_held; }

        public ulong ScanObjects(ref ShrinkControl sc)
        {
            ScanCalls++;
            if (sc.IsKswapd) KswapdScans++; else DirectScans++;
            Asked += sc.NrToScan;
            if (Stop) return Shrinkers.ShrinkStop;
            ulong n = 0;
            while (n < sc.NrToScan && _held > 0)
            {
                _pa.FreePages(_pfns[--_held], 0, 0);
                n++;
            }
            sc.PagesFreed += n;
            Freed += n;
            return n;
        }

        public void Release() { while (_held > 0) _pa.FreePages(_pfns[--_held], 0, 0); }
    }

    /// <summary>A cache that only counts: CountObjects says <see cref="Objects"/>, a scan frees what it is asked.</summary>
    public sealed class CountingShrinker : IShrinker
    {
        public ulong Objects;
        public ulong Asked;
        public int Calls;
        public int Seeks { get; set; } = Shrinkers.DefaultSeeks;
        public ulong Batch { get; set; }
        public ulong CountObjects(ref ShrinkControl sc) => Objects;
        public ulong ScanObjects(ref ShrinkControl sc)
        {
            Calls++;
            ulong n = sc.NrToScan < Objects ? sc.NrToScan : Objects;
            Objects -= n;
            Asked += sc.NrToScan;
            return n;
        }
    }

    /// <summary>Linux's shrinker interface (mm/shrinker.c, shrink_slab in mm/vmscan.c), one rule per test.</summary>
    public sealed class ShrinkerTests
    {
        [Fact]
        public void Direct_reclaim_asks_a_registered_shrinker_and_the_pages_it_gives_back_are_progress()
        {
            using var r = new Rig();
            var cache = new PageCacheShrinker(r.Pa, 2000);
            Assert.Equal(MmResult.Ok, r.Vm.Shrinkers.Register(cache));
            ulong free = r.Pa.NrFreePages;
            ulong progress = r.Reclaim();                     // nothing on the LRU lists: only the cache can help
            Assert.True(progress > 0, "the cache's pages counted as reclaim progress");
            Assert.Equal(cache.Freed, progress);
            Assert.Equal(free + cache.Freed, r.Pa.NrFreePages);
            Assert.True(cache.DirectScans > 0 && cache.KswapdScans == 0);
            Assert.Equal(cache.Asked, r.Pa.Stat.SlabsScanned);
            Assert.Equal(cache.Freed, r.Pa.Stat.SlabsFreed);
            cache.Release();
            r.AssertNoPageLost();
        }

        [Fact]
        public void The_allocator_slow_path_reaches_the_shrinker_through_direct_reclaim()
        {
            using var r = new Rig(memory: 16 * Rig.MiB, swapSlots: 0);
            var cache = new PageCacheShrinker(r.Pa, 1500);
            r.Vm.Shrinkers.Register(cache);
            r.TakeKernelPagesUntil(z => z.WatermarkMin - 1);   // below min in every zone: the fast path and kswapd's wake cannot help
            var t = new TaskContext(50, "user", TaskFlags.None);
            ulong pfn = r.Pa.AllocPages(ref t, Gfp.GFP_KERNEL | Gfp.NoKswapd, 0);
            Assert.NotEqual(PageAllocator.NoPfn, pfn);
            Assert.Equal(1UL, r.Pa.Stat.Allocstall);
            Assert.True(cache.DirectScans > 0);
            Assert.Equal(0UL, r.Pa.Stat.OomKill);
        }

        [Fact]
        public void Kswapd_balance_asks_a_registered_shrinker_and_reaches_the_high_watermark_with_its_pages()
        {
            using var r = new Rig(memory: 16 * Rig.MiB, swapSlots: 0);
            var cache = new PageCacheShrinker(r.Pa, 2000);
            r.Vm.Shrinkers.Register(cache);
            r.TakeKernelPagesUntil(z => z.WatermarkLow - 1);
            r.Vm.Kswapd.WakeupKswapd(0, ZoneType.Dma32, 0, ZoneType.Dma32);
            ulong reclaimed = 0;
            for (int i = 0; i < 200 && !r.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32); i++) reclaimed += r.Vm.Kswapd.Step(0);
            Assert.True(r.Vm.Kswapd.PgdatBalanced(0, 0, ZoneType.Dma32), "kswapd balanced the node with the cache's pages");
            Assert.True(cache.KswapdScans > 0 && cache.DirectScans == 0);
            Assert.Equal(cache.Freed, reclaimed);
            Assert.Equal(0, r.Vm.Nodes[0].Kswapd.Failures);
        }

        [Fact]
        public void SHRINK_STOP_ends_the_shrinker_call_and_its_work_is_deferred()
        {
            using var r = new Rig();
            var cache = new PageCacheShrinker(r.Pa, 2000) { Stop = true };
            r.Vm.Shrinkers.Register(cache);
            ulong calls = r.Vm.Shrinkers.Calls;
            Assert.Equal(0UL, r.Reclaim());
            ulong shrinkSlabCalls = r.Vm.Shrinkers.Calls - calls;
            Assert.True(cache.ScanCalls > 0, "the cache was asked");
            Assert.True((ulong)cache.ScanCalls <= shrinkSlabCalls, "at most one scan per shrink_slab call: none after SHRINK_STOP");
            Assert.Equal((ulong)cache.ScanCalls, r.Vm.Shrinkers.Stops);
            Assert.Equal(2000, cache.Held);
            Assert.Equal(0UL, r.Pa.Stat.SlabsScanned);
            Assert.True(r.Vm.Shrinkers.NrDeferred(cache) > 0, "the work it refused is carried to the next call");
            cache.Release();
        }

        [Fact]
        public void The_scan_amount_grows_with_the_LRU_pages_scanned_and_with_falling_priority_and_shrinks_with_seeks()
        {
            ulong a = Shrinkers.ScanDelta(10000, 2, 100, 10000, 12);
            ulong b = Shrinkers.ScanDelta(10000, 2, 1000, 10000, 12);
            Assert.Equal(199UL, a);                 // 4 * 100 / 2 * 10000 / 10001
            Assert.Equal(1999UL, b);
            Assert.True(Shrinkers.ScanDelta(10000, 2, 0, 10000, 12) < Shrinkers.ScanDelta(10000, 2, 0, 10000, 4));
            Assert.Equal(2UL * (10000 >> 4), Shrinkers.ScanDelta(10000, 2, 0, 10000, 4));   // (freeable >> priority) * 4 / seeks
            Assert.Equal(b / 2 + 1, Shrinkers.ScanDelta(10000, 4, 1000, 10000, 12) + 1);   // twice the seeks, half the scan
        }

        [Fact]
        public void Shrink_slab_asks_more_of_a_cache_under_more_pressure()
        {
            using var r = new Rig();
            var light = new CountingShrinker { Objects = 100000 };
            var heavy = new CountingShrinker { Objects = 100000 };
            r.Vm.Shrinkers.Register(light);
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 1000, 100000, 12, false, out _);
            r.Vm.Shrinkers.Unregister(light);
            r.Vm.Shrinkers.Register(heavy);
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 10000, 100000, 12, false, out _);
            Assert.True(light.Asked > 0);
            Assert.True(heavy.Asked >= 9 * light.Asked, $"ten times the LRU scan asked {heavy.Asked} against {light.Asked}");
        }

        [Fact]
        public void Work_below_a_batch_is_deferred_until_it_adds_up_to_one()
        {
            using var r = new Rig();
            var c = new CountingShrinker { Objects = 100000, Batch = 128 };
            r.Vm.Shrinkers.Register(c);
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 32, 100000, 12, false, out _);   // delta 63
            Assert.Equal(0, c.Calls);
            Assert.Equal(63UL, r.Vm.Shrinkers.NrDeferred(c));
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 32, 100000, 12, false, out _);
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 32, 100000, 12, false, out _);   // 189 >= 128: one batch
            Assert.Equal(1, c.Calls);
            Assert.Equal(128UL, c.Asked);
            Assert.Equal(61UL, r.Vm.Shrinkers.NrDeferred(c));
        }

        [Fact]
        public void A_task_inside_memalloc_noshrink_reclaims_pages_but_never_runs_the_shrinkers()
        {
            using var r = new Rig();
            var cache = new PageCacheShrinker(r.Pa, 2000);
            r.Vm.Shrinkers.Register(cache);
            int hog = r.Spawn("hog");
            r.TouchAnon(hog, 200);
            var t = new TaskContext(0, "heap", TaskFlags.MemAlloc | TaskFlags.MemallocNoshrink);
            ulong progress = r.Vm.Vmscan.TryToFreePages(ref t, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            Assert.True(progress > 0, "LRU pages were reclaimed");
            Assert.Equal(0, cache.CountCalls);
            Assert.Equal(0UL, r.Vm.Shrinkers.Calls);
            cache.Release();
        }

        [Fact]
        public void The_shrinker_sees_the_reclaim_gfp_mask_after_the_task_scopes()
        {
            var seen = new GfpRecorder();
            using var r = new Rig();
            r.Vm.Shrinkers.Register(seen);
            var t = new TaskContext(0, "fs", TaskFlags.MemAlloc);
            r.Vm.Vmscan.TryToFreePages(ref t, Gfp.GFP_NOFS, 0, ZoneType.Normal);
            Assert.Equal(Gfp.GFP_NOFS, seen.Gfp);
        }

        private sealed class GfpRecorder : IShrinker
        {
            public Gfp Gfp;
            public int Seeks => Shrinkers.DefaultSeeks;
            public ulong Batch => 0;
            public ulong CountObjects(ref ShrinkControl sc) { Gfp = sc.GfpMask; return 0; }
            public ulong ScanObjects(ref ShrinkControl sc) => 0;
        }

        [Fact]
        public void Registration_refuses_null_a_duplicate_zero_seeks_and_a_full_table()
        {
            using var r = new Rig();
            Shrinkers s = r.Vm.Shrinkers;
            Assert.Equal(MmResult.BadArgument, s.Register(null));
            Assert.Equal(MmResult.BadArgument, s.Register(new CountingShrinker { Seeks = 0 }));
            var one = new CountingShrinker();
            Assert.Equal(MmResult.Ok, s.Register(one));
            Assert.Equal(MmResult.BadArgument, s.Register(one));
            for (int i = 1; i < Shrinkers.Capacity; i++) Assert.Equal(MmResult.Ok, s.Register(new CountingShrinker()));
            Assert.Equal(MmResult.TableFull, s.Register(new CountingShrinker()));
            Assert.Equal(MmResult.Ok, s.Unregister(one));
            Assert.Equal(MmResult.BadArgument, s.Unregister(one));
            Assert.Equal(Shrinkers.Capacity - 1, s.Count);
        }

        [Fact]
        public void Proc_vmstat_shows_slabs_scanned_and_slabs_freed()
        {
            using var r = new Rig();
            var cache = new PageCacheShrinker(r.Pa, 2000);
            r.Vm.Shrinkers.Register(cache);
            r.Reclaim();
            var o = new StringSink();
            r.Pa.WriteVmStat(o);
            Assert.Contains($"slabs_scanned {r.Pa.Stat.SlabsScanned}\n", o.ToString());
            Assert.Contains($"slabs_freed {cache.Freed}\n", o.ToString());
            Assert.True(cache.Freed > 0);
            cache.Release();
        }

        [Fact]
        public void Shrink_slab_and_reclaim_with_a_shrinker_allocate_no_managed_memory()
        {
            using var r = new Rig();
            var cache = new PageCacheShrinker(r.Pa, 6000);
            var counting = new CountingShrinker { Objects = 1000000 };
            r.Vm.Shrinkers.Register(cache);
            r.Vm.Shrinkers.Register(counting);
            r.Reclaim();                                                   // warm-up (JIT)
            r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 100, 1000, 3, true, out _);
            long allocated = -1;
            for (int round = 1; round <= 3 && allocated != 0; round++)   // as NoAllocationTests: a stray runtime allocation is retried
            {
                ulong freed = cache.Freed;
                long before = GC.GetAllocatedBytesForCurrentThread();
                r.Reclaim();
                r.Vm.Shrinkers.ShrinkSlab(Gfp.GFP_KERNEL, 0, 100, 1000, 3, true, out _);
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(cache.Freed > freed, "the round freed cache pages");
            }
            Assert.Equal(0, allocated);
            cache.Release();
        }
    }
}
