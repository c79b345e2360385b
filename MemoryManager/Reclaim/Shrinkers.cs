using MemoryManager.Allocator;
using MemoryManager.Core;

namespace MemoryManager.Reclaim
{
    /// <summary>
    /// The shrinker registry and shrink_slab (mm/shrinker.c, mm/vmscan.c do_shrink_slab). A fixed
    /// table of <see cref="Capacity"/> slots made at set-up: register_shrinker and
    /// unregister_shrinker fill and empty a slot, shrink_slab walks the table; nothing allocates.
    /// Each slot keeps its shrinker's nr_deferred: scan work that was due but not done (the
    /// amount was below a batch, or the shrinker said SHRINK_STOP) is carried to the next call.
    ///
    /// The scan amount (do_shrink_slab): delta = 4 * nr_scanned / seeks * freeable / (lru_pages + 1)
    /// (Linux before 4.16: the cache is scanned in the proportion the LRU lists were), and at least
    /// (freeable >> priority) * 4 / seeks (the 4.16+ form, which asks a cache even when the LRU
    /// lists are nearly empty, as a kernel heap full of objects is). The larger of the two is
    /// taken; that is our simplification. Then Linux's bounds: the deferred work is added; when
    /// delta is under freeable / 4 the total is held to freeable / 2; it never exceeds 2 * freeable;
    /// the shrinker is called in batches while the total is at least a batch or at least freeable.
    /// </summary>
    public sealed class Shrinkers
    {
        /// <summary>Slots in the registry.</summary>
        public const int Capacity = 8;
        /// <summary>SHRINK_STOP: ScanObjects cannot make progress now (wrong context, or nothing left).</summary>
        public const ulong ShrinkStop = ~0UL;
        /// <summary>DEFAULT_SEEKS.</summary>
        public const int DefaultSeeks = 2;
        /// <summary>SHRINK_BATCH: objects per ScanObjects call when a shrinker names no batch.</summary>
        public const ulong ShrinkBatch = 128;

        private readonly PageAllocator _pa;
        private readonly IShrinker[] _slots = new IShrinker[Capacity];
        private readonly ulong[] _nrDeferred = new ulong[Capacity];
        private int _count;

        /// <summary>shrink_slab calls, and of those the ones that asked at least one shrinker to scan.</summary>
        public ulong Calls, CallsThatScanned;
        /// <summary>ScanObjects calls answered with SHRINK_STOP.</summary>
        public ulong Stops;

        /// <summary>A registry whose counters go to <paramref name="pa"/>'s vmstat (slabs_scanned, slabs_freed). Set-up only.</summary>
        public Shrinkers(PageAllocator pa) { _pa = pa; }

        /// <summary>Registered shrinkers.</summary>
        public int Count => _count;

        /// <summary>Work carried over for <paramref name="s"/> (0 when it is not registered).</summary>
        public ulong NrDeferred(IShrinker s)
        {
            int i = SlotOf(s);
            return i < 0 ? 0 : _nrDeferred[i];
        }

        /// <summary>register_shrinker(): BadArgument for null, seeks below 1 or a shrinker already registered; TableFull when every slot is taken.</summary>
        public MmResult Register(IShrinker s)
        {
            if (s == null || s.Seeks < 1 || SlotOf(s) >= 0) return MmResult.BadArgument;
            for (int i = 0; i < Capacity; i++)
            {
                if (_slots[i] != null) continue;
                _slots[i] = s;
                _nrDeferred[i] = 0;
                _count++;
                return MmResult.Ok;
            }
            return MmResult.TableFull;
        }

        /// <summary>unregister_shrinker(): BadArgument when <paramref name="s"/> is not registered.</summary>
        public MmResult Unregister(IShrinker s)
        {
            int i = SlotOf(s);
            if (i < 0) return MmResult.BadArgument;
            _slots[i] = null;
            _nrDeferred[i] = 0;
            _count--;
            return MmResult.Ok;
        }

        private int SlotOf(IShrinker s)
        {
            if (s == null) return -1;
            for (int i = 0; i < Capacity; i++) if (_slots[i] == s) return i;
            return -1;
        }

