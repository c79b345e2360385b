using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Slab
{
    // The heap's invariant checker (SLUB's validate_slab in spirit). Per cache and per list:
    // links and list counts agree; every slab's descriptor is a slab's of this cache, on the
    // list its fill says (partial: some in use, full: all, empty: none); its inuse count
    // equals the bits set in its bitmap; its freelist visits each free object exactly once
    // and only free objects; the cache's active objects add up. Then a pass over the memmap:
    // every PG_slab page is on a list and every PG_large_kmalloc head is counted.
    public sealed unsafe partial class SlabAllocator
    {
        private const int MaxReportedErrors = 20;

        private struct SlabCheck
        {
            public ITextSink Report;
            public int Errors;
        }

        private static void Fail(ref SlabCheck st, string cache, string what, ulong at, long a, long b)
        {
            st.Errors++;
            ITextSink o = st.Report;
            if (o == null || st.Errors > MaxReportedErrors) return;
            o.Write("slab invariant broken: ");
            if (cache != null) { o.Write(cache); o.Write(": "); }
            o.Write(what);
            if (at != 0) { o.Write(" at 0x"); TextFormat.Hex(o, at); }
            o.Write(" (");
            TextFormat.Signed(o, a);
            o.Write(" vs ");
            TextFormat.Signed(o, b);
            o.Write(")\n");
        }

        /// <summary>Checks every invariant of the heap; true when all hold, else false with the broken ones written to <paramref name="report"/> (may be null).</summary>
        public bool CheckInvariants(ITextSink report)
        {
            var st = new SlabCheck { Report = report };
            ulong slabPagesOnLists = 0;
            for (int ci = 0; ci < CacheCount; ci++)
            {
                ref KmemCache c = ref _caches[ci];
                ulong inUse = 0;
                inUse += CheckList(ref st, ci, ListPartial, c.Partial, c.NrPartial);
                inUse += CheckList(ref st, ci, ListFull, c.Full, c.NrFull);
                inUse += CheckList(ref st, ci, ListEmpty, c.Empty, c.NrEmpty);
                if (inUse != c.ActiveObjects) Fail(ref st, _names[ci], "objects in use on the slabs differ from active objects", 0, (long)inUse, (long)c.ActiveObjects);
                if (c.Allocs - c.Frees != c.ActiveObjects) Fail(ref st, _names[ci], "allocs - frees differs from active objects", 0, (long)(c.Allocs - c.Frees), (long)c.ActiveObjects);
                if (c.SlabsAllocated - c.SlabsFreed != c.NumSlabs) Fail(ref st, _names[ci], "slabs allocated - freed differs from slabs on the lists", 0, (long)(c.SlabsAllocated - c.SlabsFreed), c.NumSlabs);
                if (c.NrEmpty > (uint)(MaxEmptySlabs < 0 ? 0 : MaxEmptySlabs)) Fail(ref st, _names[ci], "more empty slabs kept than allowed", 0, c.NrEmpty, MaxEmptySlabs);
                slabPagesOnLists += (ulong)c.NumSlabs << c.Order;
            }

            // The memmap: PG_slab heads are exactly the listed slabs; PG_large_kmalloc heads add up.
            ulong slabPages = 0, largeObjects = 0, largePages = 0;
            for (ulong pfn = Pa.MinPfn; pfn < Pa.MaxPfn; pfn++)
            {
                Page* p = Desc(pfn);
                if ((p->Flags & PageFlags.Slab) != 0)
                {
                    if ((p->Flags & PageFlags.LargeKmalloc) != 0) Fail(ref st, null, "page is both slab and large kmalloc", (ulong)AddressOf(p), (long)p->Flags, 0);
                    if (p->RefCount <= 0) Fail(ref st, null, "slab page not allocated", (ulong)AddressOf(p), p->RefCount, 1);
                    else if (!SlabDescriptorOk(p)) Fail(ref st, null, "PG_slab page without a slab descriptor", (ulong)AddressOf(p), (long)p->Private, 0);
                    slabPages += 1UL << p->Order;
                }
                else if ((p->Flags & PageFlags.LargeKmalloc) != 0)
                {
                    if (p->RefCount <= 0 || (p->Flags & PageFlags.Head) == 0 && p->Order != 0) Fail(ref st, null, "large kmalloc head not an allocated block head", (ulong)AddressOf(p), p->RefCount, p->Order);
                    if (p->Owner != 0) Fail(ref st, null, "large kmalloc block not charged to the kernel", (ulong)AddressOf(p), p->Owner, 0);
                    if (p->Private == 0 || p->Private > (MmConstants.PageSize << p->Order) || p->Private <= MaxCacheSize)
                        Fail(ref st, null, "large kmalloc size does not fit its order", (ulong)AddressOf(p), (long)p->Private, p->Order);
                    largeObjects++;
                    largePages += 1UL << p->Order;
                }
            }
            if (slabPages != slabPagesOnLists) Fail(ref st, null, "PG_slab pages in the memmap differ from the slabs on the lists", 0, (long)slabPages, (long)slabPagesOnLists);
            if (largeObjects != LargeObjects || largePages != LargePages) Fail(ref st, null, "large kmalloc blocks in the memmap differ from the counters", 0, (long)largeObjects, (long)LargeObjects);
            if (LargeAllocs - LargeFrees != LargeObjects) Fail(ref st, null, "large allocs - frees differs from large objects", 0, (long)(LargeAllocs - LargeFrees), (long)LargeObjects);
            if (st.Errors > MaxReportedErrors && report != null)
            {
                report.Write("... ");
                TextFormat.Dec(report, (ulong)(st.Errors - MaxReportedErrors));
                report.Write(" more\n");
            }
            return st.Errors == 0;
        }

        /// <summary>Walks one list of a cache; returns the objects in use on its slabs.</summary>
        private ulong CheckList(ref SlabCheck st, int ci, byte list, uint first, uint count)
        {
            ref KmemCache c = ref _caches[ci];
            string name = _names[ci];
            ulong inUse = 0;
            uint n = 0, prev = Page.None;
            ulong spanned = Pa.MaxPfn - Pa.MinPfn;
            for (uint idx = first; idx != Page.None; idx = _memmap[idx].Next)
            {
                if (idx >= spanned) { Fail(ref st, name, "list link outside the memmap", 0, idx, (long)spanned); break; }
                if (++n > count) { Fail(ref st, name, "list longer than its count (or a cycle)", 0, n, count); break; }
                Page* h = _memmap + idx;
                ulong at = (ulong)AddressOf(h);
                if (h->Prev != prev) Fail(ref st, name, "broken prev link", at, h->Prev, prev);
                prev = idx;
                if ((h->Flags & PageFlags.Slab) == 0 || h->RefCount <= 0) { Fail(ref st, name, "listed slab is not an allocated PG_slab page", at, (long)h->Flags, h->RefCount); continue; }
                SlabState* s = StateOf(h);
                if (s->Magic != SlabMagic || s->Cache != ci) { Fail(ref st, name, "slab descriptor names another cache", at, s->Cache, ci); continue; }
                if (h->Order != c.Order) { Fail(ref st, name, "slab has the wrong order", at, h->Order, c.Order); continue; }
                if (s->List != list) Fail(ref st, name, "slab descriptor names another list", at, s->List, list);
                if (h->Owner != 0) Fail(ref st, name, "slab not charged to the kernel", at, h->Owner, 0);
                uint used = s->InUse;
                if (list == ListPartial && (used == 0 || used >= c.ObjectsPerSlab)) Fail(ref st, name, "partial slab is empty or full", at, used, c.ObjectsPerSlab);
                if (list == ListFull && used != c.ObjectsPerSlab) Fail(ref st, name, "full slab has free objects", at, used, c.ObjectsPerSlab);
                if (list == ListEmpty && used != 0) Fail(ref st, name, "empty slab has objects in use", at, used, 0);
                ulong* bm = BitmapOf(ref c, h);
                uint bits = 0;
                for (uint k = 0; k < c.ObjectsPerSlab; k++) if (TestBit(bm, k)) bits++;
                if (bits != used) Fail(ref st, name, "inuse differs from the allocation bitmap", at, used, bits);
                // Bits past the last object must be clear.
                uint words = (c.ObjectsPerSlab + 63) / 64;
                uint tailBits = c.ObjectsPerSlab & 63;
                if (tailBits != 0 && (bm[words - 1] >> (int)tailBits) != 0) Fail(ref st, name, "bitmap bits set past the last object", at, (long)bm[words - 1], tailBits);
                // The freelist: each entry a free object, no entry twice (bounded by the free count).
                uint free = c.ObjectsPerSlab - (used <= c.ObjectsPerSlab ? used : c.ObjectsPerSlab);
                uint walked = 0;
                byte* slab = AddressOf(h);
                ulong off = s->FreeHead;
                while (off != NoObject)
                {
                    if (!IsFreeObject(ref c, bm, off)) { Fail(ref st, name, "freelist entry is not a free object", at, (long)off, walked); break; }
                    if (++walked > free) { Fail(ref st, name, "freelist longer than the free objects (an object twice?)", at, walked, free); break; }
                    off = *(ulong*)(slab + off);
                }
                if (walked < free && (off == NoObject)) Fail(ref st, name, "freelist shorter than the free objects", at, walked, free);
                inUse += used;
            }
            if (n < count) Fail(ref st, name, "list shorter than its count", 0, n, count);
            return inUse;
        }
    }
}
