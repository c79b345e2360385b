using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    public sealed unsafe partial class PageAllocator
    {
        /// <summary>Flags a page may not carry when it is freed (reclaim clears them first): PAGE_FLAGS_CHECK_AT_FREE.</summary>
        public const PageFlags FlagsCheckAtFree = PageFlags.Lru | PageFlags.Active | PageFlags.Writeback | PageFlags.SwapCache | PageFlags.Slab | PageFlags.LargeKmalloc;

        /// <summary>Byte pattern of free pages when poisoning is on (Linux's PAGE_POISON).</summary>
        public const byte PagePoison = 0xAA;

        /// <summary>
        /// __free_pages: returns the block of 2^order pages at pfn, allocated to ownerPid. Bad
        /// input is refused with its MmResult and a "BUG: Bad page state" line in Log, and
        /// nothing changes. A block with extra references only loses one (put_page).
        /// </summary>
        public MmResult FreePages(ulong pfn, int order, int ownerPid)
        {
            // The order-0 per-cpu fast path as a leaf: a head of order 0 that passes every check
            // (as in FreeBlock), per-cpu lists on, no poisoning, and a list that stays below
            // pcp.high (no batch to give back) is pushed here; anything else goes to
            // FreePagesGeneral, whose call is the last thing each way out does (a jump, no frame).
            // The result is the same either way: this is FreeBlock's own pcp push for that case.
            // (The options first, as one test with the order: _pcpClosed is per-cpu lists off or
            // poisoning on, fixed at Create. Then nothing else is read here.)
            if ((order | _pcpClosed) != 0) return FreePagesGeneral(pfn, order, ownerPid);
            Page* memmap = _memmap;
            ulong idx = pfn - MinPfn;
            Page* p = memmap + idx;
            if (idx >= _spannedPages
                || (p->Flags & (PageFlags.Reserved | PageFlags.Buddy | PageFlags.Pcp | FlagsCheckAtFree)) != 0
                || p->RefCount != 1
                || p->Order != 0
                || p->Owner != ownerPid)
                return FreePagesGeneral(pfn, 0, ownerPid);
            // page_zone through page_zone_id (Nid * MAX_NR_ZONES + Zone, written with them); an id
            // outside the zone table goes the general way (which reads Nid and Zone).
            Zone[] zones = _zones;
            uint zi = p->ZoneId;
            if (zi >= (uint)zones.Length) return FreePagesGeneral(pfn, 0, ownerPid);
            ref Zone z = ref zones[zi];
            int count = z.Pcp.Count + 1;
            if (count >= z.Pcp.High) return FreePagesGeneral(pfn, 0, ownerPid);
            uint head = z.Pcp.Head;
            p->Flags = PageFlags.Pcp;
            p->RefCount = 0;
            p->Owner = -1;
            p->Prev = Page.None;
            p->Next = head;
            p->Private = 0;
            Stat.Pgfree = Stat.Pgfree + 1;
            if (head != Page.None) memmap[head].Prev = (uint)idx; else z.Pcp.Tail = (uint)idx;
            z.Pcp.Head = (uint)idx;
            z.Pcp.Count = count;
            return MmResult.Ok;
        }

        /// <summary>FreePages for every case its fast path leaves: FreeBlock, out of line.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private MmResult FreePagesGeneral(ulong pfn, int order, int ownerPid) => FreeBlock(pfn, order, ownerPid);

        /// <summary>__free_pages' body, inlined into FreePages and into the bulk frees (FreePagesBulk), so both take exactly the same steps.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private MmResult FreeBlock(ulong pfn, int order, int ownerPid)
        {
            // Locals: stores through Page* could alias this object's fields, so the JIT would
            // otherwise load _memmap and MinPfn again after each one.
            Page* memmap = _memmap;
            ulong minPfn = MinPfn;
            ulong idx = pfn - minPfn;
            Page* p = memmap + idx;
            // The common case in as few tests as possible: a head in range and aligned, with no
            // flag that free_pages_check refuses, one reference, of this order and this owner.
            // Every such block passes CheckAllocatedBlock and drops its last reference. Anything
            // else (a refusal, or put_page of a block with more references) takes the full check
            // in its documented order, for the exact reason and message.
            if (!((uint)order < MmConstants.MaxOrder
                  && idx < MaxPfn - minPfn
                  && (pfn & ((1UL << order) - 1)) == 0
                  && (p->Flags & (PageFlags.Reserved | PageFlags.Buddy | PageFlags.Pcp | FlagsCheckAtFree)) == 0
                  && p->RefCount == 1
                  && p->Order == order
                  && p->Owner == ownerPid))
            {
                MmResult r = FreeCheckedSlow(pfn, order, ownerPid, out bool lastReference);
                if (r != MmResult.Ok || !lastReference) return r;
            }
            ref Zone z = ref _zones[ZoneIndex(p->Nid, p->Zone)];
            if (order == 0 && Options.PerCpuLists)
            {
                // free_hot_cold_page (hot end; the cold variant is never used by __free_pages) with the
                // descriptor reset folded in, each field written once; at pcp.high a batch goes back.
                uint head = z.Pcp.Head;
                p->Flags = PageFlags.Pcp;
                p->Order = 0;
                p->RefCount = 0;
                p->Owner = -1;
                p->Prev = Page.None;
                p->Next = head;
                p->Private = 0;
                Stat.Pgfree += 1;
                if (Options.PoisonFreePages) PoisonPages(pfn, 1);
                if (head != Page.None) memmap[head].Prev = (uint)idx; else z.Pcp.Tail = (uint)idx;
                z.Pcp.Head = (uint)idx;
                int count = ++z.Pcp.Count;
                if (count >= z.Pcp.High) FreePcppagesBulk(ref z, z.Pcp.Batch);
                return MmResult.Ok;
            }
            p->Flags = PageFlags.None;
            p->Order = 0;
            p->RefCount = 0;
            p->Owner = -1;
            p->Next = Page.None;
            p->Prev = Page.None;
            p->Private = 0;
            Stat.Pgfree += 1UL << order;
            if (Options.PoisonFreePages) PoisonPages(pfn, 1UL << order);
            FreeOneBlock(ref z, pfn, order);
            return MmResult.Ok;
        }

        /// <summary>
        /// The free path's uncommon case, out of line so the common one keeps its registers: the
        /// full check in its documented order (a refusal is reported, "BUG: Bad page state"), or
        /// put_page of a block with more references (one dropped, <paramref name="lastReference"/> false).
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private MmResult FreeCheckedSlow(ulong pfn, int order, int ownerPid, out bool lastReference)
        {
            lastReference = false;
            MmResult r = CheckAllocatedBlock(pfn, order, ownerPid, true);
            if (r != MmResult.Ok) { BadPage(pfn, order, ownerPid, r); return r; }
            Page* p = Desc(pfn);
            if (p->RefCount > 1) { p->RefCount--; return MmResult.Ok; }
            lastReference = true;
            return MmResult.Ok;
        }

        /// <summary>Re-charges an allocated block to another pid (the block must be allocated, with this order).</summary>
        public MmResult SetOwner(ulong pfn, int order, int newOwner)
        {
            MmResult r = CheckAllocatedBlock(pfn, order, 0, false);
            if (r != MmResult.Ok) { BadPage(pfn, order, newOwner, r); return r; }
            Desc(pfn)->Owner = newOwner;
            return MmResult.Ok;
        }

        /// <summary>free_pages_check: is pfn the head of an allocated block of this order (and this owner)?</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public MmResult CheckAllocatedBlock(ulong pfn, int order, int ownerPid, bool checkOwner)
        {
            if ((uint)order >= MmConstants.MaxOrder) return MmResult.BadOrder;
            if (pfn < MinPfn || pfn >= MaxPfn) return MmResult.PfnOutOfRange;
            if ((pfn & ((1UL << order) - 1)) != 0) return MmResult.Misaligned;
            Page* p = Desc(pfn);
            if ((p->Flags & PageFlags.Reserved) != 0) return MmResult.NotManaged;
            if ((p->Flags & (PageFlags.Buddy | PageFlags.Pcp)) != 0) return MmResult.DoubleFree;
            if (p->RefCount <= 0) return InsideAllocatedBlock(pfn) ? MmResult.NotHead : MmResult.DoubleFree;
            if (p->Order != order) return MmResult.WrongOrder;
            if (checkOwner && p->Owner != ownerPid) return MmResult.NotOwner;
            if ((p->Flags & FlagsCheckAtFree) != 0) return MmResult.BadPageState;
            return MmResult.Ok;
        }

        // A page with no state of its own is a tail: of an allocated block (true) or of a free one (false).
        private bool InsideAllocatedBlock(ulong pfn)
        {
            for (int o = 1; o < MmConstants.MaxOrder; o++)
            {
                ulong head = pfn & ~((1UL << o) - 1);
                if (head < MinPfn) return false;
                Page* h = Desc(head);
                if ((h->Flags & PageFlags.Reserved) != 0) continue;
                if (h->Order < o) continue;
                if ((h->Flags & PageFlags.Buddy) != 0) return false;
                if (h->RefCount > 0) return true;
            }
            return false;
        }

        /// <summary>bad_page: "BUG: Bad page state: pfn:0x... order:N owner:P: reason".</summary>
        private void BadPage(ulong pfn, int order, int pid, MmResult why)
        {
            ITextSink o = Log;
            if (o == null) return;
            o.Write("BUG: Bad page state: pfn:0x");
            TextFormat.Hex(o, pfn, 5);
            o.Write(" order:");
            TextFormat.Signed(o, order);
            o.Write(" pid:");
            TextFormat.Signed(o, pid);
            o.Write(": ");
            o.Write(Reason(why));
            Page* p = PfnToPage(pfn);
            if (p != null && (why == MmResult.WrongOrder || why == MmResult.NotOwner))
            {
                o.Write(" (block order:");
                TextFormat.Dec(o, p->Order);
                o.Write(" owner:");
                TextFormat.Signed(o, p->Owner);
                o.Write(')');
            }
            o.Write('\n');
        }

        /// <summary>A short description of an MmResult, for messages.</summary>
        public static string Reason(MmResult r)
        {
            switch (r)
            {
                case MmResult.Ok: return "ok";
                case MmResult.BadOrder: return "order is not below MAX_ORDER (11)";
                case MmResult.PfnOutOfRange: return "pfn outside the memory map";
                case MmResult.NotManaged: return "page is a hole or reserved, not managed by the buddy allocator";
                case MmResult.Misaligned: return "pfn not aligned to its order";
                case MmResult.DoubleFree: return "page already free (double free)";
                case MmResult.WrongOrder: return "block was allocated with another order";
                case MmResult.NotOwner: return "block belongs to another pid";
                case MmResult.NotHead: return "pfn is a tail page of an allocated block";
                case MmResult.PoisonCorrupted: return "free page poison overwritten (use after free)";
                case MmResult.NoMemory: return "out of memory";
                case MmResult.BadArgument: return "bad argument";
                case MmResult.TableFull: return "table full";
                case MmResult.BadPageState: return "page flags still set at free (lru/active/writeback/swapcache/slab/large_kmalloc)";
            }
            return "unknown";
        }

        // Poisoning (with real memory only): free pages hold PAGE_POISON; allocation checks it.

        /// <summary>Fills count pages from pfn with PAGE_POISON.</summary>
        private void PoisonPages(ulong pfn, ulong count)
        {
            ulong* q = (ulong*)(_phys + (pfn << MmConstants.PageShift));
            ulong words = count << (MmConstants.PageShift - 3);
            for (ulong i = 0; i < words; i++) q[i] = 0xAAAAAAAAAAAAAAAAUL;
        }

        /// <summary>Fills count pages from pfn with zeros (__GFP_ZERO).</summary>
        private void ZeroPages(ulong pfn, ulong count)
        {
            ulong* q = (ulong*)(_phys + (pfn << MmConstants.PageShift));
            ulong words = count << (MmConstants.PageShift - 3);
            for (ulong i = 0; i < words; i++) q[i] = 0;
        }

        /// <summary>First pfn in [pfn, pfn+count) whose poison is broken, or NoPfn; offset is the byte within that page.</summary>
        private ulong FindBrokenPoison(ulong pfn, ulong count, out ulong offset)
        {
            offset = 0;
            for (ulong k = 0; k < count; k++)
            {
                byte* b = _phys + ((pfn + k) << MmConstants.PageShift);
                ulong* q = (ulong*)b;
                for (int i = 0; i < (int)(MmConstants.PageSize / 8); i++)
                {
                    if (q[i] == 0xAAAAAAAAAAAAAAAAUL) continue;
                    int j = i * 8;
                    while (b[j] == PagePoison) j++;
                    offset = (ulong)j;
                    return pfn + k;
                }
            }
            return NoPfn;
        }

        // check_poison_mem: report (and count) a free page written after it was freed.
        private void CheckPoison(ulong pfn, int order)
        {
            ulong bad = FindBrokenPoison(pfn, 1UL << order, out ulong offset);
            if (bad == NoPfn) return;
            Stat.PoisonCorrupted++;
            ITextSink o = Log;
            if (o == null) return;
            o.Write("BUG: Bad page state: pfn:0x");
            TextFormat.Hex(o, bad, 5);
            o.Write(": ");
            o.Write(Reason(MmResult.PoisonCorrupted));
            o.Write(" at offset 0x");
            TextFormat.Hex(o, offset);
            o.Write('\n');
        }
    }
}
