using System;
using System.Runtime.InteropServices;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using MemoryManager.Common;

namespace Kernel.Core.Memory
{
    /// <summary>The RAT heap's own counters (region, table, pages by kind), for `mem` and the RAT tests.</summary>
    public struct RatHeapStats
    {
        public ulong RegionStart, RegionEnd, TableAddress;
        public ulong TotalPages, FreePages, TablePages;
        public ulong SmallPages, MediumPages, LargePages, RunPages;
        public ulong SmallAllocations, MediumAllocations, LargeAllocations, PageRuns, PageRunFrees, Frees, RejectedFrees;
        public ulong BytesRequested, BytesInUse;
    }

    /// <summary>
    /// The kernel's default heap, after Cosmos's: pages come from the RAM allocation table
    /// (<see cref="RamAllocationTable"/>, one byte per page, the table itself at the end of the
    /// heap region) and requests are served by size:
    /// small (up to 1 KiB) from size-class slots packed in HeapSmall pages (an empty page goes
    /// back to the table unless it is its class's last free room),
    /// medium (up to a page less a 16-byte prefix) from one HeapMedium page,
    /// large from a run of HeapLarge pages with a 16-byte prefix.
    /// Memory is always returned zero-filled.
    ///
    /// This is the default body of the seam <see cref="Heap"/>: every `new` reaches it through
    /// Heap.Alloc unless a heap plug replaces Heap's methods at build time (docs/plugs.md).
    /// </summary>
    public static unsafe class RatHeap
    {
        public const ulong PageSize = MmConstants.PageSize;
        public const int SmallLimit = 1024;
        public const int LargePrefix = 16;
        public const ulong MediumLimit = PageSize - LargePrefix;
        private const ulong PrefixMagic = 0x4B48454150524546; // "KHEAPREF"
        private const ushort SmallPageMagic = 0x5350;
        private const int SmallHeader = 64;
        private const int SizeClassCount = 8;

        /// <summary>
        /// Header of a HeapSmall page (64 bytes): the page's link in its size class, a free list
        /// threaded through the free slots, and one bit per slot that is in use (so a double free
        /// is caught without walking the free list).
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        private struct SmallPage
        {
            public SmallPage* Next;
            public void* FreeList;
            public ushort SlotSize;
            public ushort Used;
            public ushort Capacity;
            public ushort Magic;
            public ulong Reserved;
            public fixed ulong InUse[4]; // up to 256 slots: (4096 - 64) / 16 = 252
        }

        private struct ClassTable
        {
            public fixed ulong Heads[SizeClassCount];
        }

        private static RamAllocationTable s_rat;
        private static byte* s_start;
        private static byte* s_end;
        private static bool s_ready;
        private static ClassTable s_classes;
        private static RatHeapStats s_stats;

        /// <summary>True once <see cref="Init"/> succeeded.</summary>
        public static bool IsReady => s_ready;

        /// <summary>The slot size serving a small request of <paramref name="size"/> bytes.</summary>
        public static int SlotSizeFor(ulong size)
        {
            if (size <= 16) return 16;
            if (size <= 32) return 32;
            if (size <= 48) return 48;
            if (size <= 64) return 64;
            if (size <= 128) return 128;
            if (size <= 256) return 256;
            if (size <= 512) return 512;
            return 1024;
        }

        private static int ClassIndex(int slotSize)
            => slotSize switch { 16 => 0, 32 => 1, 48 => 2, 64 => 3, 128 => 4, 256 => 5, 512 => 6, _ => 7 };

