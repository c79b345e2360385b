using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using Kernel.Hal;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Slab;
using System.Runtime.CompilerServices;

namespace Kernel.Mm
{
    /// <summary>How the buddy heap was set up.</summary>
    public enum BuddyHeapMode : byte
    {
        /// <summary>Not set up.</summary>
        None = 0,
        /// <summary>THE kernel heap (the heap plug): all mapped usable RAM of the boot memory map.</summary>
        Heap = 1,
        /// <summary>A guest of the image's heap (RAT or a heap plug): a run of pages taken from it, the page allocator of the process layer (Processes.Init) and of the mm suite.</summary>
        Guest = 2,
    }

    /// <summary>The buddy heap's own numbers (layout at boot, boot arena, counters), for `mem` and the mm suite.</summary>
    public struct BuddyHeapDetails
    {
        public BuddyHeapMode Mode;
        public ulong MemmapStart, MemmapBytes;
        public ulong ArenaStart, ArenaBytes, ArenaUsed, ArenaAllocations, ArenaIgnoredFrees;
        public ulong RunPages, PageRuns;
    }

    /// <summary>
    /// The kernel heap on MemoryManager's zoned buddy page allocator (<see cref="PageAllocator"/>,
    /// the same sources the host tests). Its public members mirror <see cref="Heap"/> (the seam)
    /// exactly; the heap plug (CosmosKernel/Plugs/BuddyHeap, -p:KernelHeap=Buddy) forwards Heap's
    /// members here. Boot order (docs/kernel-heap.md): boot arena (memblock) → memory map from
    /// multiboot → memmap placed after the arena → PageAllocator.Create → SlabAllocator.Create.
    ///
    /// Objects: MemoryManager's slab (SlabAllocator: kmalloc caches 8 B .. 8 KiB on buddy slabs,
    /// larger objects as whole buddy blocks marked PG_large_kmalloc), which refuses interior,
    /// foreign, double and wrong-kind frees with its own messages. Page runs (AllocPages) are
    /// buddy blocks whose head descriptor is marked as a run (Page.Private = run kind | count), so
    /// FreePages knows them. Out of memory prints the allocator's failure report and show_mem,
    /// then panics.
    ///
    /// Only plain statics: Init runs before the managed (reference-typed) statics exist, so the
    /// allocator object is kept as a raw address (read back without a cast: AsPageAllocator).
    /// </summary>
    public static unsafe class BuddyHeap
    {
        public const ulong PageSize = MmConstants.PageSize;
        public const string HeapName = "buddy";

        /// <summary>
        /// Debug images fill every free page with PAGE_POISON (0xAA) and check it when the page is
        /// allocated again (Linux's page poisoning; Zircon and xv6 do the same), so a write after
        /// free is reported ("free page poison overwritten") instead of corrupting a later owner.
        /// Release images skip it: it costs a page write per free and a page read per allocation.
        /// </summary>
#if DEBUG
        public const bool PoisonsFreePages = true;
#else
        public const bool PoisonsFreePages = false;
#endif
        /// <summary>Bytes of the boot arena (memblock) that serves allocations while the buddy is built.</summary>
        public const ulong ArenaBytes = 64 * 1024;
        /// <summary>The first MiB (BIOS data, real-mode IVT, EBDA, VGA, option ROMs) is never managed.</summary>
        public const ulong LowMemoryEnd = 0x100000;

        // Page.Private of an allocated block's head page: what the block is (top bits) and its size or page count.
        private const ulong KindMask = 0xFF00000000000000UL;
        private const ulong KindRun = 0x5200000000000000UL;    // 'R'

