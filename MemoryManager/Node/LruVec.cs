using MemoryManager.Allocator;
using MemoryManager.Core;

namespace MemoryManager.Node
{
    /// <summary>enum lru_list: the four page LRU lists of a node.</summary>
    public enum LruList : byte
    {
        InactiveAnon = 0,
        ActiveAnon = 1,
        InactiveFile = 2,
        ActiveFile = 3,
    }

    /// <summary>
    /// A node's lruvec: inactive/active × anon/file lists of allocated order-0 pages,
    /// doubly linked through Page.Next/Prev (offsets from <c>basePfn</c>, Page.None ends a
    /// list). Heads are the most recently added pages; reclaim takes from the tails.
    /// Which list a page is on follows from its flags: PG_swapbacked (anon) and PG_active.
    /// </summary>
    public sealed unsafe class LruVec
    {
        private readonly Page* _memmap;
        private readonly ulong _basePfn;
        private readonly uint[] _head = new uint[4];
        private readonly uint[] _tail = new uint[4];
        private readonly ulong[] _count = new ulong[4];

        /// <summary>A set of lists over the descriptors at <paramref name="memmap"/>, whose first entry is pfn <paramref name="basePfn"/>.</summary>
        public LruVec(Page* memmap, ulong basePfn)
        {
            _memmap = memmap;
            _basePfn = basePfn;
            for (int i = 0; i < 4; i++) { _head[i] = Page.None; _tail[i] = Page.None; }
        }

        /// <summary>Pages on one list (lruvec_lru_size).</summary>
        public ulong Size(LruList l) => _count[(int)l];

        /// <summary>Pages on all four lists.</summary>
        public ulong Total => _count[0] + _count[1] + _count[2] + _count[3];

        /// <summary>page_lru(): the list a page belongs on, from PG_swapbacked and PG_active.</summary>
        public static LruList PageLru(PageFlags f)
        {
            int l = (f & PageFlags.SwapBacked) != 0 ? 0 : 2;
            if ((f & PageFlags.Active) != 0) l++;
            return (LruList)l;
        }

        /// <summary>The descriptor at list index <paramref name="idx"/>.</summary>
        private Page* P(uint idx) => _memmap + idx;

        /// <summary>add_page_to_lru_list(): puts a page that is on no list at the head of the list its flags name, and sets PG_lru.</summary>
        public MmResult Add(ulong pfn)
        {
            Page* p = _memmap + (pfn - _basePfn);
            if ((p->Flags & PageFlags.Lru) != 0 || p->RefCount == 0) return MmResult.BadArgument;
            int l = (int)PageLru(p->Flags);
            uint idx = (uint)(pfn - _basePfn);
            p->Prev = Page.None;
            p->Next = _head[l];
            if (_head[l] != Page.None) P(_head[l])->Prev = idx; else _tail[l] = idx;
            _head[l] = idx;
            _count[l]++;
            p->Flags |= PageFlags.Lru;
            return MmResult.Ok;
        }

        /// <summary>del_page_from_lru_list(): unlinks a page from its list and clears PG_lru (PG_active stays).</summary>
        public MmResult Del(ulong pfn)
        {
            Page* p = _memmap + (pfn - _basePfn);
            if ((p->Flags & PageFlags.Lru) == 0) return MmResult.BadArgument;
            int l = (int)PageLru(p->Flags);
            if (p->Prev != Page.None) P(p->Prev)->Next = p->Next; else _head[l] = p->Next;
            if (p->Next != Page.None) P(p->Next)->Prev = p->Prev; else _tail[l] = p->Prev;
            p->Next = Page.None;
            p->Prev = Page.None;
            p->Flags &= ~PageFlags.Lru;
            _count[l]--;
            return MmResult.Ok;
        }

        /// <summary>The pfn at the tail (least recently added) of a list, or NoPfn when it is empty.</summary>
        public ulong TailPfn(LruList l)
        {
            uint t = _tail[(int)l];
            return t == Page.None ? PageAllocator.NoPfn : _basePfn + t;
        }

        /// <summary>The pfn at the head of a list, or NoPfn.</summary>
        public ulong HeadPfn(LruList l)
        {
            uint h = _head[(int)l];
            return h == Page.None ? PageAllocator.NoPfn : _basePfn + h;
        }

        /// <summary>The next pfn towards the tail, or NoPfn.</summary>
        public ulong NextPfn(ulong pfn)
        {
            uint n = _memmap[pfn - _basePfn].Next;
            return n == Page.None ? PageAllocator.NoPfn : _basePfn + n;
        }

        /// <summary>Moves a listed page to the head of the list its (possibly changed) flags name.</summary>
        public void Rotate(ulong pfn, PageFlags newFlags)
        {
            Del(pfn);
            Page* p = _memmap + (pfn - _basePfn);
            p->Flags = (p->Flags & ~(PageFlags.Active | PageFlags.Referenced)) | (newFlags & (PageFlags.Active | PageFlags.Referenced));
            Add(pfn);
        }

        /// <summary>
        /// mark_page_accessed(): an inactive page referenced a second time is activated;
        /// otherwise the page only gets PG_referenced.
        /// </summary>
        public void MarkPageAccessed(ulong pfn)
        {
            Page* p = _memmap + (pfn - _basePfn);
            bool onLru = (p->Flags & PageFlags.Lru) != 0;
            if (onLru && (p->Flags & PageFlags.Active) == 0 && (p->Flags & PageFlags.Referenced) != 0)
                Rotate(pfn, PageFlags.Active);          // activate_page, referenced cleared
            else if ((p->Flags & PageFlags.Referenced) == 0)
                p->Flags |= PageFlags.Referenced;
        }

        /// <summary>Walks every list checking links, flags and counts; true when consistent.</summary>
        public bool Check(ITextSink report)
        {
            bool ok = true;
            for (int l = 0; l < 4; l++)
            {
                ulong n = 0;
                uint prev = Page.None;
                for (uint i = _head[l]; i != Page.None; i = P(i)->Next)
                {
                    Page* p = P(i);
                    if (p->Prev != prev || (p->Flags & PageFlags.Lru) == 0 || (int)PageLru(p->Flags) != l || p->RefCount == 0)
                    {
                        TextFormat.Write(report, "lru: bad page on list ");
                        TextFormat.Dec(report, (ulong)l);
                        TextFormat.Write(report, " pfn ");
                        TextFormat.Dec(report, _basePfn + i);
                        TextFormat.Write(report, "\n");
                        ok = false;
                        break;
                    }
                    prev = i;
                    if (++n > _count[l]) break;
                }
                if (n != _count[l] || prev != _tail[l])
                {
                    TextFormat.Write(report, "lru: count/tail mismatch on list ");
                    TextFormat.Dec(report, (ulong)l);
                    TextFormat.Write(report, "\n");
                    ok = false;
                }
            }
            return ok;
        }
    }
}
