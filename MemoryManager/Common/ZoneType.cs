namespace MemoryManager.Common
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
}
