namespace MemoryManager.Core
{
    /// <summary>The allocator's internal ALLOC_* flags (mm/internal.h of the seed era).</summary>
    [System.Flags]
    public enum AllocFlags : uint
    {
        None = 0,
        NoWatermarks = 0x01, // ALLOC_NO_WATERMARKS: don't check watermarks at all
        WmarkMin = 0x02,     // ALLOC_WMARK_MIN: use the min watermark
        WmarkLow = 0x04,     // ALLOC_WMARK_LOW: use the low watermark
        WmarkHigh = 0x08,    // ALLOC_WMARK_HIGH: use the high watermark
        Harder = 0x10,       // ALLOC_HARDER: try to alloc harder
        High = 0x20,         // ALLOC_HIGH: __GFP_HIGH set
        Cpuset = 0x40,       // ALLOC_CPUSET: check for correct cpuset
        Fair = 0x100,        // ALLOC_FAIR (3.12+): fair zone allocation, local zones in proportion to their size
        WmarkMask = WmarkMin | WmarkLow | WmarkHigh,
    }
}
