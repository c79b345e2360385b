namespace MemoryManager.Core
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
}
