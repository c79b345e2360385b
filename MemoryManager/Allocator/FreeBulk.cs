using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    /// <summary>
    /// A batch of blocks to free together (Linux's folio_batch / pagevec): up to
    /// <see cref="Capacity"/> (pfn, order, owner) entries on the caller's stack, given back in one
    /// <see cref="PageAllocator.FreePagesBulk(ref PageBatch, out int)"/> call. Nothing allocates.
    /// </summary>
    public unsafe struct PageBatch
    {
        /// <summary>Entries a batch holds (PAGEVEC_SIZE, 31 in Linux).</summary>
        public const int Capacity = 31;

        /// <summary>Entries in use.</summary>
        public int Count;
        public fixed ulong Pfns[Capacity];
        public fixed int Owners[Capacity];
        public fixed byte Orders[Capacity];

        /// <summary>folio_batch_add: appends a block; returns the room left (0: the batch is full, free it before adding more). A full batch takes nothing and returns -1.</summary>
        public int Add(ulong pfn, int order, int ownerPid)
        {
            if (Count >= Capacity) return -1;
            Pfns[Count] = pfn;
            Orders[Count] = (byte)order;
            Owners[Count] = ownerPid;
            Count++;
            return Capacity - Count;
        }

        /// <summary>True when no more entries fit.</summary>
        public bool IsFull => Count >= Capacity;
    }

    public sealed unsafe partial class PageAllocator
    {
        /// <summary>
        /// How many blocks ahead the bulk frees prefetch: block i+PrefetchDistance's descriptor and
        /// its buddy's are requested while block i is freed, and the free-list neighbours of block
        /// i+PrefetchDistance/2's buddy once that buddy's descriptor has arrived.
        /// </summary>
        public const int PrefetchDistance = 8;

        /// <summary>
        /// free_pages_bulk / release_pages: frees <paramref name="count"/> blocks (pfns[i] of order
        /// orders[i], charged to owners[i], or to <paramref name="ownerPid"/> for all when owners is
        /// null) exactly as that many FreePages calls in the same order would: same checks, same
        /// per-cpu list pushes and drains, same merges, same counters. While it frees block i it
        /// prefetches the descriptors block i+k and its buddy will need, so at large memory sizes
        /// the cache misses of several frees overlap instead of following one another.
        /// A refused block is reported as FreePages reports it ("BUG: Bad page state") and the
        /// others are still freed. Returns Ok when every block was freed, BadArgument (and frees
        /// nothing) for a negative count or a missing array, else the first refusal's reason;
        /// <paramref name="refused"/> counts the refused blocks.
        /// </summary>
        public MmResult FreePagesBulk(ulong* pfns, byte* orders, int* owners, int ownerPid, int count, out int refused)
        {
            refused = 0;
            if (count < 0 || (count > 0 && (pfns == null || orders == null))) return MmResult.BadArgument;
            MmResult first = MmResult.Ok;
            if (Cpu.PrefetchesForReal)
            {
                int lead = count < PrefetchDistance ? count : PrefetchDistance;
                for (int j = 0; j < lead; j++) PrefetchBlock(pfns[j], orders[j]);
            }
            for (int i = 0; i < count; i++)
            {
                if (Cpu.PrefetchesForReal)
                {
                    int far = i + PrefetchDistance, near = i + PrefetchDistance / 2;
                    if (far < count) PrefetchBlock(pfns[far], orders[far]);
                    if (near < count) PrefetchMergeLinks(pfns[near], orders[near]);
                }
                MmResult r = FreeBlock(pfns[i], orders[i], owners != null ? owners[i] : ownerPid);
                if (r != MmResult.Ok)
                {
                    if (first == MmResult.Ok) first = r;
                    refused++;
                }
            }
            return first;
        }

        /// <summary>Frees every block of <paramref name="batch"/> (FreePagesBulk) and empties it.</summary>
        public MmResult FreePagesBulk(ref PageBatch batch, out int refused)
        {
            int n = batch.Count;
            batch.Count = 0;
            fixed (ulong* pfns = batch.Pfns)
            fixed (byte* orders = batch.Orders)
            fixed (int* owners = batch.Owners)
                return FreePagesBulk(pfns, orders, owners, 0, n, out refused);
        }

        /// <summary>Prefetches what freeing (pfn, order) reads first: its descriptor and, unless it goes to a per-cpu list, its buddy's.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrefetchBlock(ulong pfn, int order)
        {
            ulong idx = pfn - MinPfn, span = MaxPfn - MinPfn;
            if (idx >= span) return;
            Cpu.Prefetch(_memmap + idx);
            if (order == 0 && Options.PerCpuLists) return;
            ulong b = (pfn ^ (1UL << (order & 15))) - MinPfn;
            if (b < span) Cpu.Prefetch(_memmap + b);
        }

        /// <summary>
        /// Prefetches what a merge of (pfn, order) with its buddy touches next: when the buddy
        /// (its descriptor already requested by PrefetchBlock) heads a free block of that order,
        /// its free-list neighbours (unlinked by the merge) and the next order's buddy.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrefetchMergeLinks(ulong pfn, int order)
        {
            if (order == 0 && Options.PerCpuLists) return;
            ulong span = MaxPfn - MinPfn;
            ulong b = (pfn ^ (1UL << (order & 15))) - MinPfn;
            if (b >= span) return;
            PrefetchBuddyNeighbours(_memmap + b, order, (pfn & (pfn ^ (1UL << (order & 15)))) - MinPfn, span);
        }

        /// <summary>For a buddy descriptor b of a free block of this order: prefetch its list neighbours and the merged block's next buddy (mergedIdx is the merged block's memmap index).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrefetchBuddyNeighbours(Page* b, int order, ulong mergedIdx, ulong span)
        {
            if ((b->Flags & PageFlags.Buddy) == 0 || b->Order != order) return;
            Page* memmap = _memmap;
            uint next = b->Next, prev = b->Prev;
            if (next != Page.None) Cpu.Prefetch(memmap + next);
            if (prev != Page.None) Cpu.Prefetch(memmap + prev);
            ulong up = (MinPfn + mergedIdx) ^ (2UL << (order & 15));
            ulong u = up - MinPfn;
            if (u < span) Cpu.Prefetch(memmap + u);
        }

        /// <summary>Prefetches the order-0 buddy of the per-cpu page at memmap index idx (what free_pcppages_bulk's merge reads first: prefetch_buddy).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrefetchPcpBuddy(uint idx)
        {
            ulong b = ((MinPfn + idx) ^ 1UL) - MinPfn;
            if (b < MaxPfn - MinPfn) Cpu.Prefetch(_memmap + b);
        }

        /// <summary>For the per-cpu page at memmap index idx, whose buddy's descriptor was prefetched earlier: prefetch what its merge touches next.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void PrefetchPcpMergeLinks(uint idx)
        {
            ulong pfn = MinPfn + idx, span = MaxPfn - MinPfn;
            ulong b = (pfn ^ 1UL) - MinPfn;
            if (b >= span) return;
            PrefetchBuddyNeighbours(_memmap + b, 0, (pfn & ~1UL) - MinPfn, span);
        }
    }
}
