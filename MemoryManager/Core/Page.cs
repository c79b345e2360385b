using System.Runtime.InteropServices;

namespace MemoryManager.Core
{
    /// <summary>
    /// Linux's struct page, reduced: one 32-byte descriptor per 4 KiB page frame.
    /// Descriptors live in memory supplied from outside (the kernel places the array in
    /// physical memory at boot; the host uses native memory), never on the managed heap.
    /// Links are memmap indices (pfn - PageAllocator.MinPfn), so a descriptor stays 32 bytes
    /// and needs no pointers.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Page
    {
        /// <summary>No page: the end of a list.</summary>
        public const uint None = 0xFFFFFFFF;

        public PageFlags Flags;   // 2 bytes
        /// <summary>Order of the block this page heads: a free block (PG_buddy) or an allocated one.</summary>
        public byte Order;
        /// <summary>Index of the zone the page belongs to (ZoneType).</summary>
        public byte Zone;
        /// <summary>_refcount: 0 while free, 1+ while in use.</summary>
        public int RefCount;
        /// <summary>List link: free_area / pcp list while free, LRU list while in use.</summary>
        public uint Next;
        public uint Prev;
        /// <summary>Pid the page is charged to (0 = the kernel itself), -1 while free.</summary>
        public int Owner;
        /// <summary>Node the page belongs to (with Zone, names its struct zone). Fills what was padding.</summary>
        public ushort Nid;
        /// <summary>
        /// page_zone_id: Nid * MAX_NR_ZONES + Zone, the index of the page's struct zone in the
        /// allocator's zone table, written with Nid and Zone (Linux keeps node and zone in
        /// page->flags and reads them back as one field). The free path's zone lookup. Fills what was padding.
        /// </summary>
        public ushort ZoneId;
        /// <summary>Linux's page->private / index: swap entry, page-cache offset, ...</summary>
        public ulong Private;
        // 2 + 1 + 1 + 4 + 4 + 4 + 4 + 2 + 2 + 8 = 32 bytes.
    }

    /// <summary>
    /// Page flags (PG_*). Bits are fixed: later code may add bits, never renumber them.
    /// </summary>
    [System.Flags]
    public enum PageFlags : ushort
    {
        None = 0,
        /// <summary>PG_reserved: not managed by the buddy allocator (hole, firmware, kernel image, memmap).</summary>
        Reserved = 0x0001,
        /// <summary>PG_buddy: head of a free block on free_area[Order].</summary>
        Buddy = 0x0002,
        /// <summary>On a per-cpu page list (order 0, not counted in NR_FREE_PAGES).</summary>
        Pcp = 0x0004,
        /// <summary>PG_head: first page of an allocated block of order &gt; 0.</summary>
        Head = 0x0008,
        /// <summary>PG_tail: another page of an allocated block of order &gt; 0.</summary>
        Tail = 0x0010,
        /// <summary>PG_lru: on one of the LRU lists.</summary>
        Lru = 0x0020,
        /// <summary>PG_active: on an active LRU list.</summary>
        Active = 0x0040,
        /// <summary>PG_referenced: touched since the last scan.</summary>
        Referenced = 0x0080,
        /// <summary>PG_dirty: contents differ from the backing store.</summary>
        Dirty = 0x0100,
        /// <summary>PG_writeback: being written back.</summary>
        Writeback = 0x0200,
        /// <summary>PG_swapbacked: anonymous memory (goes to swap, not to a file).</summary>
        SwapBacked = 0x0400,
        /// <summary>PG_swapcache: Private holds a swap entry.</summary>
        SwapCache = 0x0800,
        /// <summary>Free page whose contents hold the poison pattern (checked on allocation).</summary>
        Poisoned = 0x1000,
        /// <summary>PG_slab: owned by the kernel object heap.</summary>
        Slab = 0x2000,
        /// <summary>PG_large_kmalloc: head of a block the object heap handed out whole (a kmalloc above 8 KiB).</summary>
        LargeKmalloc = 0x4000,
    }
}