        /// <summary>
        /// Takes [<paramref name="start"/>, <paramref name="end"/>) (rounded inwards to pages) as the
        /// heap region; the RAT goes in its last pages. Refuses a region too small to hold anything.
        /// </summary>
        public static RatResult Init(ulong start, ulong end)
        {
            ulong first = (start + PageSize - 1) & ~(PageSize - 1);
            ulong last = end & ~(PageSize - 1);
            if (last <= first || (last - first) / PageSize < 16) return RatResult.BadRequest;
            ulong pages = (last - first) / PageSize;
            ulong tablePages = (RamAllocationTable.TableBytes(pages) + PageSize - 1) / PageSize;
            byte* table = (byte*)(first + (pages - tablePages) * PageSize);
            RatResult r = RamAllocationTable.Init(table, pages, true, out s_rat);
            if (r != RatResult.Ok) return r;
            s_start = (byte*)first;
            s_end = (byte*)last;
            s_stats = default;
            s_stats.RegionStart = first;
            s_stats.RegionEnd = last;
            s_stats.TableAddress = (ulong)table;
            s_stats.TablePages = tablePages;
            for (int i = 0; i < SizeClassCount; i++) s_classes.Heads[i] = 0;
            s_ready = true;
            return RatResult.Ok;
        }

        /// <summary>
        /// Returns <paramref name="size"/> zeroed bytes, 16-byte aligned. Out of memory is a
        /// panic that says how much was asked for and how much is left.
        /// </summary>
        public static void* Alloc(nuint size)
        {
            if (!s_ready) Panic.Fail("out of memory: the kernel heap is used before Heap.Init");
            if (size == 0) size = 1;
            void* p;
            if (size <= SmallLimit) { p = AllocSmall(SlotSizeFor(size)); s_stats.SmallAllocations++; }
            else if (size <= MediumLimit) { p = AllocPages(RatPageType.HeapMedium, 1, size); s_stats.MediumAllocations++; }
            else
            {
                if (size > s_rat.TotalPages * PageSize) OutOfMemory(size, RatPageType.HeapLarge, s_rat.TotalPages + 1); // more than the whole heap (and no overflow below)
                ulong pages = (size + LargePrefix + PageSize - 1) / PageSize;
                p = AllocPages(RatPageType.HeapLarge, pages, size);
                s_stats.LargeAllocations++;
            }
            s_stats.BytesRequested += size;
            return p;
        }

        /// <summary>
        /// Gives back memory from <see cref="Alloc"/>. A pointer that is not a live
        /// allocation is refused (counted, nothing changes) and the reason returned.
        /// </summary>
        public static HeapFreeResult Free(void* pointer)
        {
            HeapFreeResult r = FreeCore((byte*)pointer);
            if (r == HeapFreeResult.Ok) s_stats.Frees++;
            else s_stats.RejectedFrees++;
            return r;
        }

        private static HeapFreeResult FreeCore(byte* p)
        {
            if (!s_ready || p < s_start || p >= s_end) return HeapFreeResult.NotInHeap;
            ulong page = (ulong)(p - s_start) / PageSize;
            byte* pageBase = s_start + page * PageSize;
            RatPageType type = s_rat.TypeOf(page);
            if (type == RatPageType.HeapSmall) return FreeSmall((SmallPage*)pageBase, p);
            if (type != RatPageType.HeapMedium && type != RatPageType.HeapLarge) return HeapFreeResult.NotAnAllocation;
            if (p != pageBase + LargePrefix || *(ulong*)(pageBase + 8) != PrefixMagic) return HeapFreeResult.NotAnAllocation;
            ulong pages = s_rat.RunLength(page);
            ulong size = *(ulong*)pageBase;
            if (s_rat.Free(page, out ulong freed) != RatResult.Ok) return HeapFreeResult.NotAnAllocation;
            *(ulong*)(pageBase + 8) = 0;
            if (type == RatPageType.HeapMedium) s_stats.MediumPages -= pages; else s_stats.LargePages -= pages;
            s_stats.BytesInUse -= size;
            return HeapFreeResult.Ok;
        }

