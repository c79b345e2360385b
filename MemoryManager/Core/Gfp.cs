namespace MemoryManager.Core
{
    /// <summary>
    /// GFP ("get free pages") flags with their 2.6.3x values, so that a failure report's
    /// "mode:0x..." reads like Linux's of that era.
    /// </summary>
    [System.Flags]
    public enum Gfp : uint
    {
        None = 0,
        // zone modifiers
        Dma = 0x01,            // __GFP_DMA
        HighMem = 0x02,        // __GFP_HIGHMEM (no HighMem zone on x86-64: treated as Normal)
        Dma32 = 0x04,          // __GFP_DMA32
        Movable = 0x08,        // __GFP_MOVABLE
        // action modifiers
        Wait = 0x10,           // __GFP_WAIT: may sleep, may reclaim directly
        High = 0x20,           // __GFP_HIGH: may dip into emergency reserves
        Io = 0x40,             // __GFP_IO: may start physical I/O
        Fs = 0x80,             // __GFP_FS: may call into the filesystem
        Cold = 0x100,          // __GFP_COLD
        NoWarn = 0x200,        // __GFP_NOWARN: no failure report
        Repeat = 0x400,        // __GFP_REPEAT: retry, may still fail
        NoFail = 0x800,        // __GFP_NOFAIL: retry forever
        NoRetry = 0x1000,      // __GFP_NORETRY: do not retry
        Comp = 0x4000,         // __GFP_COMP
        Zero = 0x8000,         // __GFP_ZERO: return zeroed pages
        NoMemalloc = 0x10000,  // __GFP_NOMEMALLOC: never use the emergency reserves
        Hardwall = 0x20000,    // __GFP_HARDWALL: enforce cpuset memory allocation
        ThisNode = 0x40000,    // __GFP_THISNODE: no fallback to other nodes, no reclaim
        Reclaimable = 0x80000, // __GFP_RECLAIMABLE
        NoKswapd = 0x400000,   // __GFP_NO_KSWAPD

        // composites (include/linux/gfp.h)
        GFP_ATOMIC = High,
        GFP_NOWAIT = GFP_ATOMIC & ~High,
        GFP_NOIO = Wait,
        GFP_NOFS = Wait | Io,
        GFP_KERNEL = Wait | Io | Fs,
        GFP_TEMPORARY = Wait | Io | Fs | Reclaimable,
        GFP_USER = Wait | Io | Fs | Hardwall,
        GFP_HIGHUSER = Wait | Io | Fs | Hardwall | HighMem,
        GFP_HIGHUSER_MOVABLE = Wait | Io | Fs | Hardwall | HighMem | Movable,
        GFP_THISNODE = ThisNode | NoWarn | NoRetry,
        GFP_DMA = Dma,
        GFP_DMA32 = Dma32,
    }
}
