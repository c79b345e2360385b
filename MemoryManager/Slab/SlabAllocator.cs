using System.Runtime.CompilerServices;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Slab
{
    /// <summary>
    /// The kernel's object heap in the slab style: kmalloc caches of 8 B .. 8 KiB on slabs taken
    /// from the <see cref="PageAllocator"/>, larger objects straight from the buddy allocator.
    /// No managed allocation after <see cref="Create"/>; errors are values; messages go to Log.
    ///
    /// Files: SlabAllocator.cs (set-up, size classes, slab layout), SlabAlloc.cs (kmalloc),
    /// SlabFree.cs (kfree, ksize, the refusals), SlabInfo.cs (/proc/slabinfo),
    /// SlabChecker.cs (the invariant checker). docs/memory-manager.md, "The object heap (slab)".
    /// </summary>
    public sealed unsafe partial class SlabAllocator
    {
        /// <summary>The kmalloc size classes (Linux's kmalloc caches from kmalloc-8 to kmalloc-8k).</summary>
        public const int CacheCount = 13;
        /// <summary>The largest size a kmalloc cache serves; above it objects are whole buddy blocks.</summary>
        public const uint MaxCacheSize = 8192;
        /// <summary>The largest slab order calculate_order may choose (PAGE_ALLOC_COSTLY_ORDER).</summary>
        public const int MaxSlabOrder = MmConstants.CostlyOrder;
        /// <summary>The largest object: one block of order MAX_ORDER-1 (4 MiB).</summary>
        public const ulong MaxObjectSize = MmConstants.PageSize << MmConstants.LargestOrder;

        /// <summary>Top 16 bits of a slab head's Page.Private.</summary>
        public const ushort SlabMagic = 0x5AB0;
        /// <summary>End of a freelist (a byte offset no slab reaches: slabs are at most 32 KiB).</summary>
        public const ushort NoObject = 0xFFFF;
        /// <summary>KmemCache.BitmapOffset when the bitmap is the Private word of the slab's second page.</summary>
        public const uint NoBitmapInSlab = 0xFFFFFFFF;
        internal const byte ListNone = 0, ListPartial = 1, ListFull = 2, ListEmpty = 3;

        /// <summary>The page allocator the slabs come from.</summary>
        public readonly PageAllocator Pa;
        /// <summary>Where refusals and allocation failures are reported (Linux's "BUG kmalloc-64: ..." lines).</summary>
        public ITextSink Log;
        /// <summary>Empty slabs a cache keeps for the next allocation before it gives the rest back to the buddy allocator.</summary>
        public int MaxEmptySlabs = 1;

        /// <summary>Frees refused (bad pointer, double free, interior pointer, broken descriptor).</summary>
        public ulong RejectedFrees;
        /// <summary>Freelists found broken at allocation (a free object written after its free) and rebuilt from the bitmap.</summary>
        public ulong FreelistRepairs;
        /// <summary>Allocations that were in interrupt context with a gfp that may sleep (served as GFP_ATOMIC).</summary>
        public ulong AtomicDowngrades;
        /// <summary>Large kmalloc counters: allocations, frees, failed, blocks and pages in use.</summary>
        public ulong LargeAllocs, LargeFrees, LargeFailed, LargeObjects, LargePages;

        private readonly KmemCache[] _caches;
        private readonly string[] _names;
        private readonly byte[] _sizeIndex;   // cache index for sizes 1..8192, by (size - 1) >> 3 (Linux's size_index)
        private readonly Page* _memmap;        // descriptor of MinPfn
        private readonly byte* _base;          // bytes of MinPfn
        private readonly byte* _end;           // bytes just after MaxPfn - 1
        private readonly ulong _minPfn;

        private SlabAllocator(PageAllocator pa)
        {
            Pa = pa;
            Log = pa.Log;
            _caches = new KmemCache[CacheCount];
            _names = new string[CacheCount];
            _sizeIndex = new byte[MaxCacheSize / 8];
            _minPfn = pa.MinPfn;
            _memmap = pa.PfnToPage(pa.MinPfn);
            _base = pa.PageAddress(pa.MinPfn);
            _end = _base + ((pa.MaxPfn - pa.MinPfn) << MmConstants.PageShift);
        }

        /// <summary>
        /// kmem_cache_init: sets up the thirteen kmalloc caches over <paramref name="pa"/>, which
        /// must have real memory behind its pages (physBase given, or identity-mapped). Takes no
        /// pages yet: the first allocation of each class takes its first slab.
        /// </summary>
        public static SlabResult Create(PageAllocator pa, out SlabAllocator slab)
        {
            slab = null;
            if (pa == null) return SlabResult.NoPhysicalMemory;
            if (!pa.HasPhysicalMemory) return SlabResult.NoPhysicalMemory;
            var s = new SlabAllocator(pa);
            s.InitCache(0, "kmalloc-8", 8);
            s.InitCache(1, "kmalloc-16", 16);
            s.InitCache(2, "kmalloc-32", 32);
            s.InitCache(3, "kmalloc-64", 64);
            s.InitCache(4, "kmalloc-96", 96);
            s.InitCache(5, "kmalloc-128", 128);
            s.InitCache(6, "kmalloc-192", 192);
            s.InitCache(7, "kmalloc-256", 256);
            s.InitCache(8, "kmalloc-512", 512);
            s.InitCache(9, "kmalloc-1k", 1024);
            s.InitCache(10, "kmalloc-2k", 2048);
            s.InitCache(11, "kmalloc-4k", 4096);
            s.InitCache(12, "kmalloc-8k", 8192);
            int c = 0;
            for (uint i = 0; i < MaxCacheSize / 8; i++)
            {
                uint size = (i + 1) * 8;
                while (s._caches[c].ObjectSize < size) c++;
                s._sizeIndex[i] = (byte)c;
            }
            slab = s;
            return SlabResult.Ok;
        }

        private void InitCache(int index, string name, uint size)
        {
            ref KmemCache c = ref _caches[index];
            c.ObjectSize = size;
            CalculateOrder(size, out c.Order, out c.ObjectsPerSlab, out c.BitmapOffset);
            c.Reciprocal = ((1UL << 32) + size - 1) / size;
            c.Partial = Page.None;
            c.Full = Page.None;
            c.Empty = Page.None;
            _names[index] = name;
        }

        /// <summary>
        /// How a slab of 2^order pages holds objects of <paramref name="size"/>: the object count
        /// and where the allocation bitmap goes. A slab of two or more pages with at most 64
        /// objects keeps its bitmap in the Private word of its second page descriptor (no room
        /// taken from the objects); otherwise the bitmap sits at the end of the slab, after the
        /// last object, and takes room from the objects if the leftover is too small.
        /// </summary>
        public static uint ObjectsInSlab(uint size, int order, out uint bitmapOffset)
        {
            uint bytes = (uint)MmConstants.PageSize << order;
            uint n = bytes / size;
            if (order >= 1 && n <= 64) { bitmapOffset = NoBitmapInSlab; return n; }
            while (n > 0 && n * size + BitmapBytes(n) > bytes) n--;
            bitmapOffset = n * size;
            return n;
        }

        /// <summary>Bytes of an in-slab bitmap for n objects: whole 64-bit words.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint BitmapBytes(uint n) => ((n + 63) / 64) * 8;

        /// <summary>
        /// calculate_order in spirit: the smallest order (0 .. 3) whose slab holds at least 8
        /// objects (or as many as an order-3 slab can) and wastes at most 1/64 of the slab, then
        /// 1/16, 1/8, 1/4 when nothing qualifies. Waste counts the in-slab bitmap.
        /// </summary>
        public static void CalculateOrder(uint size, out int order, out uint objects, out uint bitmapOffset)
        {
            uint minObjects = 8;
            uint most = ObjectsInSlab(size, MaxSlabOrder, out _);
            if (most < minObjects) minObjects = most;
            for (int fraction = 64; fraction >= 4; fraction = fraction == 64 ? 16 : fraction / 2)
            {
                for (int o = 0; o <= MaxSlabOrder; o++)
                {
                    uint bytes = (uint)MmConstants.PageSize << o;
                    uint n = ObjectsInSlab(size, o, out uint bm);
                    if (n < minObjects) continue;
                    if ((bytes - n * size) * (uint)fraction > bytes) continue;
                    order = o; objects = n; bitmapOffset = bm;
                    return;
                }
            }
            order = MaxSlabOrder;
            objects = ObjectsInSlab(size, MaxSlabOrder, out bitmapOffset);
        }

        /// <summary>The cache of index 0 .. CacheCount-1 (a copy).</summary>
        public KmemCache Cache(int index) => _caches[index];
        /// <summary>The cache's name ("kmalloc-64", "kmalloc-1k").</summary>
        public string CacheName(int index) => _names[index];

        /// <summary>kmalloc_index: the cache that serves <paramref name="size"/> bytes (0 counts as 1), or -1 above 8 KiB.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int CacheIndexFor(nuint size)
        {
            if (size == 0) size = 1;
            if (size > MaxCacheSize) return -1;
            return _sizeIndex[(int)((size - 1) >> 3)];
        }

        /// <summary>The order of the large kmalloc block for <paramref name="size"/> bytes (get_order), or -1 above 4 MiB.</summary>
        public static int LargeOrder(nuint size)
        {
            if ((ulong)size > MaxObjectSize) return -1;
            int o = 0;
            while ((MmConstants.PageSize << o) < (ulong)size) o++;
            return o;
        }

        // ---- slab geometry -------------------------------------------------------------

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Page* Desc(ulong pfn) => _memmap + (pfn - _minPfn);

        // (p - _memmap) is a signed pointer difference, which the JIT divides by the descriptor
        // size with a rounding fix-up for negative values; p is never below _memmap, so the
        // byte distance is divided unsigned: one shift.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong PfnOf(Page* p) => _minPfn + (ulong)((byte*)p - (byte*)_memmap) / (ulong)sizeof(Page);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* AddressOf(Page* p) => _base + (((ulong)((byte*)p - (byte*)_memmap) / (ulong)sizeof(Page)) << MmConstants.PageShift);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static SlabState* StateOf(Page* head) => (SlabState*)&head->Private;

        /// <summary>The allocation bitmap of a slab: bit i set = object i is allocated.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong* BitmapOf(ref KmemCache c, Page* head)
            => c.BitmapOffset == NoBitmapInSlab ? &(head + 1)->Private : (ulong*)(AddressOf(head) + c.BitmapOffset);

        /// <summary>obj_to_index: the object at byte offset off of a slab, or NoObject when off is not an object's start.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static uint ObjectIndex(ref KmemCache c, ulong off)
        {
            // (No separate test of off against NoObject or the slab's size: whatever the product
            // gives for a wild off, passing i * size == off with i below ObjectsPerSlab means off is
            // an object's start, which lies below the largest slab, 32 KiB, so never NoObject.)
            uint i = (uint)((off * c.Reciprocal) >> 32);
            if ((ulong)i * c.ObjectSize != off || i >= c.ObjectsPerSlab) return NoObject;
            return i;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool TestBit(ulong* bm, uint i) => (bm[i >> 6] & (1UL << (int)(i & 63))) != 0;

        /// <summary>True when the memory at p belongs to the pages the page allocator manages (the spanned range).</summary>
        public bool InManagedMemory(void* p) => (byte*)p >= _base && (byte*)p < _end;

        // ---- slab lists (doubly linked through Page.Next / Page.Prev of slab head pages) ----

        private ref uint ListHead(ref KmemCache c, byte list)
        {
            if (list == ListPartial) return ref c.Partial;
            if (list == ListFull) return ref c.Full;
            return ref c.Empty;
        }

        private static void CountList(ref KmemCache c, byte list, int delta)
        {
            if (list == ListPartial) c.NrPartial = (uint)((int)c.NrPartial + delta);
            else if (list == ListFull) c.NrFull = (uint)((int)c.NrFull + delta);
            else c.NrEmpty = (uint)((int)c.NrEmpty + delta);
        }

        /// <summary>Pushes the slab at the front of one of the cache's lists.</summary>
        private void ListAdd(ref KmemCache c, Page* head, byte list)
        {
            ref uint h = ref ListHead(ref c, list);
            uint idx = (uint)(head - _memmap);
            head->Prev = Page.None;
            head->Next = h;
            if (h != Page.None) _memmap[h].Prev = idx;
            h = idx;
            StateOf(head)->List = list;
            CountList(ref c, list, 1);
        }

        /// <summary>Unlinks the slab from the list it is on.</summary>
        private void ListDel(ref KmemCache c, Page* head)
        {
            byte list = StateOf(head)->List;
            ref uint h = ref ListHead(ref c, list);
            uint next = head->Next, prev = head->Prev;
            if (prev != Page.None) _memmap[prev].Next = next; else h = next;
            if (next != Page.None) _memmap[next].Prev = prev;
            head->Next = Page.None;
            head->Prev = Page.None;
            StateOf(head)->List = ListNone;
            CountList(ref c, list, -1);
        }

        /// <summary>Moves the slab to another list if it is not on that one already.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void ListMove(ref KmemCache c, Page* head, byte list)
        {
            if (StateOf(head)->List == list) return;
            ListDel(ref c, head);
            ListAdd(ref c, head, list);
        }
    }
}