        private static void* AllocPages(RatPageType type, ulong count, ulong size)
        {
            ulong page = s_rat.AllocPages(type, count);
            if (page == RamAllocationTable.NoPage) OutOfMemory(size, type, count);
            byte* p = s_start + page * PageSize;
            Zero(p, count * PageSize);
            *(ulong*)p = size;
            *(ulong*)(p + 8) = PrefixMagic;
            if (type == RatPageType.HeapMedium) s_stats.MediumPages += count; else s_stats.LargePages += count;
            s_stats.BytesInUse += size;
            return p + LargePrefix;
        }

        private static void* AllocSmall(int slotSize)
        {
            int index = ClassIndex(slotSize);
            SmallPage* page = (SmallPage*)s_classes.Heads[index];
            while (page != null && page->FreeList == null) page = page->Next;
            if (page == null)
            {
                ulong pfn = s_rat.AllocPages(RatPageType.HeapSmall, 1);
                if (pfn == RamAllocationTable.NoPage) OutOfMemory((ulong)slotSize, RatPageType.HeapSmall, 1);
                page = (SmallPage*)(s_start + pfn * PageSize);
                Zero((byte*)page, PageSize);
                page->SlotSize = (ushort)slotSize;
                page->Magic = SmallPageMagic;
                page->Capacity = (ushort)((PageSize - SmallHeader) / (ulong)slotSize);
                // Thread the free list through the slots, lowest address first.
                byte* slots = (byte*)page + SmallHeader;
                for (int i = page->Capacity - 1; i >= 0; i--)
                {
                    byte* free = slots + i * slotSize;
                    *(void**)free = page->FreeList;
                    page->FreeList = free;
                }
                page->Next = (SmallPage*)s_classes.Heads[index];
                s_classes.Heads[index] = (ulong)page;
                s_stats.SmallPages++;
            }
            byte* result = (byte*)page->FreeList;
            page->FreeList = *(void**)result;
            page->Used++;
            int slotIndex = (int)((result - ((byte*)page + SmallHeader)) / slotSize);
            page->InUse[slotIndex >> 6] |= 1UL << (slotIndex & 63);
            Zero(result, (ulong)slotSize);
            s_stats.BytesInUse += (ulong)slotSize;
            return result;
        }

        private static HeapFreeResult FreeSmall(SmallPage* page, byte* p)
        {
            if (page->Magic != SmallPageMagic || page->SlotSize == 0) return HeapFreeResult.NotAnAllocation;
            long offset = p - ((byte*)page + SmallHeader);
            if (offset < 0 || offset % page->SlotSize != 0 || offset / page->SlotSize >= page->Capacity) return HeapFreeResult.NotAnAllocation;
            int slot = (int)(offset / page->SlotSize);
            ulong bit = 1UL << (slot & 63);
            if ((page->InUse[slot >> 6] & bit) == 0) return HeapFreeResult.AlreadyFree;
            page->InUse[slot >> 6] &= ~bit;
            *(void**)p = page->FreeList;
            page->FreeList = p;
            page->Used--;
            s_stats.BytesInUse -= page->SlotSize;
            if (page->Used == 0 && HasOtherRoom(page))
            {
                // An empty page goes back to the table, unless it is the last room its size class
                // has: then it stays, so that a free-alloc-free-alloc pattern does not churn pages.
                int index = ClassIndex(page->SlotSize);
                SmallPage** link = (SmallPage**)&((ulong*)Unsafe_AddressOfHeads())[index];
                while (*link != null && *link != page) link = &(*link)->Next;
                if (*link == page) *link = page->Next;
                page->Magic = 0;
                ulong pfn = (ulong)((byte*)page - s_start) / PageSize;
                s_rat.Free(pfn, out ulong _);
                s_stats.SmallPages--;
            }
            return HeapFreeResult.Ok;
        }

        /// <summary>Does another page of <paramref name="page"/>'s size class have a free slot?</summary>
        private static bool HasOtherRoom(SmallPage* page)
        {
            for (SmallPage* p = (SmallPage*)s_classes.Heads[ClassIndex(page->SlotSize)]; p != null; p = p->Next)
                if (p != page && p->FreeList != null) return true;
            return false;
        }