        private static void* s_pa;      // PageAllocator (raw: no reference statics before ModuleInit)
        private static void* s_log;     // ConsoleSink
        private static void* s_slab;    // SlabAllocator
        private static void* s_arenaRoots;   // object[ArenaRootSlots] made in the boot arena
        private static ulong s_gcMaps, s_gcBytes;   // the collector's reserved memory (THE heap only)
        private static bool s_ready, s_dead;
        private static BuddyHeapMode s_mode;
        private static BuddyHeapDetails s_details;
        private static HeapStats s_stats;
        // pfn_to_page's numbers, copied from the allocator once it exists (kfree's "is this heap
        // memory" test reads them without the allocator object): the memmap, its first pfn and
        // how many pfns it spans.
        private static Page* s_memmap;
        private static ulong s_minPfn, s_spannedPfns;
        /// <summary>in_interrupt() of the current context: allocations then use GFP_ATOMIC (no interrupt handler allocates yet).</summary>
        public static bool InInterrupt;

        // Ranges the buddy must never hand out, as recorded at Init (for the mm suite and `mem`).
        public const int MaxReservations = 16;
        private struct ReservedStore { public fixed ulong Words[MaxReservations * 2]; public fixed byte Kinds[MaxReservations]; }
        private static ReservedStore s_reserved;
        private static int s_reservedCount;

        /// <summary>What a recorded reservation is.</summary>
        public enum ReservationKind : byte { LowMemory = 0, KernelImage, BootInfo, BootArena, Memmap, GcMaps }

        public static string Name => HeapName;
        public static bool IsReady => s_ready;
        public static BuddyHeapMode Mode => s_mode;

        /// <summary>The page allocator underneath (null before Init).</summary>
        public static PageAllocator Allocator => AsPageAllocator(s_pa);
        /// <summary>The object heap (kmalloc caches) on the page allocator (null before Init).</summary>
        public static SlabAllocator Slab => AsSlabAllocator(s_slab);
        /// <summary>The sink the allocator logs to (the console).</summary>
        public static ITextSink Log => AsConsoleSink(s_log);

        // The statics above hold raw addresses (no reference statics exist when Init runs). These
        // read one back as the reference it is, with no type check: each address was stored from
        // an object of exactly that type (CreateAllocator), and null stays null. A castclass here
        // cost a call into the cast helper on every kmalloc and kfree.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static PageAllocator AsPageAllocator(void* p) { PageAllocator o = null; *(void**)&o = p; return o; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static SlabAllocator AsSlabAllocator(void* p) { SlabAllocator o = null; *(void**)&o = p; return o; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ConsoleSink AsConsoleSink(void* p) { ConsoleSink o = null; *(void**)&o = p; return o; }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static object[] AsObjectArray(void* p) { object[] o = null; *(void**)&o = p; return o; }

        /// <summary>Slots of <see cref="ArenaRoots"/>.</summary>
        public const int ArenaRootSlots = 4;
        /// <summary>
        /// An object[] made in the boot arena (never swept, scanned conservatively by the collector):
        /// a reference stored in it keeps its object alive through the boot-arena root only (the gc suite's test hook).
        /// </summary>
        public static object[] ArenaRoots => AsObjectArray(s_arenaRoots);

        /// <summary>
        /// The objects this class keeps as raw addresses in plain statics (made before reference
        /// statics exist), for the collector: it reads no plain static, and not all of them lie in
        /// the boot arena (ArenaRoots is a heap object at 128M). docs/gc.md, "Roots".
        /// </summary>
        public static void RawObjectRoots(out ulong pa, out ulong log, out ulong slab, out ulong arenaRoots)
        {
            pa = (ulong)s_pa;
            log = (ulong)s_log;
            slab = (ulong)s_slab;
            arenaRoots = (ulong)s_arenaRoots;
        }

        public static int ReservationCount => s_reservedCount;
        public static ulong ReservationStart(int i) => s_reserved.Words[2 * i];
        public static ulong ReservationEnd(int i) => s_reserved.Words[2 * i + 1];
        public static ReservationKind ReservationKindOf(int i) => (ReservationKind)s_reserved.Kinds[i];
        public static string ReservationName(ReservationKind k) => k switch
        {
            ReservationKind.LowMemory => "low memory (BIOS)",
            ReservationKind.KernelImage => "kernel image",
            ReservationKind.BootInfo => "boot information",
            ReservationKind.BootArena => "boot arena",
            ReservationKind.GcMaps => "collector maps (managed, mark bits, mark stack)",
            _ => "memmap (page descriptors)",
        };

