using System.Runtime.CompilerServices;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    // The buddy algorithm itself.
    //
    //   A free block of order o is 2^o pages starting at a pfn aligned to 2^o. Its head page
    //   carries PG_buddy and Order = o and sits on zone.free_area[o]; its other pages are clean.
    //   Its buddy is the block at pfn ^ (1 << o): the two halves of the order o+1 block.
    //
    //   Allocation (__rmqueue): take the first block of the smallest order >= the request,
    //   then expand(): halve it again and again, putting the upper half back each time.
    //
    //       order 3 block:  [A A A A B B B B]   request order 1
    //       split to 2:     [A A A A]  [B B B B] -> free_area[2]
    //       split to 1:     [A A] [C C] -> free_area[1]; [A A] is returned
    //
    //   Free (__free_one_page): while the buddy is a free block of the same order in the same
    //   zone, take it off its list and merge (pfn & buddy_pfn is the merged block's head).
    //
    //   These two are the default free lists behind the page-allocator seam (FreeLists.cs):
    //   every take from and give to a zone's lists goes through Rmqueue and FreeOneBlock, which
    //   keep NR_FREE_PAGES and call FreeLists.Take / FreeLists.Give, so that a page-allocator
    //   plug sees every block. Code that moves blocks on or off free_area directly bypasses a plug.
    public sealed unsafe partial class PageAllocator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        /// <summary>The descriptor of a pfn known to be inside [MinPfn, MaxPfn).</summary>
        private Page* Desc(ulong pfn) => _memmap + (pfn - MinPfn);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        /// <summary>The memmap index (list link value) of a pfn inside the map.</summary>
        private uint IndexOf(ulong pfn) => (uint)(pfn - MinPfn);

        /// <summary>Pushes the block headed by pfn on free_area[order] of z and marks it PG_buddy (nr_free++, NR_FREE_PAGES untouched).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void AddToFreeArea(ref Zone z, ulong pfn, int order)
        {
            Page* p = Desc(pfn);
            uint idx = IndexOf(pfn);
            uint head = z.FreeAreaHead[order];
            p->Flags = PageFlags.Buddy;
            p->Order = (byte)order;
            p->Prev = Page.None;
            p->Next = head;
            if (head != Page.None) _memmap[head].Prev = idx;
            z.FreeAreaHead[order] = idx;
            z.FreeAreaNrFree[order]++;
        }

        /// <summary>Unlinks the free block headed by pfn from free_area[order] of z and clears PG_buddy (nr_free--).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void DelFromFreeArea(ref Zone z, ulong pfn, int order)
        {
            Page* p = Desc(pfn);
            uint next = p->Next, prev = p->Prev;
            if (prev != Page.None) _memmap[prev].Next = next; else z.FreeAreaHead[order] = next;
            if (next != Page.None) _memmap[next].Prev = prev;
            p->Flags = PageFlags.None;
            p->Order = 0;
            p->Next = Page.None;
            p->Prev = Page.None;
            z.FreeAreaNrFree[order]--;
        }

        /// <summary>page_is_buddy: the page at buddyPfn heads a free block of this order in the same zone.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool PageIsBuddy(ulong buddyPfn, int order, byte zone, ushort nid)
        {
            if (buddyPfn < MinPfn || buddyPfn >= MaxPfn) return false;
            Page* b = Desc(buddyPfn);
            return (b->Flags & PageFlags.Buddy) != 0 && b->Order == order && b->Zone == zone && b->Nid == nid;
        }

        /// <summary>Gives a free block back to z's free lists through the page-allocator seam (FreeLists.Give); NR_FREE_PAGES += 2^order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void FreeOneBlock(ref Zone z, ulong pfn, int order)
        {
            z.NrFree += 1L << order;
            NrFreePages += 1UL << order;
            FreeLists.Give(this, ref z, pfn, order);
        }

        /// <summary>__free_one_page, the default free lists' Give: puts a block back, merging with its buddy as long as the buddy is free at the same order.</summary>
        internal void BuddyFreeOneBlock(ref Zone z, ulong pfn, int order)
        {
            byte zone = (byte)z.Type;
            ushort nid = (ushort)z.Nid;
            while (order < MmConstants.LargestOrder)
            {
                ulong buddyPfn = pfn ^ (1UL << order);
                if (!PageIsBuddy(buddyPfn, order, zone, nid)) break;
                DelFromFreeArea(ref z, buddyPfn, order);
                Desc(pfn)->Flags = PageFlags.None;
                pfn &= buddyPfn;
                order++;
            }
            AddToFreeArea(ref z, pfn, order);
        }

        /// <summary>__rmqueue: takes a block of exactly 2^order pages from z through the page-allocator seam (FreeLists.Take), or NoPfn; NR_FREE_PAGES -= 2^order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong Rmqueue(ref Zone z, int order)
        {
            ulong pfn = FreeLists.Take(this, ref z, order);
            if (pfn != NoPfn)
            {
                z.NrFree -= 1L << order;
                NrFreePages -= 1UL << order;
            }
            return pfn;
        }

        /// <summary>__rmqueue_smallest, the default free lists' Take: the first block of the smallest order &gt;= order, split down to order (expand), or NoPfn.</summary>
        internal ulong BuddyRmqueueSmallest(ref Zone z, int order)
        {
            for (int current = order; current < MmConstants.MaxOrder; current++)
            {
                uint idx = z.FreeAreaHead[current];
                if (idx == Page.None) continue;
                ulong pfn = MinPfn + idx;
                // DelFromFreeArea for the head of the list (no predecessor).
                Page* p = _memmap + idx;
                uint next = p->Next;
                z.FreeAreaHead[current] = next;
                if (next != Page.None) _memmap[next].Prev = Page.None;
                p->Flags = PageFlags.None;
                p->Order = 0;
                p->Next = Page.None;
                p->Prev = Page.None;
                z.FreeAreaNrFree[current]--;
                Expand(ref z, pfn, order, current);
                return pfn;
            }
            return NoPfn;
        }

        /// <summary>expand: splits the order-high block at pfn down to order low, returning each upper half to free_area.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Expand(ref Zone z, ulong pfn, int low, int high)
        {
            while (high > low)
            {
                high--;
                AddToFreeArea(ref z, pfn + (1UL << high), high);
            }
        }

        /// <summary>buffered_rmqueue: order 0 comes from the per-cpu list (refilled a batch at a time), larger orders from the buddy lists.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private ulong BufferedRmqueue(ref Zone z, int order, Gfp gfp)
        {
            if (order != 0 || !Options.PerCpuLists) return Rmqueue(ref z, order);
            if (z.Pcp.Count == 0)
            {
                RmqueueBulk(ref z, z.Pcp.Batch);
                if (z.Pcp.Count == 0) return NoPfn;
            }
            uint idx = (gfp & Gfp.Cold) != 0 ? z.Pcp.Tail : z.Pcp.Head;
            PcpUnlink(ref z, idx);
            return MinPfn + idx;
        }

        /// <summary>rmqueue_bulk: moves up to count order-0 pages from the buddy lists to the tail of the per-cpu list.</summary>
        private void RmqueueBulk(ref Zone z, int count)
        {
            for (int i = 0; i < count; i++)
            {
                ulong pfn = Rmqueue(ref z, 0);
                if (pfn == NoPfn) break;
                uint idx = IndexOf(pfn);
                Page* p = _memmap + idx;
                p->Flags = PageFlags.Pcp;
                p->Next = Page.None;
                p->Prev = z.Pcp.Tail;
                if (z.Pcp.Tail != Page.None) _memmap[z.Pcp.Tail].Next = idx; else z.Pcp.Head = idx;
                z.Pcp.Tail = idx;
                z.Pcp.Count++;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        /// <summary>Unlinks the page at memmap index idx from z's per-cpu list and clears PG_pcp.</summary>
        private void PcpUnlink(ref Zone z, uint idx)
        {
            Page* p = _memmap + idx;
            uint next = p->Next, prev = p->Prev;
            if (prev != Page.None) _memmap[prev].Next = next; else z.Pcp.Head = next;
            if (next != Page.None) _memmap[next].Prev = prev; else z.Pcp.Tail = prev;
            p->Flags = PageFlags.None;
            p->Next = Page.None;
            p->Prev = Page.None;
            z.Pcp.Count--;
        }

        /// <summary>
        /// free_pcppages_bulk: returns up to count pages from the cold end of the per-cpu list to
        /// the buddy lists. Where prefetching is real (the host build, MemoryManager.Core.Cpu), two
        /// cursors walk ahead of the tail (prefetch_buddy): PrefetchDistance pages ahead the
        /// buddy's descriptor is requested, half as far ahead the merge's next touches (the
        /// buddy's free-list neighbours); the pages are freed in the same order either way.
        /// </summary>
        private void FreePcppagesBulk(ref Zone z, int count)
        {
            if (Cpu.PrefetchesForReal && count > 1)
            {
                Page* memmap = _memmap;
                uint far = z.Pcp.Tail, near = far;
                for (int j = 0; j < PrefetchDistance && far != Page.None; j++)
                {
                    PrefetchPcpBuddy(far);
                    far = memmap[far].Prev;
                    if (j == PrefetchDistance / 2) near = far;
                }
                while (count-- > 0 && z.Pcp.Count > 0)
                {
                    if (far != Page.None) { PrefetchPcpBuddy(far); far = memmap[far].Prev; }
                    if (near != Page.None) { PrefetchPcpMergeLinks(near); near = memmap[near].Prev; }
                    uint idx = z.Pcp.Tail;
                    PcpUnlink(ref z, idx);
                    FreeOneBlock(ref z, MinPfn + idx, 0);
                }
                return;
            }
            while (count-- > 0 && z.Pcp.Count > 0)
            {
                uint idx = z.Pcp.Tail;
                PcpUnlink(ref z, idx);
                FreeOneBlock(ref z, MinPfn + idx, 0);
            }
        }

        /// <summary>drain_all_pages: empties every per-cpu list into the buddy lists.</summary>
        public void DrainPerCpuLists()
        {
            for (int i = 0; i < _zones.Length; i++)
                FreePcppagesBulk(ref _zones[i], _zones[i].Pcp.Count);
        }

        /// <summary>zone_batchsize: about a quarter of a 1 MiB (or 1/1024 of the zone) chunk, rounded to 2^n - 1 (63 for zones of 1 GiB and more).</summary>
        public static int ZoneBatchsize(ulong managedPages)
        {
            ulong batch = managedPages / 1024;
            if (batch * MmConstants.PageSize > 1024 * 1024) batch = (1024 * 1024) / MmConstants.PageSize;
            batch /= 4;
            if (batch < 1) batch = 1;
            ulong x = batch + batch / 2, pow = 1;
            while (pow * 2 <= x) pow *= 2;
            return (int)(pow - 1);
        }

        /// <summary>setup_pageset: high = 6 * batch, batch at least 1.</summary>
        private void SetupPagesets()
        {
            for (int i = 0; i < _zones.Length; i++)
            {
                int batch = ZoneBatchsize(_zones[i].ManagedPages);
                _zones[i].Pcp.High = 6 * batch;
                _zones[i].Pcp.Batch = batch < 1 ? 1 : batch;
            }
        }
    }
}
