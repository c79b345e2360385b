namespace MemoryManager
{
    /// <summary>Linux's enum zone_type on x86-64 (no HighMem, Movable not modelled).</summary>
    public enum ZoneType : byte
    {
        /// <summary>0 .. 16 MiB: ISA DMA.</summary>
        Dma = 0,
        /// <summary>16 MiB .. 4 GiB: 32-bit devices.</summary>
        Dma32 = 1,
        /// <summary>Above 4 GiB.</summary>
        Normal = 2,
    }

    public static class MmConstants
    {
        public const int PageShift = 12;
        public const ulong PageSize = 1UL << PageShift;
        /// <summary>MAX_ORDER: orders 0 .. MaxOrder-1 (4 KiB .. 4 MiB blocks).</summary>
        public const int MaxOrder = 11;
        /// <summary>PAGE_ALLOC_COSTLY_ORDER.</summary>
        public const int CostlyOrder = 3;
        public const int MaxNrZones = 3;
        /// <summary>ZONE_DMA ends at 16 MiB (pfn 4096).</summary>
        public const ulong DmaLimitPfn = (16UL << 20) >> PageShift;
        /// <summary>ZONE_DMA32 ends at 4 GiB (pfn 1M).</summary>
        public const ulong Dma32LimitPfn = (4UL << 30) >> PageShift;
    }
}