        private static MmResult Reserve(MemoryMap map, ulong start, ulong end, ReservationKind kind)
        {
            if (end <= start) return MmResult.Ok;
            if (s_reservedCount < MaxReservations)
            {
                s_reserved.Words[2 * s_reservedCount] = start;
                s_reserved.Words[2 * s_reservedCount + 1] = end;
                s_reserved.Kinds[s_reservedCount] = (byte)kind;
                s_reservedCount++;
            }
            return map.Reserve(start, end - start);
        }

        /// <summary>"the current task" as the allocator sees it: the kernel (pid 0), in interrupt or not.</summary>
        public static TaskContext Current
        {
            get
            {
                TaskContext t = new TaskContext(0, "swapper", TaskFlags.KernelThread);
                t.InInterrupt = InInterrupt;
                return t;
            }
        }

        /// <summary>GFP_ATOMIC in interrupt context, GFP_KERNEL otherwise.</summary>
        public static Gfp GfpFor(ref TaskContext t) => t.InInterrupt ? Gfp.GFP_ATOMIC : Gfp.GFP_KERNEL;

        /// <summary>
        /// The allocation scopes of every heap allocation (a kernel `new`, Heap.AllocPages): the
        /// allocator is entered from inside the heap, so the task may not sleep there (the scheduler
        /// allocates a task's stack after choosing its table slot, the shell and the test framework
        /// build strings between reads of shared state) and may not run the shrinkers (the collector
        /// would sweep the heap it is allocating from). It may still reclaim directly (which never
        /// sleeps), dip into half the min reserve (the no-sleep scope's __GFP_HIGH), retry and call
        /// the OOM killer (docs/reclaim-and-oom.md, "Inside the kernel").
        /// </summary>
        public const TaskFlags HeapScope = TaskFlags.MemallocNosleep | TaskFlags.MemallocNoshrink;

        // ---------------------------------------------------------------- set-up

