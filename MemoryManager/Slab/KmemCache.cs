namespace MemoryManager.Slab
{
    /// <summary>
    /// One kmalloc cache (Linux's struct kmem_cache, reduced): objects of one size carved out
    /// of slabs (buddy blocks of 2^Order pages), and the slabs on three lists by fill state.
    /// Plain data only, so a test can compare it byte for byte; the name is in
    /// <see cref="SlabAllocator.CacheName"/>.
    /// </summary>
    public struct KmemCache
    {
        /// <summary>Object size and stride in bytes (8 .. 8192; a multiple of 16 from 16 up).</summary>
        public uint ObjectSize;
        /// <summary>Objects in one slab.</summary>
        public uint ObjectsPerSlab;
        /// <summary>Buddy order of a slab (pages per slab = 1 &lt;&lt; Order).</summary>
        public int Order;
        /// <summary>Byte offset of the allocation bitmap inside the slab; NoBitmapInSlab when it is the Private word of the slab's second page descriptor.</summary>
        public uint BitmapOffset;
        /// <summary>ceil(2^32 / ObjectSize): obj_to_index as a multiply (exact for offsets below 2^16, as slab offsets are).</summary>
        public ulong Reciprocal;
        /// <summary>List heads (memmap indices of slab head pages, Page.None = empty list).</summary>
        public uint Partial, Full, Empty;
        /// <summary>Slabs on each list.</summary>
        public uint NrPartial, NrFull, NrEmpty;
        /// <summary>Objects handed out and not yet freed.</summary>
        public ulong ActiveObjects;
        /// <summary>Counters: successful allocations, frees, failed allocations, slabs taken from and given back to the buddy allocator.</summary>
        public ulong Allocs, Frees, Failed, SlabsAllocated, SlabsFreed;

        public uint PagesPerSlab => 1u << Order;
        public uint NumSlabs => NrPartial + NrFull + NrEmpty;
        public ulong NumObjects => (ulong)NumSlabs * ObjectsPerSlab;
    }
}
