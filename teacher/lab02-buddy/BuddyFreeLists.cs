using Kernel.Core.Plugs;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Plugs.BuddyFreeLists
{
    /// <summary>
    /// Lab 02's reference solution: the page-allocator template (CosmosKernel/Plugs/PageAllocatorTemplate)
    /// with the buddy's merge in <see cref="Give"/>. Take is the template's (__rmqueue_smallest and
    /// expand); Give is __free_one_page: while the block's buddy (pfn ^ 2^order) heads a free block
    /// of the same order in the same zone, take it off its list and go one order up with the pair.
    /// </summary>
    [Plug(Target = typeof(FreeLists))]
    public static unsafe class BuddyFreeLists
    {
        public static string Name => "lab02-reference";

        public static bool Merges => true;

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

        public static void Give(PageAllocator pa, ref Zone z, ulong pfn, int order)
        {
            while (order < MmConstants.LargestOrder)
            {
                ulong buddy = pfn ^ (1UL << order);
                Page* b = pa.PfnToPage(buddy);   // null outside the memory map
                if (b == null || (b->Flags & PageFlags.Buddy) == 0 || b->Order != order
                    || b->Zone != (byte)z.Type || b->Nid != (ushort)z.Nid) break;
                Unlink(pa, ref z, buddy, order);
                pfn &= buddy;   // the pair's head is the lower of the two
                order++;
            }
            Push(pa, ref z, pfn, order);
        }

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
