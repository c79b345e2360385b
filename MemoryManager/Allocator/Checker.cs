using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    // The invariant checker: every managed page is in exactly one state (member of one free
    // buddy block, on a per-cpu list, or part of one allocated block); free lists and nr_free
    // agree; no two free buddies of the same order are left unmerged (when the free lists say
    // they merge: FreeLists.Merges); free + pcp + allocated = managed in every zone;
    // NR_FREE_PAGES adds up. Costs one pass over present pages.
    public sealed unsafe partial class PageAllocator
    {
        private const int MaxReportedErrors = 20;

        private struct CheckState
        {
            public ITextSink Report;
            public int Errors;
        }

        /// <summary>Counts a broken invariant and reports it (up to MaxReportedErrors lines).</summary>
        private static void Fail(ref CheckState st, string what, ulong pfn, long a, long b)
        {
            st.Errors++;
            ITextSink o = st.Report;
            if (o == null || st.Errors > MaxReportedErrors) return;
            o.Write("invariant broken: ");
            o.Write(what);
            if (pfn != NoPfn) { o.Write(" pfn:0x"); TextFormat.Hex(o, pfn, 5); }
            o.Write(" (");
            TextFormat.Signed(o, a);
            o.Write(" vs ");
            TextFormat.Signed(o, b);
            o.Write(")\n");
        }

        /// <summary>Checks every invariant of the allocator's state; true when all hold, else false with the broken ones written to <paramref name="report"/> (may be null).</summary>
        public bool CheckInvariants(ITextSink report) => CheckInvariants(report, true);

        /// <summary>As CheckInvariants(report); <paramref name="checkPoison"/> false skips reading free pages' contents (the slow part with poisoning on).</summary>
        public bool CheckInvariants(ITextSink report, bool checkPoison)
        {
            bool poison = checkPoison && Options.PoisonFreePages;
            bool merges = FreeLists.Merges;   // free lists that do not merge (a page-allocator plug) may leave buddies apart
            var st = new CheckState { Report = report };
            int nz = _zones.Length;
            ulong* freeBlocks = stackalloc ulong[nz * MmConstants.MaxOrder];
            ulong* allocated = stackalloc ulong[nz];
            ulong* pcpSeen = stackalloc ulong[nz];
            ulong* managedSeen = stackalloc ulong[nz];
            for (int i = 0; i < nz * MmConstants.MaxOrder; i++) freeBlocks[i] = 0;
            for (int i = 0; i < nz; i++) { allocated[i] = 0; pcpSeen[i] = 0; managedSeen[i] = 0; }

            // 1. Walk the present pages: each managed page belongs to exactly one block or list.
            ulong doneUntil = 0;
            for (int r = 0; r < _rangeCount; r++)
            {
                ulong pfn = _rangeStart[r] > doneUntil ? _rangeStart[r] : doneUntil;
                ulong end = _rangeEnd[r];
                while (pfn < end)
                {
                    Page* p = Desc(pfn);
                    if ((p->Flags & PageFlags.Reserved) != 0) { pfn++; continue; }
                    if (p->Nid >= NodeCount || p->Zone != (byte)ZoneOfPfn(pfn))
                    {
                        Fail(ref st, "page has the wrong zone or node", pfn, p->Zone, (long)ZoneOfPfn(pfn));
                        pfn++; continue;
                    }
                    if (p->ZoneId != ZoneIndex(p->Nid, p->Zone))
                    {
                        Fail(ref st, "page's zone id is not its node and zone", pfn, p->ZoneId, ZoneIndex(p->Nid, p->Zone));
                        pfn++; continue;
                    }
                    int zi = ZoneIndex(p->Nid, p->Zone);
                    if ((p->Flags & PageFlags.Buddy) != 0)
                    {
                        int o = p->Order;
                        if (o >= MmConstants.MaxOrder) { Fail(ref st, "free block order too large", pfn, o, MmConstants.MaxOrder); pfn++; continue; }
                        if ((pfn & ((1UL << o) - 1)) != 0) Fail(ref st, "free block misaligned", pfn, o, 0);
                        if ((p->Flags & ~PageFlags.Buddy) != 0 || p->RefCount != 0 || p->Owner != -1)
                            Fail(ref st, "free block head has stray flags/refcount/owner", pfn, (long)p->Flags, p->RefCount);
                        CheckTails(ref st, pfn, o, p->Zone, p->Nid);
                        freeBlocks[zi * MmConstants.MaxOrder + o]++;
                        managedSeen[zi] += 1UL << o;
                        if (merges && o < MmConstants.MaxOrder - 1 && PageIsBuddy(pfn ^ (1UL << o), o, p->Zone, p->Nid))
                            Fail(ref st, "free buddies left unmerged", pfn, o, o);
                        if (poison && FindBrokenPoison(pfn, 1UL << o, out ulong off1) != NoPfn)
                            Fail(ref st, "free page poison overwritten", pfn, (long)off1, 0);
                        pfn += 1UL << o;
                    }
                    else if ((p->Flags & PageFlags.Pcp) != 0)
                    {
                        if (p->Flags != PageFlags.Pcp || p->RefCount != 0 || p->Order != 0 || p->Owner != -1)
                            Fail(ref st, "per-cpu page has stray flags/refcount/order/owner", pfn, (long)p->Flags, p->RefCount);
                        if (!Options.PerCpuLists) Fail(ref st, "per-cpu page while per-cpu lists are off", pfn, 0, 0);
                        pcpSeen[zi]++;
                        managedSeen[zi]++;
                        if (poison && FindBrokenPoison(pfn, 1, out ulong off2) != NoPfn)
                            Fail(ref st, "free page poison overwritten", pfn, (long)off2, 0);
                        pfn++;
                    }
                    else if (p->RefCount > 0)
                    {
                        int o = p->Order;
                        if (o >= MmConstants.MaxOrder) { Fail(ref st, "allocated block order too large", pfn, o, MmConstants.MaxOrder); pfn++; continue; }
                        if ((pfn & ((1UL << o) - 1)) != 0) Fail(ref st, "allocated block misaligned", pfn, o, 0);
                        if (((p->Flags & PageFlags.Head) != 0) != (o != 0)) Fail(ref st, "PG_head does not match the block order", pfn, (long)p->Flags, o);
                        if (p->Owner < 0) Fail(ref st, "allocated block without owner", pfn, p->Owner, 0);
                        CheckTails(ref st, pfn, o, p->Zone, p->Nid);
                        allocated[zi] += 1UL << o;
                        managedSeen[zi] += 1UL << o;
                        pfn += 1UL << o;
                    }
                    else
                    {
                        Fail(ref st, "managed page in no state (lost: not free, not on a pcp list, not allocated)", pfn, (long)p->Flags, p->RefCount);
                        managedSeen[zi]++;
                        pfn++;
                    }
                }
                if (pfn > doneUntil) doneUntil = pfn;
            }

            // 2. Per zone: lists against counters against the walk.
            long nrFreeSum = 0;
            ulong managedSum = 0;
            for (int zi = 0; zi < nz; zi++)
            {
                ref Zone z = ref _zones[zi];
                long nrFree = 0;
                for (int o = 0; o < MmConstants.MaxOrder; o++)
                {
                    ulong n = WalkList(ref st, z.FreeAreaHead[o], PageFlags.Buddy, o, z, z.ManagedPages + 1, out uint tail);
                    if (n != z.FreeAreaNrFree[o]) Fail(ref st, "free list length differs from nr_free", NoPfn, (long)n, (long)z.FreeAreaNrFree[o]);
                    if (freeBlocks[zi * MmConstants.MaxOrder + o] != z.FreeAreaNrFree[o])
                        Fail(ref st, "free blocks found in memmap differ from nr_free", NoPfn, (long)freeBlocks[zi * MmConstants.MaxOrder + o], (long)z.FreeAreaNrFree[o]);
                    nrFree += (long)z.FreeAreaNrFree[o] << o;
                }
                if (nrFree != z.NrFree) Fail(ref st, "sum of nr_free << order differs from NR_FREE_PAGES", NoPfn, nrFree, z.NrFree);
                ulong pcpN = WalkList(ref st, z.Pcp.Head, PageFlags.Pcp, 0, z, z.ManagedPages + 1, out uint pcpTail);
                if (pcpN != (ulong)z.Pcp.Count || pcpSeen[zi] != pcpN)
                    Fail(ref st, "per-cpu list length differs from pcp.count", NoPfn, (long)pcpN, z.Pcp.Count);
                if (pcpTail != z.Pcp.Tail) Fail(ref st, "per-cpu list tail is wrong", NoPfn, pcpTail, z.Pcp.Tail);
                if (managedSeen[zi] != z.ManagedPages) Fail(ref st, "managed pages found differ from zone managed", NoPfn, (long)managedSeen[zi], (long)z.ManagedPages);
                if ((ulong)z.NrFree + pcpSeen[zi] + allocated[zi] != z.ManagedPages)
                    Fail(ref st, "free + pcp + allocated differs from managed", NoPfn, (long)((ulong)z.NrFree + pcpSeen[zi] + allocated[zi]), (long)z.ManagedPages);
                if (z.OomLocked) Fail(ref st, "zone left OOM-locked", NoPfn, zi, 0);
                nrFreeSum += z.NrFree;
                managedSum += z.ManagedPages;
            }
            if ((ulong)nrFreeSum != NrFreePages) Fail(ref st, "global NR_FREE_PAGES differs from the zones' sum", NoPfn, (long)NrFreePages, nrFreeSum);
            if (managedSum != TotalManagedPages) Fail(ref st, "total managed differs from the zones' sum", NoPfn, (long)TotalManagedPages, (long)managedSum);
            if (st.Errors > MaxReportedErrors && report != null)
            {
                report.Write("... ");
                TextFormat.Dec(report, (ulong)(st.Errors - MaxReportedErrors));
                report.Write(" more\n");
            }
            return st.Errors == 0;
        }

        // Pages 1 .. 2^order-1 of a block: managed, clean, same zone.
        private void CheckTails(ref CheckState st, ulong head, int order, byte zone, ushort nid)
        {
            ulong end = head + (1UL << order);
            if (end > MaxPfn) { Fail(ref st, "block runs past the end of the memory map", head, order, 0); return; }
            for (ulong pfn = head + 1; pfn < end; pfn++)
            {
                Page* t = Desc(pfn);
                if (t->Flags != PageFlags.None && t->Flags != PageFlags.Tail)
                    Fail(ref st, "page inside a block has its own state (overlapping blocks?)", pfn, (long)t->Flags, (long)head);
                else if (t->RefCount != 0) Fail(ref st, "tail page with a reference count", pfn, t->RefCount, (long)head);
                else if (t->Zone != zone) Fail(ref st, "block crosses a zone boundary", pfn, t->Zone, zone);
                else if (t->Nid != nid) Fail(ref st, "block crosses a node boundary", pfn, t->Nid, nid);
            }
        }

        // Walks a list by memmap index, checking links, flags, order and zone; stops after limit entries (cycle guard).
        private ulong WalkList(ref CheckState st, uint head, PageFlags flag, int order, in Zone z, ulong limit, out uint last)
        {
            ulong n = 0;
            uint prev = Page.None;
            last = Page.None;
            for (uint idx = head; idx != Page.None; idx = _memmap[idx].Next)
            {
                if (idx >= MaxPfn - MinPfn) { Fail(ref st, "list link outside the memmap", NoPfn, idx, 0); break; }
                Page* p = _memmap + idx;
                ulong pfn = MinPfn + idx;
                if ((p->Flags & flag) == 0) Fail(ref st, "list entry without its list flag", pfn, (long)p->Flags, (long)flag);
                if (p->Order != order) Fail(ref st, "free list entry has the wrong order", pfn, p->Order, order);
                if (p->Zone != (byte)z.Type || p->Nid != z.Nid) Fail(ref st, "list entry in another zone", pfn, p->Zone, (long)z.Type);
                if (p->Prev != prev) Fail(ref st, "broken prev link", pfn, p->Prev, prev);
                prev = idx;
                last = idx;
                if (++n > limit) { Fail(ref st, "list does not end (cycle)", pfn, (long)n, (long)limit); break; }
            }
            return n;
        }
    }
}
