namespace MemoryManager.Slab
{
    /// <summary>Every outcome of the object heap's operations: errors are values, never exceptions.</summary>
    public enum SlabResult
    {
        Ok,
        /// <summary>The buddy allocator could not supply the pages (a new slab or a large object).</summary>
        NoMemory,
        /// <summary>The request is larger than the largest buddy block (order 10, 4 MiB).</summary>
        TooLarge,
        /// <summary>Zone modifiers (__GFP_DMA, __GFP_DMA32) on a size served by a kmalloc cache: there are no DMA caches.</summary>
        BadGfp,
        /// <summary>The page allocator has no real memory behind its pages (Create only).</summary>
        NoPhysicalMemory,
        /// <summary>The pointer lies outside the memory the page allocator manages.</summary>
        NotManaged,
        /// <summary>The pointer's page is neither a slab nor the head of a large kmalloc block.</summary>
        NotSlabObject,
        /// <summary>The pointer lies inside a slab but not at the start of an object.</summary>
        NotObjectBoundary,
        /// <summary>The object is already free (its bit in the slab's allocation bitmap is clear).</summary>
        DoubleFree,
        /// <summary>The pointer lies inside a large kmalloc block but not at its start.</summary>
        InteriorPointer,
        /// <summary>The slab's state in its page descriptor is not the object heap's (overwritten descriptor).</summary>
        Corrupted,
    }
}