        private static ulong* Unsafe_AddressOfHeads()
        {
            fixed (ulong* heads = s_classes.Heads) return heads;
        }

        /// <summary>A snapshot of the heap's counters.</summary>
        public static RatHeapStats Details
        {
            get
            {
                RatHeapStats s = s_stats;
                s.TotalPages = s_rat.TotalPages;
                s.FreePages = s_rat.FreePages;
                return s;
            }
        }

        /// <summary>The name Heap.Name reports for this heap.</summary>
        public const string Name = "rat";

        /// <summary>The seam's counters (<see cref="HeapStats"/>) read off this heap.</summary>
        public static HeapStats Stats
        {
            get
            {
                HeapStats s;
                s.TotalPages = s_rat.TotalPages;
                s.FreePages = s_rat.FreePages;
                s.Allocations = s_stats.SmallAllocations + s_stats.MediumAllocations + s_stats.LargeAllocations;
                s.Frees = s_stats.Frees;
                s.RejectedFrees = s_stats.RejectedFrees;
                s.PageAllocations = s_stats.PageRuns;
                s.PageFrees = s_stats.PageRunFrees;
                s.BytesRequested = s_stats.BytesRequested;
                s.BytesInUse = s_stats.BytesInUse;
                return s;
            }
        }

        /// <summary>
        /// <paramref name="count"/> contiguous zeroed pages, page-aligned, as one RAT run of type
        /// PageRun (Cosmos has no such entry; page-level users such as task stacks need one).
        /// Null when the heap is not set up, the count is zero or no run is long enough.
        /// </summary>
        public static void* AllocPages(ulong count)
        {
            if (!s_ready || count == 0 || count > s_rat.TotalPages) return null;
            ulong page = s_rat.AllocPages(RatPageType.PageRun, count);
            if (page == RamAllocationTable.NoPage) return null;
            byte* p = s_start + page * PageSize;
            Zero(p, count * PageSize);
            s_stats.RunPages += count;
            s_stats.PageRuns++;
            return p;
        }

        /// <summary>Gives back a run from <see cref="AllocPages"/>; anything else is refused and counted.</summary>
        public static HeapFreeResult FreePages(void* pointer)
        {
            byte* p = (byte*)pointer;
            HeapFreeResult r = HeapFreeResult.Ok;
            if (!s_ready || p < s_start || p >= s_end) r = HeapFreeResult.NotInHeap;
            else
            {
                ulong page = (ulong)(p - s_start) / PageSize;
                RatPageType type = s_rat.TypeOf(page);
                if (type == RatPageType.Empty) r = HeapFreeResult.AlreadyFree;
                else if (((ulong)(p - s_start) & (PageSize - 1)) != 0 || type != RatPageType.PageRun) r = HeapFreeResult.NotAnAllocation;
                else
                {
                    s_rat.Free(page, out ulong freed);
                    s_stats.RunPages -= freed;
                    s_stats.PageRunFrees++;
                }
            }
            if (r != HeapFreeResult.Ok) s_stats.RejectedFrees++;
            return r;
        }

        /// <summary>
        /// The first byte of the live allocation holding <paramref name="address"/> (a small slot in
        /// use, or a medium/large block just after its prefix), or 0: outside the heap, in a free
        /// slot, in a prefix, in a page run or the table. What a collector over this heap needs
        /// (Kernel.Mm.RatGc); a large block's head is found by walking back over its Extension bytes.
        /// </summary>
        public static ulong AllocationContaining(ulong address)
        {
            byte* a = (byte*)address;
            if (!s_ready || a < s_start || a >= s_end) return 0;
            ulong page = (ulong)(a - s_start) / PageSize;
            RatPageType t = s_rat.TypeOf(page);
            if (t == RatPageType.HeapSmall)
            {
                SmallPage* sp = (SmallPage*)(s_start + page * PageSize);
                if (sp->Magic != SmallPageMagic || sp->SlotSize == 0) return 0;
                long off = a - ((byte*)sp + SmallHeader);
                if (off < 0) return 0;
                int slot = (int)(off / sp->SlotSize);
                if (slot >= sp->Capacity || (sp->InUse[slot >> 6] & (1UL << (slot & 63))) == 0) return 0;
                return (ulong)((byte*)sp + SmallHeader + slot * sp->SlotSize);
            }
            while (t == RatPageType.Extension && page > 0) { page--; t = s_rat.TypeOf(page); }
            if (t != RatPageType.HeapMedium && t != RatPageType.HeapLarge) return 0;
            byte* pb = s_start + page * PageSize;
            if (*(ulong*)(pb + 8) != PrefixMagic || a < pb + LargePrefix) return 0;
            return (ulong)(pb + LargePrefix);
        }

