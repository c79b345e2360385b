using System.Runtime.CompilerServices;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Slab
{
    // kmalloc: the cache for the size, a slab with a free object (partial list, then the kept
    // empty slab, then a new slab from the buddy allocator), the first object off its
    // freelist, zeroed. Large requests are whole buddy blocks.
    public sealed unsafe partial class SlabAllocator
    {
        /// <summary>The gfp bits that let an allocation sleep, start I/O or enter the filesystem.</summary>
        private const Gfp SleepingBits = Gfp.Wait | Gfp.Io | Gfp.Fs;

        /// <summary>
        /// kmalloc: <paramref name="size"/> zeroed bytes, 8-byte aligned (16-byte from 16 up;
        /// page-aligned above 8 KiB), or null with the reason in <paramref name="r"/>. Slab pages
        /// come from PageAllocator.AllocPages with <paramref name="gfp"/> and
        /// <paramref name="ctx"/>, so its slow path (kswapd, direct reclaim, OOM) runs as for any
        /// page allocation. In interrupt context (ctx.InInterrupt) a gfp that may sleep is served
        /// as GFP_ATOMIC. Zone modifiers are only honoured above 8 KiB (there are no DMA caches).
        /// Size 0 is served as 1 byte.
        /// </summary>
        public void* Alloc(nuint size, Gfp gfp, ref TaskContext ctx, out SlabResult r)
            => Alloc(size, gfp, ref ctx, out r, out nuint _);

        /// <summary>
        /// kmalloc that also says the object's usable size (what ksize would answer: the cache's
        /// object size, or the whole block for a large object; 0 on failure), so a caller that
        /// accounts bytes need not look the object up again.
        /// </summary>
        public void* Alloc(nuint size, Gfp gfp, ref TaskContext ctx, out SlabResult r, out nuint usable)
        {
            // The common case first, with nothing else live: a gfp the caches take as it is (no
            // zone modifier; not a sleeping request in interrupt, which is downgraded), a cache for
            // the size and a partial slab whose freelist head and its next pointer pass every
            // check, and that stays partial. It takes exactly the object AllocGeneral would (the
            // partial slab comes first there too); anything else, unchanged, goes to AllocGeneral.
            // (No call but that last one, so the common case needs no saved registers.)
            if ((gfp & (Gfp.Dma | Gfp.Dma32)) == 0 && (!ctx.InInterrupt || (gfp & SleepingBits) == 0) && size - 1 < MaxCacheSize)
            {
                int ci = _sizeIndex[(int)((size - 1) >> 3)];
                ref KmemCache c = ref _caches[ci];
                if (c.Partial != Page.None)
                {
                    byte* obj = TryTakeObject(ref c, _memmap + c.Partial);
                    if (obj != null)
                    {
                        c.Allocs = c.Allocs + 1;
                        c.ActiveObjects = c.ActiveObjects + 1;
                        r = SlabResult.Ok;
                        usable = (nuint)c.ObjectSize;
                        return obj;
                    }
                }
            }
            return AllocGeneral(size, gfp, ref ctx, out r, out usable);
        }

        /// <summary>kmalloc for every case the common one of <see cref="Alloc(nuint, Gfp, ref TaskContext, out SlabResult, out nuint)"/> leaves.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void* AllocGeneral(nuint size, Gfp gfp, ref TaskContext ctx, out SlabResult r, out nuint usable)
        {
            usable = 0;
            if (ctx.InInterrupt && (gfp & SleepingBits) != 0)
            {
                gfp = (gfp & ~SleepingBits) | Gfp.GFP_ATOMIC;
                AtomicDowngrades++;
            }
            int ci = CacheIndexFor(size);
            if (ci < 0)
            {
                void* large = AllocLarge(size, gfp, ref ctx, out r, out int order);
                if (large != null) usable = (nuint)(MmConstants.PageSize << order);
                return large;
            }
            ref KmemCache c = ref _caches[ci];
            if ((gfp & (Gfp.Dma | Gfp.Dma32)) != 0) { c.Failed++; r = SlabResult.BadGfp; WarnBadGfp(ci, gfp); return null; }

            byte* obj;
            do
            {
                Page* head;
                if (c.Partial != Page.None) head = _memmap + c.Partial;
                else if (c.Empty != Page.None) head = _memmap + c.Empty;
                else
                {
                    head = NewSlab(ci, gfp, ref ctx);
                    if (head == null)
                    {
                        c.Failed++;
                        r = SlabResult.NoMemory;
                        if ((gfp & Gfp.NoWarn) == 0) SlabOutOfMemory(ci, gfp, ref ctx);
                        return null;
                    }
                }
                obj = TakeObject(ref c, head);   // null only when a broken slab turned out full: it went to the full list
            } while (obj == null);
            c.Allocs = c.Allocs + 1;   // (x = x + 1: the JIT updates the field in place)
            c.ActiveObjects = c.ActiveObjects + 1;
            r = SlabResult.Ok;
            usable = (nuint)c.ObjectSize;
            return obj;
        }

        /// <summary>Alloc with GFP_KERNEL, or GFP_ATOMIC when <paramref name="inInterrupt"/> (the kernel's `new`).</summary>
        public void* Alloc(nuint size, bool inInterrupt, ref TaskContext ctx, out SlabResult r)
            => Alloc(size, inInterrupt ? Gfp.GFP_ATOMIC : Gfp.GFP_KERNEL, ref ctx, out r);

        /// <summary>The first free object of a slab with one: off the freelist, bit set, zeroed; the slab moves to partial or full.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* TakeObject(ref KmemCache c, Page* head)
        {
            SlabState* st = StateOf(head);
            byte* slab = AddressOf(head);
            ulong* bm = c.BitmapOffset == NoBitmapInSlab ? &(head + 1)->Private : (ulong*)(slab + c.BitmapOffset);   // BitmapOf, the address in hand
            uint off = st->FreeHead;
            uint i = ObjectIndex(ref c, off);   // the head's index, kept for its bit below
            ulong next = NoObject;
            if (i == NoObject || TestBit(bm, i)
                || ((next = *(ulong*)(slab + off)) != NoObject && (next == off || !IsFreeObject(ref c, bm, next))))
                return TakeObjectAfterRepair(ref c, head, off, next);   // out of line: the common case keeps its registers
            return TakeFreeHead(ref c, head, st, slab, bm, off, next, i);
        }

        /// <summary>
        /// TakeObject of a partial slab that stays partial, when its checks pass (the freelist head
        /// is a free object of the slab, its next pointer the end or another free object): the
        /// object off the freelist, its bit set, zeroed; the slab stays on the partial list, so no
        /// list moves. Null, with nothing changed, otherwise.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* TryTakeObject(ref KmemCache c, Page* head)
        {
            SlabState* st = StateOf(head);
            uint inUse = (uint)st->InUse + 1;
            // It would fill the slab, or the slab is not marked partial: the list move is AllocGeneral's.
            if (inUse >= c.ObjectsPerSlab || st->List != ListPartial) return null;
            byte* slab = AddressOf(head);
            ulong* bm = c.BitmapOffset == NoBitmapInSlab ? &(head + 1)->Private : (ulong*)(slab + c.BitmapOffset);
            uint off = st->FreeHead;
            // TakeObject's checks of the freelist head, written out: through a shared helper (with
            // out parameters, or an expression-bodied test of next) ilc emits 3 instructions more
            // per kmalloc/kfree pair (tools/order0-instructions.sh, OBJECT48 406 -> 409).
            uint i = ObjectIndex(ref c, off);
            if (i == NoObject || TestBit(bm, i)) return null;
            ulong next = *(ulong*)(slab + off);
            if (next != NoObject && (next == off || !IsFreeObject(ref c, bm, next))) return null;
            return TakeCheckedHead(ref c, st, slab, bm, off, next, i, inUse);
        }

        /// <summary>
        /// TakeObject's rare case: a free object was written after its free (or the freelist is
        /// broken otherwise). The bitmap is authoritative, so report, rebuild the freelist from it
        /// and take its new head; null (the slab moved to full) when the bitmap says it has none.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private byte* TakeObjectAfterRepair(ref KmemCache c, Page* head, uint off, ulong next)
        {
            FreelistCorrupt(ref c, head, off, next);
            RebuildFreelist(ref c, head);
            SlabState* st = StateOf(head);
            byte* slab = AddressOf(head);
            off = st->FreeHead;
            if (off == NoObject) { ListMove(ref c, head, ListFull); return null; }
            return TakeFreeHead(ref c, head, st, slab, BitmapOf(ref c, head), off, *(ulong*)(slab + off), ObjectIndex(ref c, off));
        }

        /// <summary>Takes the checked freelist head (at <paramref name="off"/>, index <paramref name="i"/>, followed by <paramref name="next"/>): bit set, zeroed, the slab to partial or full.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* TakeFreeHead(ref KmemCache c, Page* head, SlabState* st, byte* slab, ulong* bm, uint off, ulong next, uint i)
        {
            uint inUse = (uint)st->InUse + 1;
            byte* obj = TakeCheckedHead(ref c, st, slab, bm, off, next, i, inUse);
            ListMove(ref c, head, inUse == c.ObjectsPerSlab ? ListFull : ListPartial);
            return obj;
        }

        /// <summary>The checked freelist head off the list: its bit set, the slab's count <paramref name="inUse"/>, zeroed. No list move.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static byte* TakeCheckedHead(ref KmemCache c, SlabState* st, byte* slab, ulong* bm, uint off, ulong next, uint i, uint inUse)
        {
            bm[i >> 6] |= 1UL << (int)(i & 63);
            st->FreeHead = (ushort)next;
            st->InUse = (ushort)inUse;
            byte* obj = slab + off;
            ZeroObject(obj, c.ObjectSize);
            return obj;
        }

        /// <summary>True when off is the start of an object of this slab whose bitmap bit is clear.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool IsFreeObject(ref KmemCache c, ulong* bm, ulong off)
        {
            uint i = ObjectIndex(ref c, off);
            return i != NoObject && !TestBit(bm, i);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void ZeroObject(byte* p, uint bytes)
        {
            // Four words a step, then what is left (every cache's object size is a multiple of 8).
            ulong* q = (ulong*)p;
            ulong* end = (ulong*)(p + (bytes & ~31u));
            for (; q < end; q += 4) { q[0] = 0; q[1] = 0; q[2] = 0; q[3] = 0; }
            if ((bytes & 16) != 0) { q[0] = 0; q[1] = 0; q += 2; }
            if ((bytes & 8) != 0) *q = 0;
        }

        /// <summary>Threads the freelist through every object whose bitmap bit is clear, lowest address first.</summary>
        private void RebuildFreelist(ref KmemCache c, Page* head)
        {
            ulong* bm = BitmapOf(ref c, head);
            byte* slab = AddressOf(head);
            uint link = NoObject;
            uint inUse = 0;
            for (uint k = c.ObjectsPerSlab; k-- > 0;)
            {
                if (TestBit(bm, k)) { inUse++; continue; }
                *(ulong*)(slab + k * c.ObjectSize) = link;
                link = k * c.ObjectSize;
            }
            StateOf(head)->FreeHead = (ushort)link;
            StateOf(head)->InUse = (ushort)inUse;
        }

        /// <summary>allocate_slab: a buddy block of the cache's order, charged to the kernel (pid 0), PG_slab, every object free; on the partial list.</summary>
        private Page* NewSlab(int ci, Gfp gfp, ref TaskContext ctx)
        {
            ref KmemCache c = ref _caches[ci];
            Gfp pageGfp = gfp & ~(Gfp.Zero | Gfp.Movable | Gfp.HighMem);
            ulong pfn = Pa.AllocPages(ref ctx, pageGfp, c.Order);
            if (pfn == PageAllocator.NoPfn) return null;
            Pa.SetOwner(pfn, c.Order, 0);
            Page* head = Desc(pfn);
            head->Flags |= PageFlags.Slab;
            SlabState* st = StateOf(head);
            st->Magic = SlabMagic;
            st->Cache = (byte)ci;
            st->List = ListNone;
            st->InUse = 0;
            ulong* bm = BitmapOf(ref c, head);
            for (uint k = 0; k < (c.ObjectsPerSlab + 63) / 64; k++) bm[k] = 0;
            RebuildFreelist(ref c, head);
            ListAdd(ref c, head, ListPartial);
            c.SlabsAllocated++;
            return head;
        }

        /// <summary>discard_slab: off its list, slab state cleared, the block back to the buddy allocator.</summary>
        private void DiscardSlab(ref KmemCache c, Page* head)
        {
            ReleaseSlab(ref c, head);
            Pa.FreePages(PfnOf(head), c.Order, 0);
        }

        // discard_slab up to the free: off its list, slab state cleared, counted.
        private void ReleaseSlab(ref KmemCache c, Page* head)
        {
            ListDel(ref c, head);
            head->Flags &= ~PageFlags.Slab;
            head->Private = 0;
            if (c.BitmapOffset == NoBitmapInSlab) (head + 1)->Private = 0;
            c.SlabsFreed++;
        }

        /// <summary>
        /// kmem_cache_shrink for every cache: gives every empty slab back to the buddy
        /// allocator (also the ones kept for the next allocation). Returns the pages freed.
        /// A reclaim path may call it when memory is short.
        /// </summary>
        public ulong Shrink()
        {
            ulong pages = 0;
            PageBatch batch = default;   // the discarded slabs go back to the buddy allocator in bulk frees
            for (int ci = 0; ci < CacheCount; ci++)
            {
                ref KmemCache c = ref _caches[ci];
                while (c.Empty != Page.None)
                {
                    Page* head = _memmap + c.Empty;
                    ReleaseSlab(ref c, head);
                    if (batch.IsFull) Pa.FreePagesBulk(ref batch, out _);
                    batch.Add(PfnOf(head), c.Order, 0);
                    pages += c.PagesPerSlab;
                }
            }
            if (batch.Count > 0) Pa.FreePagesBulk(ref batch, out _);
            return pages;
        }

        /// <summary>kmalloc_large: the smallest buddy block that fits, zeroed, charged to the kernel, its head marked PG_large_kmalloc; refused above 4 MiB.</summary>
        private void* AllocLarge(nuint size, Gfp gfp, ref TaskContext ctx, out SlabResult r, out int order)
        {
            order = LargeOrder(size);
            if (order < 0)
            {
                LargeFailed++;
                r = SlabResult.TooLarge;
                if ((gfp & Gfp.NoWarn) == 0) WarnTooLarge(size, gfp, ref ctx);
                return null;
            }
            ulong pfn = Pa.AllocPages(ref ctx, (gfp & ~Gfp.Movable) | Gfp.Zero, order);
            if (pfn == PageAllocator.NoPfn) { LargeFailed++; r = SlabResult.NoMemory; return null; }
            Pa.SetOwner(pfn, order, 0);
            Page* head = Desc(pfn);
            head->Flags |= PageFlags.LargeKmalloc;
            head->Private = (ulong)size;
            LargeAllocs++;
            LargeObjects++;
            LargePages += 1UL << order;
            r = SlabResult.Ok;
            return AddressOf(head);
        }

        // ---- messages -----------------------------------------------------------------

        /// <summary>slab_out_of_memory: "SLUB: Unable to allocate memory on node -1, gfp=0x..." with the cache's figures.</summary>
        private void SlabOutOfMemory(int ci, Gfp gfp, ref TaskContext ctx)
        {
            ITextSink o = Log;
            if (o == null) return;
            ref KmemCache c = ref _caches[ci];
            o.Write("SLUB: Unable to allocate memory on node -1, gfp=0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write(" (");
            o.Write(ctx.Comm != null ? ctx.Comm : "?");
            o.Write(")\n  cache: ");
            o.Write(_names[ci]);
            o.Write(", object size: ");
            TextFormat.Dec(o, c.ObjectSize);
            o.Write(", buffer size: ");
            TextFormat.Dec(o, c.ObjectSize);
            o.Write(", default order: ");
            TextFormat.Dec(o, (ulong)c.Order);
            o.Write(", min order: ");
            TextFormat.Dec(o, (ulong)c.Order);
            o.Write("\n  node 0: slabs: ");
            TextFormat.Dec(o, c.NumSlabs);
            o.Write(", objs: ");
            TextFormat.Dec(o, c.NumObjects);
            o.Write(", free: ");
            TextFormat.Dec(o, c.NumObjects - c.ActiveObjects);
            o.Write('\n');
        }

        private void WarnTooLarge(nuint size, Gfp gfp, ref TaskContext ctx)
        {
            ITextSink o = Log;
            if (o == null) return;
            o.Write("WARNING: ");
            o.Write(ctx.Comm != null ? ctx.Comm : "?");
            o.Write(": kmalloc of ");
            TextFormat.Dec(o, (ulong)size);
            o.Write(" bytes refused: larger than the largest buddy block (4 MiB), mode:0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write('\n');
        }

        private void WarnBadGfp(int ci, Gfp gfp)
        {
            ITextSink o = Log;
            if (o == null || (gfp & Gfp.NoWarn) != 0) return;
            o.Write("WARNING: kmalloc: ");
            o.Write(_names[ci]);
            o.Write(": zone modifiers in mode:0x");
            TextFormat.Hex(o, (ulong)gfp);
            o.Write(" refused (no DMA kmalloc caches)\n");
        }

        private void FreelistCorrupt(ref KmemCache c, Page* head, uint off, ulong next)
        {
            FreelistRepairs++;
            ITextSink o = Log;
            if (o == null) return;
            o.Write("BUG ");
            o.Write(_names[StateOf(head)->Cache]);
            o.Write(": Freepointer corrupt in slab 0x");
            TextFormat.Hex(o, (ulong)AddressOf(head));
            o.Write(" (object at offset 0x");
            TextFormat.Hex(o, off);
            o.Write(", next 0x");
            TextFormat.Hex(o, next);
            o.Write("): freelist rebuilt from the allocation bitmap\n");
        }
    }
}