        /// <summary>
        /// shrink_slab(): asks every registered shrinker, in registration order, to scan in
        /// proportion to the <paramref name="nrScanned"/> LRU pages just scanned out of
        /// <paramref name="lruPages"/>, at <paramref name="priority"/>. Returns the objects freed;
        /// <paramref name="pagesFreed"/> gets the pages the shrinkers gave back.
        /// </summary>
        public ulong ShrinkSlab(Gfp gfp, int nid, ulong nrScanned, ulong lruPages, int priority, bool isKswapd, out ulong pagesFreed)
        {
            pagesFreed = 0;
            Calls++;
            if (_count == 0) return 0;
            ulong freed = 0;
            bool scanned = false;
            for (int i = 0; i < Capacity; i++)
            {
                if (_slots[i] == null) continue;
                freed += DoShrinkSlab(i, gfp, nid, nrScanned, lruPages, priority, isKswapd, ref pagesFreed, ref scanned);
            }
            if (scanned) CallsThatScanned++;
            return freed;
        }

        /// <summary>
        /// The objects <see cref="ShrinkSlab"/> asks a cache of <paramref name="freeable"/>
        /// objects to scan before deferred work and bounds: the larger of the pre-4.16 delta
        /// (proportional to the LRU pages scanned) and the 4.16+ one (freeable >> priority), each times 4 / seeks.
        /// </summary>
        public static ulong ScanDelta(ulong freeable, int seeks, ulong nrScanned, ulong lruPages, int priority)
        {
            if (seeks < 1) seeks = 1;
            if (priority < 0) priority = 0;
            ulong byLru = 4 * nrScanned / (ulong)seeks;
            byLru = byLru * freeable / (lruPages + 1);
            ulong byPriority = priority >= 64 ? 0 : (freeable >> priority) * 4 / (ulong)seeks;
            return byLru > byPriority ? byLru : byPriority;
        }

        /// <summary>do_shrink_slab() for slot <paramref name="i"/>.</summary>
        private ulong DoShrinkSlab(int i, Gfp gfp, int nid, ulong nrScanned, ulong lruPages, int priority, bool isKswapd,
            ref ulong pagesFreed, ref bool anyScan)
        {
            IShrinker s = _slots[i];
            ShrinkControl ctl = default;
            ctl.GfpMask = gfp;
            ctl.Nid = nid;
            ctl.IsKswapd = isKswapd;
            ulong freeable = s.CountObjects(ref ctl);
            if (freeable == 0 || freeable == ShrinkStop) return 0;
            ulong batch = s.Batch == 0 ? ShrinkBatch : s.Batch;

            ulong nr = _nrDeferred[i];
            _nrDeferred[i] = 0;
            ulong delta = ScanDelta(freeable, s.Seeks, nrScanned, lruPages, priority);
            ulong total = nr + delta;
            ulong nextDeferred = total;
            // Do not let deferred work from earlier passes empty a cache at once when little is asked now.
            if (delta < freeable / 4 && total > freeable / 2) total = freeable / 2;
            if (total > freeable * 2) total = freeable * 2;

            ulong freed = 0, scanned = 0;
            while (total >= batch || total >= freeable)
            {
                ulong n = total < batch ? total : batch;
                ctl.NrToScan = n;
                ctl.NrScanned = n;
                ctl.PagesFreed = 0;
                anyScan = true;
                ulong ret = s.ScanObjects(ref ctl);
                pagesFreed += ctl.PagesFreed;
                if (ret == ShrinkStop) { Stops++; break; }
                freed += ret;
                _pa.Stat.SlabsScanned += ctl.NrScanned;
                _pa.Stat.SlabsFreed += ret;
                scanned += ctl.NrScanned;
                if (ctl.NrScanned == 0) break;                       // a shrinker that scans nothing would loop forever
                total = ctl.NrScanned >= total ? 0 : total - ctl.NrScanned;
            }
            nextDeferred = nextDeferred > scanned ? nextDeferred - scanned : 0;
            if (nextDeferred > freeable * 2) nextDeferred = freeable * 2;
            _nrDeferred[i] = nextDeferred;
            return freed;
        }
    }
}
