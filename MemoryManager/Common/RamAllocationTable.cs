namespace MemoryManager.Common
{
    /// <summary>Cosmos's RAT page types: one byte per page. A run is its first page's type then Extension bytes.</summary>
    public enum RatPageType : byte
    {
        Empty = 0,
        GCManaged = 1,
        HeapSmall = 3,
        HeapMedium = 5,
        HeapLarge = 7,
        /// <summary>Not in Cosmos: a run of whole pages handed out by the heap's page entry point (Heap.AllocPages).</summary>
        PageRun = 9,
        Rat = 32,
        Smt = 64,
        Extension = 128,
    }

    public enum RatResult : byte
    {
        Ok = 0,
        /// <summary>No run of free pages long enough (Cosmos returns null).</summary>
        OutOfMemory,
        /// <summary>A count of zero, or a page type that cannot start a run.</summary>
        BadRequest,
        /// <summary>The page is outside the table.</summary>
        OutOfRange,
        /// <summary>The page is free already (double free).</summary>
        NotAllocated,
        /// <summary>The page is the middle of a run, not its first page.</summary>
        NotRunStart,
        /// <summary>The page holds the table itself.</summary>
        TableSelf,
    }

    /// <summary>
    /// The default kernel heap we replace: Cosmos's RAM Allocation Table. One byte per 4 KiB
    /// page, kept at the end of the memory it manages; allocation is a linear scan, single
    /// pages from the bottom, runs from the top; free clears up to the next non-Extension byte.
    /// It tracks pages only: zero-filling and addresses are the heap's business.
    /// The table memory is supplied from outside (the kernel: the end of the heap region;
    /// the host: native memory), so nothing here touches the managed heap.
    /// </summary>
    public unsafe struct RamAllocationTable
    {
        /// <summary>Returned by <see cref="AllocPages"/> on failure.</summary>
        public const ulong NoPage = 0xFFFFFFFFFFFFFFFFUL;

        private byte* _table;
        private ulong _pages;
        private ulong _free;

        public ulong TotalPages => _pages;
        public ulong FreePages => _free;
        public byte* Table => _table;

        /// <summary>Bytes of table needed to manage <paramref name="pages"/> pages.</summary>
        public static ulong TableBytes(ulong pages) => pages;

        /// <summary>
        /// Sets up a table over <paramref name="pages"/> pages. When <paramref name="tableInsideManagedRange"/>
        /// is true the table occupies the last pages of the range itself, as in Cosmos, and
        /// those pages are marked <see cref="RatPageType.Rat"/>.
        /// </summary>
        public static RatResult Init(byte* table, ulong pages, bool tableInsideManagedRange, out RamAllocationTable rat)
        {
            rat = default;
            if (table == null || pages == 0) return RatResult.BadRequest;
            rat._table = table;
            rat._pages = pages;
            for (ulong i = 0; i < pages; i++) table[i] = (byte)RatPageType.Empty;
            rat._free = pages;
            if (tableInsideManagedRange)
            {
                ulong tablePages = (pages + MmConstants.PageSize - 1) / MmConstants.PageSize;
                if (tablePages >= pages) return RatResult.OutOfMemory;
                ulong first = pages - tablePages;
                table[first] = (byte)RatPageType.Rat;
                for (ulong i = first + 1; i < pages; i++) table[i] = (byte)RatPageType.Extension;
                rat._free -= tablePages;
            }
            return RatResult.Ok;
        }

        /// <summary>
        /// Cosmos's AllocPages: a linear scan of the whole table. One page comes from the
        /// lowest free page; a run of several comes from the highest free run.
        /// </summary>
        public ulong AllocPages(RatPageType type, ulong count)
        {
            // Rat marks the table's own pages: a run of that type could never be freed again.
            if (count == 0 || type == RatPageType.Empty || type == RatPageType.Extension || type == RatPageType.Rat) return NoPage;
            ulong start = NoPage;
            if (count == 1)
            {
                for (ulong i = 0; i < _pages; i++)
                {
                    if (_table[i] == (byte)RatPageType.Empty) { start = i; break; }
                }
            }
            else
            {
                ulong run = 0;
                for (ulong i = _pages; i > 0; i--)
                {
                    if (_table[i - 1] == (byte)RatPageType.Empty)
                    {
                        run++;
                        if (run == count) { start = i - 1; break; }
                    }
                    else run = 0;
                }
            }
            if (start == NoPage) return NoPage;
            _table[start] = (byte)type;
            for (ulong i = 1; i < count; i++) _table[start + i] = (byte)RatPageType.Extension;
            _free -= count;
            return start;
        }

        /// <summary>Frees the run that starts at <paramref name="page"/>; refuses anything else.</summary>
        public RatResult Free(ulong page, out ulong pagesFreed)
        {
            pagesFreed = 0;
            if (page >= _pages) return RatResult.OutOfRange;
            byte t = _table[page];
            if (t == (byte)RatPageType.Empty) return RatResult.NotAllocated;
            if (t == (byte)RatPageType.Extension) return RatResult.NotRunStart;
            if (t == (byte)RatPageType.Rat) return RatResult.TableSelf;
            _table[page] = (byte)RatPageType.Empty;
            ulong n = 1;
            for (ulong i = page + 1; i < _pages && _table[i] == (byte)RatPageType.Extension; i++)
            {
                _table[i] = (byte)RatPageType.Empty;
                n++;
            }
            _free += n;
            pagesFreed = n;
            return RatResult.Ok;
        }

        /// <summary>
        /// Recounts the free pages from the table itself, for a table whose bytes were written
        /// directly (restored from a snapshot, or laid out by a benchmark fixture).
        /// </summary>
        public void RecountFreePages()
        {
            ulong free = 0;
            for (ulong i = 0; i < _pages; i++)
                if (_table[i] == (byte)RatPageType.Empty) free++;
            _free = free;
        }

        /// <summary>The type byte of a page (Empty, a run start, or Extension).</summary>
        public RatPageType TypeOf(ulong page) => page < _pages ? (RatPageType)_table[page] : RatPageType.Empty;

        /// <summary>Length in pages of the run starting at <paramref name="page"/>, 0 if none starts there.</summary>
        public ulong RunLength(ulong page)
        {
            if (page >= _pages) return 0;
            byte t = _table[page];
            if (t == (byte)RatPageType.Empty || t == (byte)RatPageType.Extension) return 0;
            ulong n = 1;
            while (page + n < _pages && _table[page + n] == (byte)RatPageType.Extension) n++;
            return n;
        }
    }
}
