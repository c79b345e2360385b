using MemoryManager.Common;

namespace MemoryManager.Allocator
{
    /// <summary>
    /// THE PAGE-ALLOCATOR SEAM: a zone's free lists (Linux's free_area[] and the two functions that
    /// change it, __rmqueue_smallest and __free_one_page). Every block the zoned allocator takes
    /// from a zone or gives back to it goes through <see cref="Take"/> and <see cref="Give"/>: the
    /// fast path's and the per-cpu lists' refills and drains, the slow path, boot's first frees.
    /// Everything above them stays in <see cref="PageAllocator"/> and works the same on any free
    /// lists: zonelists, watermarks, NR_FREE_PAGES, the per-cpu lists, kswapd, reclaim, swap and
    /// the OOM killer.
    ///
    /// The bodies below are the default, the buddy algorithm (PageAllocator's Buddy.cs). In the
    /// kernel a page-allocator plug (a class marked [Plug(Target = typeof(FreeLists))], built with
    /// -p:KernelPagePlug=path/to/Plug.csproj) replaces all four members at build time: the patcher
    /// rewrites these bodies, so the default image runs exactly the code it ran before the seam
    /// (no interface, no indirect call; the forwarders inline). The rules a plug keeps are in
    /// docs/plugs.md ("The page-allocator seam"); the invariant checker
    /// (<see cref="PageAllocator.CheckInvariants(Core.ITextSink)"/>) checks them.
    /// </summary>
#if MM_KERNEL
    [Kernel.Core.Plugs.PlugTarget(RequireComplete = true)]
#endif
    public static class FreeLists
    {
        /// <summary>The free lists' name, printed at boot ("page allocator: buddy ...") and by `mem`.</summary>
        public static string Name => "buddy";

        /// <summary>
        /// True when a freed block is merged with its free buddy as far as it goes (the buddy
        /// algorithm): the invariant checker then also fails "free buddies left unmerged".
        /// </summary>
        public static bool Merges => true;

        /// <summary>
        /// __rmqueue_smallest: takes a free block of exactly 2^<paramref name="order"/> pages from
        /// zone <paramref name="z"/>, its first pfn a multiple of 2^order, and returns that pfn with
        /// the head's descriptor clean (Flags none, Order 0, Next and Prev Page.None); or
        /// <see cref="PageAllocator.NoPfn"/> when the zone's lists have no such block.
        /// NR_FREE_PAGES is the caller's (it subtracts 2^order when a block comes back).
        /// </summary>
        public static ulong Take(PageAllocator pa, ref Zone z, int order) => pa.BuddyRmqueueSmallest(ref z, order);

        /// <summary>
        /// __free_one_page: puts the free block of 2^<paramref name="order"/> pages at
        /// <paramref name="pfn"/> (aligned, every page in zone <paramref name="z"/>, its head's
        /// descriptor clean) back on the zone's lists. NR_FREE_PAGES is the caller's (it has added 2^order).
        /// </summary>
        public static void Give(PageAllocator pa, ref Zone z, ulong pfn, int order) => pa.BuddyFreeOneBlock(ref z, pfn, order);
    }
}
