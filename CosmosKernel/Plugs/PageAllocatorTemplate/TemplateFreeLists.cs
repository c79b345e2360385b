using Kernel.Core.Plugs;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Plugs.PageAllocatorTemplate
{
    /// <summary>
    /// A working page allocator to start from, deliberately simple: one free list per order, a
    /// block split in halves when a smaller one is asked for, and a freed block put back on the
    /// list of its own order as it is. It never merges two free halves again, so memory that has
    /// been handed out in single pages comes back as single pages for good: watch
    /// /proc/buddyinfo after a `run memhog` (docs/labs/02-buddy-page-allocator.md).
    ///
    /// What the rest of the kernel reads, and so what every page allocator keeps (docs/plugs.md,
    /// "The page-allocator seam"; CheckInvariants checks each one):
    /// - the zone's free lists are z.FreeAreaHead[order] (memmap index of the first block,
    ///   Page.None when empty), doubly linked through the head pages' Next and Prev (memmap
    ///   indices: pfn - pa.MinPfn), and z.FreeAreaNrFree[order] is the number of blocks on each;
    /// - a free block of order o starts at a pfn that is a multiple of 2^o; its head page has
    ///   Flags = PageFlags.Buddy and Order = o; its other pages are left as they are (clean);
    /// - Take returns a block's head clean (Flags none, Order 0, Next and Prev Page.None);
    /// - nothing here allocates, throws, sleeps or prints: Take and Give run inside the
    ///   allocator, with interrupts and every other allocation waiting on them.
    /// NR_FREE_PAGES (z.NrFree, pa.NrFreePages) is the allocator's own: leave it alone.
    /// </summary>
    [Plug(Target = typeof(FreeLists))]
    public static unsafe class TemplateFreeLists
    {
        public static string Name => "template";

        /// <summary>This template never merges buddies (so the checker does not ask it to).</summary>
        public static bool Merges => false;

        /// <summary>
        /// A block of 2^order pages: the first block of the smallest order that has one, split
        /// in halves (the upper half back on the list one order down) until it is small enough.
        /// </summary>
        public static ulong Take(PageAllocator pa, ref Zone z, int order)
        {
            for (int o = order; o < MmConstants.MaxOrder; o++)
            {
                uint head = z.FreeAreaHead[o];
                if (head == Page.None) continue;
                ulong pfn = pa.MinPfn + head;
                Unlink(pa, ref z, pfn, o);
                while (o > order)
                {
                    o--;
                    Push(pa, ref z, pfn + (1UL << o), o);
                }
                return pfn;
            }
            return PageAllocator.NoPfn;
        }

        /// <summary>The block goes on the list of its order, as it is: no merging.</summary>
        public static void Give(PageAllocator pa, ref Zone z, ulong pfn, int order) => Push(pa, ref z, pfn, order);

        /// <summary>Puts the block headed by pfn at the front of free list <paramref name="order"/> and marks its head free.</summary>
        private static void Push(PageAllocator pa, ref Zone z, ulong pfn, int order)
        {
            Page* p = pa.PfnToPage(pfn);
            uint idx = (uint)(pfn - pa.MinPfn);
            uint head = z.FreeAreaHead[order];
            p->Flags = PageFlags.Buddy;
            p->Order = (byte)order;
            p->Prev = Page.None;
            p->Next = head;
            if (head != Page.None) pa.PfnToPage(pa.MinPfn + head)->Prev = idx;
            z.FreeAreaHead[order] = idx;
            z.FreeAreaNrFree[order]++;
        }

        /// <summary>Takes the block headed by pfn off free list <paramref name="order"/> and leaves its head clean.</summary>
        private static void Unlink(PageAllocator pa, ref Zone z, ulong pfn, int order)
        {
            Page* p = pa.PfnToPage(pfn);
            uint next = p->Next, prev = p->Prev;
            if (prev != Page.None) pa.PfnToPage(pa.MinPfn + prev)->Next = next; else z.FreeAreaHead[order] = next;
            if (next != Page.None) pa.PfnToPage(pa.MinPfn + next)->Prev = prev;
            p->Flags = PageFlags.None;
            p->Order = 0;
            p->Next = Page.None;
            p->Prev = Page.None;
            z.FreeAreaNrFree[order]--;
        }
    }
}