        /// <summary>
        /// Sets the buddy heap up as THE kernel heap. [<paramref name="regionStart"/>,
        /// <paramref name="regionEnd"/>) is the largest usable region above the kernel image and
        /// the boot information (clipped to the mapped RAM): the boot arena and then the memmap go
        /// at its start. Every usable range of the multiboot memory map below Paging.MappedLimit
        /// becomes buddy memory, less the first MiB, the kernel image (stack and guard page
        /// included), the boot information block, the arena and the memmap. Null on success.
        /// </summary>
        public static string Init(ulong regionStart, ulong regionEnd)
        {
            if (s_ready || s_mode != BuddyHeapMode.None) return "the buddy heap is already set up";
            ulong arena = PageUp(regionStart);
            if (regionEnd <= arena || regionEnd - arena < ArenaBytes + 64 * PageSize) return "the heap region is too small for the boot arena and the memmap";
            // 1. memblock: from here until the buddy is up, every `new` is served by the arena.
            BootArena.Open(arena, ArenaBytes);
            s_mode = BuddyHeapMode.Heap;

            // 2. The memory map: usable RAM that paging mapped, with its holes, each piece on the
            //    node the SRAT gives it (AcpiNuma; without an SRAT everything is node 0), and the
            //    SLIT's distances between the nodes.
            MemoryMap map = new MemoryMap();
            int nodes = AcpiNuma.Info.NodeCount;
            for (int i = 0; i < BootInfo.RegionCount; i++)
            {
                MemoryRegion r = BootInfo.Region(i);
                if (r.Type != MemoryRegionType.Usable) continue;
                ulong s = r.Base, e = r.End;
                if (e > Paging.MappedLimit) e = Paging.MappedLimit;
                if (e <= s + PageSize) continue;
                while (s < e)
                {
                    int nid = 0;
                    ulong end = e;
                    if (nodes > 0)
                    {
                        nid = AcpiNuma.Info.NodeOf(s, out ulong rangeEnd);
                        if (nid < 0) return "the SRAT gives usable RAM no node";
                        if (rangeEnd < end) end = rangeEnd;
                    }
                    if (map.Add(s, end - s, nid) != MmResult.Ok) return "the memory map has overlapping or too many usable regions";
                    s = end;
                }
            }
            for (int f = 0; f < nodes && AcpiNuma.Info.Slit == SlitState.Ok; f++)
                for (int t = 0; t < nodes; t++)
                    if (map.SetDistance(f, t, AcpiNuma.Info.Distance(f, t)) != MmResult.Ok) return "the SLIT gives a distance the memory map refuses";
            Reserve(map, 0, LowMemoryEnd, ReservationKind.LowMemory);
            Reserve(map, BootInfo.KernelStart, PageUp(BootInfo.KernelEnd), ReservationKind.KernelImage);
            Reserve(map, BootInfo.InfoStart & ~(PageSize - 1), PageUp(BootInfo.InfoEnd), ReservationKind.BootInfo);
            Reserve(map, arena, arena + ArenaBytes, ReservationKind.BootArena);

            // 3. The memmap (one 32-byte descriptor per spanned page) right after the arena; on a
            //    machine of several nodes each node's part on the node (Vmemmap), and the
            //    collector's maps after the arena instead.
            ulong memmapBytes = PageAllocator.MemmapBytes(map);
            ulong memmap = arena + ArenaBytes;
            if (memmapBytes == 0) return "the heap region cannot hold the memmap";
            ulong gcMaps = nodes >= 2 ? memmap : PageUp(memmap + memmapBytes);
            if (nodes < 2)
            {
                if (memmap + memmapBytes > regionEnd) return "the heap region cannot hold the memmap";
                Reserve(map, memmap, PageUp(memmap + memmapBytes), ReservationKind.Memmap);
            }

            // 3b. The collector's maps (a managed bit and a mark bit per 16 bytes, the mark stack) after the memmap.
            ulong gcBytes = KernelGc.ReservedBytes(memmapBytes / (ulong)sizeof(Page) * PageSize);
            if (gcMaps + gcBytes > regionEnd) return "the heap region cannot hold the memmap and the collector's maps";
            Reserve(map, gcMaps, PageUp(gcMaps + gcBytes), ReservationKind.GcMaps);
            if (nodes >= 2)
            {
                string placed = Vmemmap.Build(map, memmapBytes, nodes);
                if (placed != null) return placed;
                memmap = Paging.VmemmapStart;
                for (int n = 0; n < nodes; n++)
                    if (Vmemmap.BlockPages(n) != 0)
                        Reserve(map, Vmemmap.BlockStart(n), Vmemmap.BlockStart(n) + Vmemmap.BlockPages(n) * PageSize, ReservationKind.Memmap);
            }
            s_gcMaps = gcMaps;
            s_gcBytes = gcBytes;

            // 4. The allocator: zones, free lists, watermarks, per-cpu lists.
            string error = CreateAllocator(map, memmap, memmapBytes);
            s_arenaRoots = ObjectModel.AddressOf(new object[ArenaRootSlots]);
            BootArena.Close();
            s_details.ArenaStart = arena;
            s_details.ArenaBytes = ArenaBytes;
            return error;
        }

        /// <summary>
        /// Sets the buddy heap up as a guest of the image's heap (when another heap is THE heap):
        /// <paramref name="pages"/> contiguous pages from Heap.AllocPages become its only usable
        /// range, memmap at their start. For the process layer and the in-kernel suites of an image
        /// whose heap is not the buddy (Processes.Init sets it up at boot). Null on success.
        /// </summary>
        public static string InitGuest(ulong pages)
        {
            if (s_ready) return null;
            if (Heap.Name == HeapName) return "the buddy heap is the image's heap: use Init";
            void* run = Heap.AllocPages(pages);
            if (run == null) return "the image's heap cannot give the buddy heap its pages";
            s_mode = BuddyHeapMode.Guest;
            ulong start = (ulong)run, end = start + pages * PageSize;
            MemoryMap map = new MemoryMap();
            map.Add(start, end - start);
            ulong memmapBytes = PageAllocator.MemmapBytes(map);
            Reserve(map, start, PageUp(start + memmapBytes), ReservationKind.Memmap);
            return CreateAllocator(map, start, memmapBytes);
        }

