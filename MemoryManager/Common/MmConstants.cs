namespace MemoryManager.Common
{
    /// <summary>The page size, the buddy orders and the x86-64 zone limits, as Linux defines them.</summary>
    public static class MmConstants
    {
        public const int PageShift = 12;
        public const ulong PageSize = 1UL << PageShift;
        /// <summary>
        /// MAX_ORDER as Linux defined it until 6.4: one past the largest order, so the orders are
        /// 0 .. MaxOrder-1 (4 KiB .. 4 MiB blocks) and free_area[] has MaxOrder entries.
        /// </summary>
        public const int MaxOrder = 11;
        /// <summary>The largest order a block can have, MaxOrder - 1 = 10 (4 MiB): Linux 6.8's MAX_PAGE_ORDER.</summary>
        public const int LargestOrder = MaxOrder - 1;
        /// <summary>PAGE_ALLOC_COSTLY_ORDER.</summary>
        public const int CostlyOrder = 3;
        public const int MaxNrZones = 3;
        /// <summary>ZONE_DMA ends at 16 MiB (pfn 4096).</summary>
        public const ulong DmaLimitPfn = (16UL << 20) >> PageShift;
        /// <summary>ZONE_DMA32 ends at 4 GiB (pfn 1M).</summary>
        public const ulong Dma32LimitPfn = (4UL << 30) >> PageShift;
    }
}
