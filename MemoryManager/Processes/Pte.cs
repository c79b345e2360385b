namespace MemoryManager.Processes
{
    /// <summary>
    /// The software page table's entry format (one ulong per virtual page):
    /// 0 = not mapped; bit 0 set = present, bits 1.. hold the pfn;
    /// bit 1 set (bit 0 clear) = swapped out, bits 2.. hold the swap entry.
    /// </summary>
    public static class Pte
    {
        public const ulong None = 0;
        /// <summary>The entry maps a page in memory.</summary>
        public static bool IsPresent(ulong pte) => (pte & 1) != 0;
        /// <summary>The entry holds a swap entry (the page is swapped out).</summary>
        public static bool IsSwap(ulong pte) => (pte & 3) == 2;
        /// <summary>An entry mapping <paramref name="pfn"/>.</summary>
        public static ulong MakePresent(ulong pfn) => (pfn << 1) | 1;
        /// <summary>An entry holding swap entry <paramref name="entry"/>.</summary>
        public static ulong MakeSwap(ulong entry) => (entry << 2) | 2;
        /// <summary>The pfn of a present entry.</summary>
        public static ulong Pfn(ulong pte) => pte >> 1;
        /// <summary>The swap entry of a swapped-out entry.</summary>
        public static ulong SwapEntry(ulong pte) => pte >> 2;
    }
}