        private static string CreateAllocator(MemoryMap map, ulong memmap, ulong memmapBytes)
        {
            AllocatorOptions o = new AllocatorOptions();
            o.IdentityMapped = true;   // pfn N's bytes are at N * 4096
            o.PoisonFreePages = PoisonsFreePages;
            // numa_zonelist_order= on the kernel command line (a refused value leaves the default, node order).
            if (BootOptions.ZonelistOrder == ZonelistOrderOption.Zone) o.ZonelistOrder = ZonelistOrder.Zone;
            MmResult r = PageAllocator.Create(map, (Page*)memmap, null, o, out PageAllocator pa);
            if (r != MmResult.Ok) return string.Concat("PageAllocator.Create refused the memory map: ", PageAllocator.Reason(r));
            ConsoleSink log = new ConsoleSink();
            pa.Log = log;
            SlabResult sr = SlabAllocator.Create(pa, out SlabAllocator slab);
            if (sr != SlabResult.Ok) return "SlabAllocator.Create refused the page allocator";
            slab.Log = log;
            if (s_gcBytes != 0)
            {
                ulong heapStart = (ulong)pa.PageAddress(pa.MinPfn);
                ulong heapEnd = heapStart + ((pa.MaxPfn - pa.MinPfn) << MmConstants.PageShift);
                s_slab = ObjectModel.AddressOf(slab);   // the collector's model reads it
                string gcError = KernelGc.Init(heapStart, heapEnd, (byte*)s_gcMaps, s_gcBytes);
                if (gcError != null) return gcError;
            }
            // kswapd, direct reclaim and the OOM killer are not wired yet: the slow path goes
            // straight to its failure report (null partners).
            s_pa = ObjectModel.AddressOf(pa);
            s_memmap = pa.PfnToPage(pa.MinPfn);
            s_minPfn = pa.MinPfn;
            s_spannedPfns = pa.MaxPfn - pa.MinPfn;
            s_log = ObjectModel.AddressOf(log);
            s_slab = ObjectModel.AddressOf(slab);
            s_details.Mode = s_mode;
            s_details.MemmapStart = memmap;
            s_details.MemmapBytes = memmapBytes;
            s_ready = true;
            return null;
        }

        // ---------------------------------------------------------------- objects

        /// <summary><paramref name="size"/> zeroed bytes, 16-byte aligned from 16 bytes up, 8 below (the slab's kmalloc-8). Never null: out of memory panics after the failure report.</summary>
        public static void* Alloc(nuint size)
        {
            // A `new` in task context may fail softly: null after the whole slow path (reclaim,
            // the OOM killer), and `new` throws OutOfMemoryException (docs/exceptions.md).
            bool mayFail = Kernel.Core.Runtime.Allocator.TakeMayFail(out bool beforeOomKill);
            // The kernel's task context (Current) made already inside the heap's allocation scope:
            // it is this call's own and dropped on return, so the scope needs no save and restore
            // around the slab (Alloc(size, ref current) keeps them for a caller's context).
            TaskContext t = new TaskContext(0, "swapper", TaskFlags.KernelThread | HeapScope);
            t.InInterrupt = InInterrupt;
            if (mayFail && !t.InInterrupt && !KernelGc.IsRunning) return AllocOrNull(size, beforeOomKill, ref t);
            // Not ready (dead after an out-of-memory panic, or not set up) and size 0 take the full entry.
            if (!s_ready || size == 0) return Alloc(size, ref t);
            void* p = Slab.Alloc(size, t.InInterrupt ? Gfp.GFP_ATOMIC : Gfp.GFP_KERNEL, ref t, out SlabResult r, out nuint usable);
            if (p == null) OutOfMemory(ref t, size, r);
            s_stats.Allocations = s_stats.Allocations + 1;
            s_stats.BytesRequested = s_stats.BytesRequested + size;
            s_stats.BytesInUse = s_stats.BytesInUse + usable;
            return p;
        }