        /// <summary>
        /// The first byte of the first live allocation that starts above <paramref name="after"/>,
        /// or 0 when none: the table is walked page by page from there (Cosmos's sweep order),
        /// small pages slot by slot through their in-use bits.
        /// </summary>
        public static ulong NextAllocation(ulong after)
        {
            if (!s_ready) return 0;
            ulong page = after < (ulong)s_start ? 0 : (after - (ulong)s_start) / PageSize;
            for (; page < s_rat.TotalPages; page++)
            {
                RatPageType t = s_rat.TypeOf(page);
                byte* pb = s_start + page * PageSize;
                if (t == RatPageType.HeapSmall)
                {
                    SmallPage* sp = (SmallPage*)pb;
                    if (sp->Magic != SmallPageMagic || sp->SlotSize == 0 || sp->Used == 0) continue;
                    for (int i = 0; i < sp->Capacity; i++)
                    {
                        if ((sp->InUse[i >> 6] & (1UL << (i & 63))) == 0) continue;
                        ulong slot = (ulong)(pb + SmallHeader + i * sp->SlotSize);
                        if (slot > after) return slot;
                    }
                }
                else if ((t == RatPageType.HeapMedium || t == RatPageType.HeapLarge) && (ulong)(pb + LargePrefix) > after
                         && *(ulong*)(pb + 8) == PrefixMagic)
                    return (ulong)(pb + LargePrefix);
            }
            return 0;
        }

        /// <summary>The RAT type of the page holding <paramref name="address"/> (Empty outside the heap).</summary>
        public static RatPageType PageTypeOf(void* address)
        {
            byte* p = (byte*)address;
            if (!s_ready || p < s_start || p >= s_end) return RatPageType.Empty;
            return s_rat.TypeOf((ulong)(p - s_start) / PageSize);
        }

        /// <summary>Is <paramref name="address"/> inside the heap region?</summary>
        public static bool Contains(void* address) => s_ready && (byte*)address >= s_start && (byte*)address < s_end;

        private static void Zero(byte* p, ulong bytes)
        {
            ulong i = 0;
            for (; i + 8 <= bytes; i += 8) *(ulong*)(p + i) = 0;
            for (; i < bytes; i++) p[i] = 0;
        }

        private static void OutOfMemory(ulong size, RatPageType kind, ulong pages)
        {
            s_ready = false; // the report itself must not recurse into an exhausted heap
            PanicText.Begin();
            PanicText.Append("out of memory: the kernel heap cannot allocate ");
            PanicText.AppendDecimal(size);
            if (kind == RatPageType.HeapSmall) PanicText.Append(" bytes (small)");
            else if (kind == RatPageType.HeapMedium) PanicText.Append(" bytes (medium, one page)");
            else { PanicText.Append(" bytes (large, "); PanicText.AppendDecimal(pages); PanicText.Append(" contiguous pages)"); }
            PanicText.Append("; ");
            PanicText.AppendDecimal(s_rat.FreePages);
            PanicText.Append(" of ");
            PanicText.AppendDecimal(s_rat.TotalPages);
            PanicText.Append(" heap pages free");
            Panic.Fail(PanicText.Finish());
        }
    }
}
