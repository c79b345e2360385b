using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Slab
{
    // kfree and ksize. A pointer is looked up as Linux's virt_to_head_page does: its pfn, then
    // the head page of the block it lies in (the page itself, or an aligned head of order
    // 1 .. 10 whose block covers it). Every check happens before anything is written, so a
    // refused free leaves the heap and the page allocator as they were (RejectedFrees aside).
    public sealed unsafe partial class SlabAllocator
    {
        /// <summary>
        /// kfree: gives an object back. Null is accepted and does nothing (kfree(NULL)).
        /// Refused with a message in Log and nothing changed: a pointer outside managed memory
        /// (NotManaged), on a page that is neither a slab nor a large kmalloc head
        /// (NotSlabObject), not at an object's start (NotObjectBoundary), an object already free
        /// (DoubleFree: its bit in the slab's allocation bitmap is clear), an interior pointer of
        /// a large object (InteriorPointer), a slab whose descriptor is not the heap's (Corrupted).
        /// </summary>
        public SlabResult Free(void* p) => Free(p, out nuint _);

        /// <summary>kfree that also says how many usable bytes it gave back (ksize of the object before the free; 0 when refused).</summary>
        public SlabResult Free(void* p, out nuint freed)
        {
            // The common case first, with nothing else live and no call but the fall-back: an
            // allocated object at its start in a slab (the pointer's own page heads it) whose
            // descriptor checks out, on the partial list and still in use after this free, so the
            // list move is none. Exactly what FreeGeneral does for it; anything else goes there.
            byte* a = (byte*)p;
            if (a >= _base && a < _end)
            {
                Page* head = Desc(_minPfn + ((ulong)(a - _base) >> MmConstants.PageShift));
                if ((head->Flags & (PageFlags.Slab | PageFlags.LargeKmalloc)) == PageFlags.Slab && head->RefCount > 0 && SlabDescriptorOk(head))
                {
                    SlabState* st = StateOf(head);
                    ref KmemCache c = ref _caches[st->Cache];
                    ulong off = (ulong)(a - AddressOf(head));
                    uint i = ObjectIndex(ref c, off);
                    if (i != NoObject && st->InUse > 1 && st->List == ListPartial)
                    {
                        ulong* bm = BitmapOf(ref c, head);
                        ulong bit = 1UL << (int)(i & 63);
                        ulong word = bm[i >> 6];
                        if ((word & bit) != 0)
                        {
                            bm[i >> 6] = word & ~bit;
                            *(ulong*)a = st->FreeHead;
                            st->FreeHead = (ushort)off;
                            st->InUse = (ushort)(st->InUse - 1);
                            c.Frees = c.Frees + 1;
                            c.ActiveObjects = c.ActiveObjects - 1;
                            freed = (nuint)c.ObjectSize;
                            return SlabResult.Ok;
                        }
                    }
                }
            }
            return FreeGeneral(p, out freed);
        }

        /// <summary>kfree for every case the common one of <see cref="Free(void*, out nuint)"/> leaves (null, large objects, refusals, list moves).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private SlabResult FreeGeneral(void* p, out nuint freed)
        {
            freed = 0;
            if (p == null) return SlabResult.Ok;
            byte* a = (byte*)p;
            if (a < _base || a >= _end) return Refuse(SlabResult.NotManaged, a, null, 0);
            ulong pfn = _minPfn + ((ulong)(a - _base) >> MmConstants.PageShift);
            Page* head = FindHead(pfn);
            if (head == null) return Refuse(SlabResult.NotSlabObject, a, Desc(pfn), 0);

            if ((head->Flags & PageFlags.LargeKmalloc) != 0)
            {
                if (a != AddressOf(head)) return Refuse(SlabResult.InteriorPointer, a, head, 0);
                int order = head->Order;
                head->Flags &= ~PageFlags.LargeKmalloc;
                head->Private = 0;
                LargeFrees++;
                LargeObjects--;
                LargePages -= 1UL << order;
                Pa.FreePages(PfnOf(head), order, 0);
                freed = (nuint)(MmConstants.PageSize << order);
                return SlabResult.Ok;
            }

            SlabState* st = StateOf(head);
            if (!SlabDescriptorOk(head)) return Refuse(SlabResult.Corrupted, a, head, 0);
            ref KmemCache c = ref _caches[st->Cache];
            ulong off = (ulong)(a - AddressOf(head));
            uint i = ObjectIndex(ref c, off);
            if (i == NoObject) return Refuse(SlabResult.NotObjectBoundary, a, head, off);
            ulong* bm = BitmapOf(ref c, head);
            ulong bit = 1UL << (int)(i & 63);
            if ((bm[i >> 6] & bit) == 0) return Refuse(SlabResult.DoubleFree, a, head, off);

            // set_freepointer: the object heads the freelist; the slab moves by its new fill.
            bm[i >> 6] &= ~bit;
            *(ulong*)a = st->FreeHead;
            st->FreeHead = (ushort)off;
            st->InUse = (ushort)(st->InUse - 1);
            c.Frees = c.Frees + 1;
            c.ActiveObjects = c.ActiveObjects - 1;
            freed = (nuint)c.ObjectSize;
            if (st->InUse != 0) { ListMove(ref c, head, ListPartial); return SlabResult.Ok; }
            ListMove(ref c, head, ListEmpty);
            if (c.NrEmpty > (uint)MaxEmptySlabs) DiscardSlab(ref c, head);
            return SlabResult.Ok;
        }

        /// <summary>
        /// ksize: the usable size of an allocated object (its cache's object size; for a large
        /// object the whole block), or 0 for a pointer that is not the start of an allocated object.
        /// </summary>
        public nuint SizeOf(void* p)
        {
            byte* a = (byte*)p;
            if (a < _base || a >= _end) return 0;
            Page* head = FindHead(_minPfn + ((ulong)(a - _base) >> MmConstants.PageShift));
            if (head == null) return 0;
            if ((head->Flags & PageFlags.LargeKmalloc) != 0)
                return a == AddressOf(head) ? (nuint)(MmConstants.PageSize << head->Order) : 0;
            if (!SlabDescriptorOk(head)) return 0;
            ref KmemCache c = ref _caches[StateOf(head)->Cache];
            ulong off = (ulong)(a - AddressOf(head));
            uint i = ObjectIndex(ref c, off);
            if (i == NoObject) return 0;
            return TestBit(BitmapOf(ref c, head), i) ? (nuint)c.ObjectSize : 0;
        }

        /// <summary>The cache index of an allocated slab object, -1 for a large object or anything else.</summary>
        public int CacheOf(void* p)
        {
            byte* a = (byte*)p;
            if (a < _base || a >= _end) return -1;
            Page* head = FindHead(_minPfn + ((ulong)(a - _base) >> MmConstants.PageShift));
            if (head == null || (head->Flags & PageFlags.Slab) == 0 || !SlabDescriptorOk(head)) return -1;
            return StateOf(head)->Cache;
        }

        /// <summary>
        /// virt_to_head_page for the heap: the head of the slab or large kmalloc block holding
        /// pfn, or null when pfn is in neither (free, another allocated block, reserved).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Page* FindHead(ulong pfn)
        {
            Page* p = Desc(pfn);
            if ((p->Flags & (PageFlags.Slab | PageFlags.LargeKmalloc)) != 0) return p->RefCount > 0 ? p : null;
            return FindHeadOfTail(pfn, p);
        }

        /// <summary>FindHead for a page that heads nothing itself (a tail page, or not the heap's): out of line.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private Page* FindHeadOfTail(ulong pfn, Page* p)
        {
            if ((p->Flags & (PageFlags.Reserved | PageFlags.Buddy | PageFlags.Pcp)) != 0 || p->RefCount > 0) return null;
            for (int o = 1; o < MmConstants.MaxOrder; o++)
            {
                ulong head = pfn & ~((1UL << o) - 1);
                if (head < _minPfn) return null;
                Page* h = Desc(head);
                if ((h->Flags & PageFlags.Reserved) != 0) continue;
                if (h->Order < o) continue;
                // A free block or an allocated block whose head is h covers pfn; a page with no
                // state of its own is a tail (its Order may be stale): keep looking further out.
                if ((h->Flags & PageFlags.Buddy) != 0) return null;
                if (h->RefCount <= 0) continue;
                return (h->Flags & (PageFlags.Slab | PageFlags.LargeKmalloc)) != 0 ? h : null;
            }
            return null;
        }

        /// <summary>A slab head's descriptor is the heap's: magic, cache index, order and list agree.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool SlabDescriptorOk(Page* head)
        {
            SlabState* st = StateOf(head);
            return st->Magic == SlabMagic && st->Cache < CacheCount && head->Order == _caches[st->Cache].Order
                && st->List >= ListPartial && st->List <= ListEmpty;
        }

        /// <summary>Counts and reports a refused free; changes nothing else.</summary>
        private SlabResult Refuse(SlabResult why, byte* a, Page* head, ulong off)
        {
            RejectedFrees++;
            ITextSink o = Log;
            if (o == null) return why;
            switch (why)
            {
                case SlabResult.NotManaged:
                    o.Write("kfree: pointer 0x"); TextFormat.Hex(o, (ulong)a);
                    o.Write(" is not a slab object: outside the memory the page allocator manages\n");
                    break;
                case SlabResult.NotSlabObject:
                    o.Write("kfree: pointer 0x"); TextFormat.Hex(o, (ulong)a);
                    o.Write(" is not a slab object: page pfn:0x"); TextFormat.Hex(o, PfnOf(head), 5);
                    o.Write(" flags:0x"); TextFormat.Hex(o, (ulong)head->Flags);
                    o.Write(" is neither a slab nor a large kmalloc block\n");
                    break;
                case SlabResult.InteriorPointer:
                    o.Write("kfree: pointer 0x"); TextFormat.Hex(o, (ulong)a);
                    o.Write(" is inside the large kmalloc block at 0x"); TextFormat.Hex(o, (ulong)AddressOf(head));
                    o.Write(" (order "); TextFormat.Dec(o, head->Order);
                    o.Write("), not its start\n");
                    break;
                case SlabResult.Corrupted:
                    o.Write("BUG: slab page pfn:0x"); TextFormat.Hex(o, PfnOf(head), 5);
                    o.Write(": descriptor is not a slab's (private:0x"); TextFormat.Hex(o, head->Private);
                    o.Write(" order:"); TextFormat.Dec(o, head->Order);
                    o.Write("); kfree of 0x"); TextFormat.Hex(o, (ulong)a);
                    o.Write(" refused\n");
                    break;
                default:
                {
                    ref KmemCache c = ref _caches[StateOf(head)->Cache];
                    o.Write("BUG ");
                    o.Write(_names[StateOf(head)->Cache]);
                    if (why == SlabResult.DoubleFree)
                    {
                        o.Write(": double free or corruption, object 0x"); TextFormat.Hex(o, (ulong)a);
                        o.Write(" (object "); TextFormat.Dec(o, off / c.ObjectSize);
                        o.Write(" of "); TextFormat.Dec(o, c.ObjectsPerSlab);
                        o.Write(" is already free)");
                    }
                    else
                    {
                        o.Write(": invalid object pointer 0x"); TextFormat.Hex(o, (ulong)a);
                        o.Write(": not at an object boundary (offset 0x"); TextFormat.Hex(o, off);
                        o.Write(", object size "); TextFormat.Dec(o, c.ObjectSize);
                        o.Write(')');
                    }
                    o.Write(" in slab 0x"); TextFormat.Hex(o, (ulong)AddressOf(head));
                    o.Write('\n');
                    break;
                }
            }
            return why;
        }
    }
}