        /// <summary>`new` requests the slow path could not serve (each became an OutOfMemoryException).</summary>
        public static ulong SoftFailures { get; private set; }

        /// <summary>
        /// kmalloc without a failure report or a panic: null when the slow path found nothing
        /// (`new`'s path). <paramref name="beforeOomKill"/>: with __GFP_NORETRY, null before the
        /// OOM killer is considered (`new` then collects garbage and asks again).
        /// </summary>
        private static void* AllocOrNull(nuint size, bool beforeOomKill, ref TaskContext current)
        {
            if (s_dead || !s_ready) return Alloc(size, ref current);
            if (size == 0) size = 1;
            SlabAllocator slab = Slab;
            TaskFlags scope = MemallocScope.Save(ref current, HeapScope);
            Gfp gfp = GfpFor(ref current) | Gfp.NoWarn | (beforeOomKill ? Gfp.NoRetry : Gfp.None);
            void* p = slab.Alloc(size, gfp, ref current, out SlabResult r, out nuint usable);
            MemallocScope.Restore(ref current, HeapScope, scope);
            if (p == null) { if (!beforeOomKill) SoftFailures++; return null; }
            s_stats.Allocations++;
            s_stats.BytesRequested += size;
            s_stats.BytesInUse += usable;
            return p;
        }

        /// <summary>
        /// kmalloc on behalf of <paramref name="current"/>: the slab's caches (8 B .. 8 KiB) or a
        /// large kmalloc block straight from the buddy, GFP_KERNEL, or GFP_ATOMIC in interrupt.
        /// </summary>
        public static void* Alloc(nuint size, ref TaskContext current)
        {
            if (s_dead) Panic.Fail("out of memory: the kernel heap is unusable after an out-of-memory panic");
            if (!s_ready)
            {
                if (BootArena.IsOpen) return BootArena.Alloc(size);
                Panic.Fail("out of memory: the kernel heap is used before Heap.Init");
            }
            if (size == 0) size = 1;
            SlabAllocator slab = Slab;
            TaskFlags scope = MemallocScope.Save(ref current, HeapScope);
            void* p = slab.Alloc(size, GfpFor(ref current), ref current, out SlabResult r, out nuint usable);
            MemallocScope.Restore(ref current, HeapScope, scope);
            if (p == null) OutOfMemory(ref current, size, r);
            s_stats.Allocations = s_stats.Allocations + 1;   // (x = x + 1: updated in place, no address computed)
            s_stats.BytesRequested = s_stats.BytesRequested + size;
            s_stats.BytesInUse = s_stats.BytesInUse + usable;
            return p;
        }

