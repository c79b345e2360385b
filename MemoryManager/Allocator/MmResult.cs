namespace MemoryManager
{
    /// <summary>Every outcome of the memory manager's operations: errors are values, never exceptions.</summary>
    public enum MmResult
    {
        Ok,
        /// <summary>Order is negative or not below MAX_ORDER (11).</summary>
        BadOrder,
        /// <summary>The pfn lies outside the memory map's spanned range.</summary>
        PfnOutOfRange,
        /// <summary>The pfn is a hole or a reserved page (kernel image, memmap, firmware).</summary>
        NotManaged,
        /// <summary>The pfn is not aligned to 1 &lt;&lt; order.</summary>
        Misaligned,
        /// <summary>The page is already free (buddy or per-cpu list).</summary>
        DoubleFree,
        /// <summary>The block was allocated with another order.</summary>
        WrongOrder,
        /// <summary>The block is charged to another pid.</summary>
        NotOwner,
        /// <summary>The pfn is a tail page of an allocated block, not its head.</summary>
        NotHead,
        /// <summary>A free page's poison pattern was overwritten (use after free).</summary>
        PoisonCorrupted,
        /// <summary>No memory to satisfy the request.</summary>
        NoMemory,
        /// <summary>An argument is out of its allowed range (null pointer, empty map, bad gfp zone bits...).</summary>
        BadArgument,
        /// <summary>A fixed-capacity table is full.</summary>
        TableFull,
        /// <summary>The page is freed with flags that must be clear first (PG_lru, PG_active, PG_writeback, PG_swapcache, PG_slab).</summary>
        BadPageState,
    }

    /// <summary>A usable RAM range as a bootloader reports it (multiboot2 type 1), byte addresses.</summary>
    public struct MemoryRange
    {
        public ulong Start;
        public ulong Length;
        public int Nid;

        /// <summary>A range of length bytes from start on node nid.</summary>
        public MemoryRange(ulong start, ulong length, int nid) { Start = start; Length = length; Nid = nid; }
        public ulong End => Start + Length;
    }

    /// <summary>Set-up options of the page allocator. <c>new AllocatorOptions()</c> gives the defaults.</summary>
    public struct AllocatorOptions
    {
        /// <summary>Per-cpu page lists for order 0 (default true; off for teaching the bare buddy path).</summary>
        public bool PerCpuLists;
        /// <summary>Use the watermark_scale_factor rule (Linux 4.6+) instead of the seed-era low = min + min/4, high = min + min/2.</summary>
        public bool ModernWatermarks;
        /// <summary>watermark_scale_factor in 1/10000 of managed pages (default 10, range 1..3000).</summary>
        public int WatermarkScaleFactor;
        /// <summary>Use the later zone_watermark_ok (some free list at order &gt;= the request is non-empty) instead of the seed's per-order loop.</summary>
        public bool ModernWatermarkCheck;
        /// <summary>Fill free pages with 0xAA and verify on allocation (needs real memory behind the pages).</summary>
        public bool PoisonFreePages;
        /// <summary>
        /// Page contents are at their physical address: physBase 0 (null) then means an
        /// identity-mapped kernel, not "descriptors only".
        /// </summary>
        public bool IdentityMapped;
        /// <summary>min_free_kbytes to use instead of the computed one (0 = computed).</summary>
        public int MinFreeKbytesOverride;

        /// <summary>The defaults: per-cpu lists on, seed-era watermarks, scale factor 10, no poisoning, computed min_free_kbytes.</summary>
        public AllocatorOptions()
        {
            PerCpuLists = true;
            ModernWatermarks = false;
            WatermarkScaleFactor = 10;
            ModernWatermarkCheck = false;
            PoisonFreePages = false;
            IdentityMapped = false;
            MinFreeKbytesOverride = 0;
        }

        public static AllocatorOptions Default => new AllocatorOptions();
    }

    /// <summary>
    /// The physical memory map: usable ranges (by node) and reserved ranges, filled at set-up
    /// in fixed-capacity tables. Usable ranges may not overlap; reserved ranges may overlap
    /// anything (only their intersection with usable memory matters).
    /// </summary>
    public sealed class MemoryMap
    {
        public const int DefaultCapacity = 64;

        private readonly MemoryRange[] _usable;
        private readonly MemoryRange[] _reserved;
        private int _usableCount;
        private int _reservedCount;

        /// <summary>An empty map with room for DefaultCapacity usable and reserved ranges.</summary>
        public MemoryMap() : this(DefaultCapacity) { }

        /// <summary>An empty map with room for capacity usable and capacity reserved ranges.</summary>
        public MemoryMap(int capacity)
        {
            if (capacity < 1) capacity = 1;
            _usable = new MemoryRange[capacity];
            _reserved = new MemoryRange[capacity];
        }

        public int Count => _usableCount;
        public int ReservedCount => _reservedCount;
        public MemoryRange this[int i] => _usable[i];
        /// <summary>The i-th reserved range as given to Reserve.</summary>
        public MemoryRange Reserved(int i) => _reserved[i];

        /// <summary>Adds a usable range of node <paramref name="nid"/>; refuses empty, overlapping or out-of-range input. Ranges are kept sorted by start.</summary>
        public MmResult Add(ulong start, ulong length, int nid = 0)
        {
            if (length == 0 || start + length < start) return MmResult.BadArgument;
            if (nid < 0 || nid >= PageAllocator.MaxNodes) return MmResult.BadArgument;
            ulong end = start + length;
            for (int i = 0; i < _usableCount; i++)
            {
                if (start < _usable[i].End && _usable[i].Start < end) return MmResult.BadArgument;
            }
            if (_usableCount == _usable.Length) return MmResult.TableFull;
            int at = _usableCount;
            while (at > 0 && _usable[at - 1].Start > start) { _usable[at] = _usable[at - 1]; at--; }
            _usable[at] = new MemoryRange(start, length, nid);
            _usableCount++;
            return MmResult.Ok;
        }

        /// <summary>Marks a byte range as not managed by the allocator (kernel image, memmap, firmware tables).</summary>
        public MmResult Reserve(ulong start, ulong length)
        {
            if (length == 0 || start + length < start) return MmResult.BadArgument;
            if (_reservedCount == _reserved.Length) return MmResult.TableFull;
            _reserved[_reservedCount++] = new MemoryRange(start, length, 0);
            return MmResult.Ok;
        }

        /// <summary>Usable pages (after trimming partial pages at range edges).</summary>
        public ulong UsablePages
        {
            get
            {
                ulong n = 0;
                for (int i = 0; i < _usableCount; i++)
                {
                    ulong s = PageAllocator.PfnUp(_usable[i].Start), e = PageAllocator.PfnDown(_usable[i].End);
                    if (e > s) n += e - s;
                }
                return n;
            }
        }
    }
}