        /// <summary>kfree: gives back an object from <see cref="Alloc"/>; anything else is refused with a message, counted, and nothing changes.</summary>
        public static HeapFreeResult Free(void* pointer)
        {
            if (BootArena.Contains(pointer)) { BootArena.IgnoreFree(); return HeapFreeResult.Ok; } // early objects are permanent
            HeapFreeResult r = FreeObject((byte*)pointer);
            if (r == HeapFreeResult.Ok) { s_stats.Frees = s_stats.Frees + 1; KernelGc.Forget(pointer); }
            else s_stats.RejectedFrees++;
            return r;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static HeapFreeResult FreeObject(byte* p)
        {
            if (!s_ready) return Refuse("kfree", p, HeapFreeResult.NotInHeap, "the heap is not set up");
            // pfn_to_page from the copied numbers (one unsigned test for both ends of the range).
            ulong idx = ((ulong)p >> MmConstants.PageShift) - s_minPfn;
            // Outside the buddy's pages, or on a reserved page (kernel image and stack, memmap...): not heap memory.
            if (idx >= s_spannedPfns || (s_memmap[idx].Flags & PageFlags.Reserved) != 0) return Refuse("kfree", p, HeapFreeResult.NotInHeap, "not in memory the heap manages");
            SlabAllocator slab = Slab;
            SlabResult r = slab.Free(p, out nuint usable);   // refusals are reported by the slab ("BUG kmalloc-64: double free ...")
            if (r == SlabResult.Ok) { s_stats.BytesInUse = s_stats.BytesInUse - usable; return HeapFreeResult.Ok; }
            if (r == SlabResult.DoubleFree) return HeapFreeResult.AlreadyFree;
            if (r == SlabResult.NotManaged) return HeapFreeResult.NotInHeap;
            return HeapFreeResult.NotAnAllocation;
        }

        private static bool IsAllocatedHead(Page* d)
            => d->RefCount > 0 && (d->Flags & (PageFlags.Buddy | PageFlags.Pcp | PageFlags.Reserved)) == 0;

        /// <summary>Prints "BUG: kfree: bad pointer 0x...: why" (free_pages / kfree style) and returns <paramref name="r"/>.</summary>
        private static HeapFreeResult Refuse(string who, byte* p, HeapFreeResult r, string why)
        {
            ITextSink o = Log;
            if (o == null) return r;
            o.Write("BUG: ");
            o.Write(who);
            o.Write(": bad pointer 0x");
            TextFormat.Hex(o, (ulong)p);
            o.Write(": ");
            o.Write(why);
            o.Write('\n');
            return r;
        }

        // ---------------------------------------------------------------- page runs

        /// <summary><paramref name="count"/> contiguous zeroed pages (one buddy block of the smallest covering order); null on failure.</summary>
        public static void* AllocPages(ulong count)
        {
            if (!s_ready || count == 0 || count > (1UL << MmConstants.LargestOrder)) return null;
            TaskContext t = Current;
            int order = 0;
            while ((1UL << order) < count) order++;
            PageAllocator pa = Allocator;
            MemallocScope.Save(ref t, HeapScope);
            ulong pfn = pa.AllocPages(ref t, GfpFor(ref t) | Gfp.Zero, order);
            if (pfn == PageAllocator.NoPfn) return null;
            pa.PfnToPage(pfn)->Private = KindRun | count;
            s_stats.PageAllocations++;
            s_details.RunPages += 1UL << order;
            s_details.PageRuns++;
            return pa.PageAddress(pfn);
        }

        /// <summary>Gives back a run from <see cref="AllocPages"/>; anything else is refused with a message, counted, and nothing changes.</summary>
        public static HeapFreeResult FreePages(void* pointer)
        {
            HeapFreeResult r = FreeRun((byte*)pointer);
            if (r == HeapFreeResult.Ok) s_stats.PageFrees++;
            else s_stats.RejectedFrees++;
            return r;
        }

        private static HeapFreeResult FreeRun(byte* p)
        {
            if (!s_ready || BootArena.Contains(p)) return Refuse("free_pages", p, HeapFreeResult.NotInHeap, "not in memory the heap manages");
            PageAllocator pa = Allocator;
            ulong pfn = (ulong)p >> MmConstants.PageShift;
            Page* d = pa.PfnToPage(pfn);
            if (d == null || (d->Flags & PageFlags.Reserved) != 0) return Refuse("free_pages", p, HeapFreeResult.NotInHeap, "not in memory the heap manages");
            if (((ulong)p & (PageSize - 1)) != 0) return Refuse("free_pages", p, HeapFreeResult.NotAnAllocation, "not page aligned");
            if (!IsAllocatedHead(d))
            {
                MmResult m = pa.FreePages(pfn, 0, 0);
                return m == MmResult.DoubleFree ? HeapFreeResult.AlreadyFree : HeapFreeResult.NotAnAllocation;
            }
            if ((d->Private & KindMask) != KindRun) return Refuse("free_pages", p, HeapFreeResult.NotAnAllocation, "not a page run (an object, or someone else's pages)");
            int order = d->Order;
            ulong saved = d->Private;
            d->Private = 0;
            if (pa.FreePages(pfn, order, 0) != MmResult.Ok) { d->Private = saved; return HeapFreeResult.NotAnAllocation; }
            s_details.RunPages -= 1UL << order;
            s_details.PageRuns--;
            return HeapFreeResult.Ok;
        }

        // ---------------------------------------------------------------- queries

        /// <summary>Does <paramref name="address"/> lie in memory the heap hands out (managed pages or the boot arena)?</summary>
        public static bool Contains(void* address)
        {
            if (BootArena.Contains(address)) return true;
            if (!s_ready) return false;
            Page* d = Allocator.PfnToPage((ulong)address >> MmConstants.PageShift);
            return d != null && (d->Flags & PageFlags.Reserved) == 0;
        }

        /// <summary>The seam's counters; FreePages counts the buddy lists and the per-cpu lists.</summary>
        public static HeapStats Stats
        {
            get
            {
                HeapStats s = s_stats;
                if (s_ready)
                {
                    PageAllocator pa = Allocator;
                    s.TotalPages = pa.TotalManagedPages;
                    s.FreePages = pa.NrFreePages + pa.PcpPages;
                }
                return s;
            }
        }

        /// <summary>The buddy heap's own numbers.</summary>
        public static BuddyHeapDetails Details
        {
            get
            {
                BuddyHeapDetails d = s_details;
                d.ArenaUsed = BootArena.UsedBytes;
                d.ArenaAllocations = BootArena.Allocations;
                d.ArenaIgnoredFrees = BootArena.IgnoredFrees;
                return d;
            }
        }

        // ---------------------------------------------------------------- out of memory

        /// <summary>
        /// Out of memory is never silent: the allocator has printed its failure report
        /// ("&lt;comm&gt;: page allocation failure. order:N, mode:0x...") and show_mem (for an order
        /// above MAX_ORDER they are printed here), then the kernel panics. The heap is marked
        /// unusable first, so nothing in the report or the panic path can recurse into it; the
        /// text goes through the console sink and PanicText's static buffer, never the heap.
        /// </summary>
        private static void OutOfMemory(ref TaskContext current, ulong size, SlabResult why)
        {
            s_dead = true;
            s_ready = false;
            PageAllocator pa = AsPageAllocator(s_pa);
            SlabAllocator slab = AsSlabAllocator(s_slab);
            int ci = slab.CacheIndexFor((nuint)size);
            int order = ci >= 0 ? slab.Cache(ci).Order : SlabAllocator.LargeOrder((nuint)size);
            Gfp gfp = GfpFor(ref current);
            ITextSink o = Log;
            // NoMemory: the page allocator printed "page allocation failure" and show_mem, the slab its SLUB line.
            if (why != SlabResult.NoMemory && o != null) pa.ShowMem(o);
            PanicText.Begin();
            PanicText.Append("out of memory: the kernel heap cannot allocate ");
            PanicText.AppendDecimal(size);
            PanicText.Append(" bytes (buddy, ");
            if (why == SlabResult.TooLarge) PanicText.Append("larger than the largest block, order:");
            else PanicText.Append("order:");
            PanicText.AppendDecimal(order < 0 ? (ulong)MmConstants.MaxOrder : (ulong)order);
            PanicText.Append(", mode:");
            PanicText.AppendHex((ulong)gfp);
            PanicText.Append("); ");
            PanicText.AppendDecimal(pa.NrFreePages + pa.PcpPages);
            PanicText.Append(" of ");
            PanicText.AppendDecimal(pa.TotalManagedPages);
            PanicText.Append(" heap pages free");
            Panic.Fail(PanicText.Finish());
        }

        private static ulong PageUp(ulong a) => (a + PageSize - 1) & ~(PageSize - 1);

        private static void Zero(byte* p, ulong bytes)
        {
            ulong i = 0;
            for (; i + 8 <= bytes; i += 8) *(ulong*)(p + i) = 0;
            for (; i < bytes; i++) p[i] = 0;
        }
    }
}
