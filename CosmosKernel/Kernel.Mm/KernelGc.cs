using Internal.Runtime;
using Kernel.Core;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using Kernel.Hal;
using MemoryManager;
using MemoryManager.Gc;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Kernel.Mm
{
    /// <summary>
    /// The kernel heap as the collector (MemoryManager.Gc.MarkSweep) sees it: a managed object
    /// is a slab object or large kmalloc block whose bit is set in <see cref="KernelGc"/>'s
    /// managed map (set by `new` through Allocator.ObjectAllocated, cleared by every free);
    /// its MethodTable must lie in the kernel image. Nothing here allocates.
    /// </summary>
    public sealed unsafe class KernelGcModel : IGcObjectModel
    {
        public ulong ObjectContaining(ulong address)
        {
            byte* start = (byte*)BuddyHeap.Slab.ObjectContaining((void*)address, out nuint _);
            if (start == null) return 0;
            ulong obj = (ulong)start + 8;
            // A reference points at an object's MethodTable word or into its fields, never at its
            // header: a word equal to the block's start is the end of the object before it, or a
            // page address (a block at a page boundary begins there: the heap's start, a page
            // run's address in some table), and keeps nothing alive.
            if (address < obj) return 0;
            return KernelGc.IsManaged(obj) ? obj : 0;
        }

        public bool Describe(ulong obj, out ulong size, out ulong descriptor)
        {
            ulong mt = *(ulong*)obj;
            size = 0;
            descriptor = 0;
            if (!KernelGc.InImage(mt)) return false;
            return NativeAotLayout.Describe(obj, mt, out size, out descriptor);
        }

        public ulong NextObject(ulong after) => KernelGc.NextManaged(after);

        public ulong Free(ulong obj)
        {
            ulong before = BuddyHeap.Stats.BytesInUse;
            KernelGc.PoisonObject(obj);
            if (BuddyHeap.Free((void*)(obj - 8)) != HeapFreeResult.Ok) Panic.Fail("gc: the heap refused to free an unreachable object");
            return before - BuddyHeap.Stats.BytesInUse;
        }

        public void Corrupt(ulong obj, ulong header, ulong root, GcRootKind kind) => KernelGc.CorruptObject(obj, header, root, kind);
    }

    /// <summary>Figures of the last collection and totals, for `gc`, vmstat-style lines and GC.CollectionCount.</summary>
    public struct KernelGcFigures
    {
        public GcCycleStats Last;
        public ulong Collections, FreedObjects, FreedBytes;
        /// <summary>Pages the last collection gave back to the buddy allocator (free pages after - before).</summary>
        public ulong LastPagesFreed, PagesFreed;
        /// <summary>TSC cycles of the last collection, stop to restart; and the longest.</summary>
        public ulong LastPauseCycles, MaxPauseCycles;
        /// <summary>Managed objects before and after the last collection.</summary>
        public ulong LastObjectsBefore, LastObjectsAfter;
    }

    /// <summary>
    /// The kernel's garbage collector: the managed map (a bit per 16 bytes of buddy memory, set
    /// for the block of each managed object), the collector with its mark bits and mark stack
    /// (memory reserved at boot after the memmap), and the roots that live in Kernel.Mm's reach:
    /// the GC static regions, ilc's frozen objects, the boot arena (all precisely).
    /// Stacks are scanned by whoever knows the tasks (Kernel.Proc.GcRoots) between
    /// <see cref="Begin"/> and <see cref="Finish"/>. docs/gc.md.
    /// </summary>
    public static unsafe class KernelGc
    {
        /// <summary>Entries of the mark stack (8 bytes each).</summary>
        public const ulong MarkStackEntries = 4096;
        /// <summary>Freed objects are filled with this byte (a use after free reads 0xD5D5...).</summary>
        public const byte FreePoison = 0xD5;
        private const ulong FreePoisonWord = 0xD5D5_D5D5_D5D5_D5D5UL;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_spill_callee_saved")]
        public static extern void SpillCalleeSaved(ulong* regs);

        private static GcBitmap s_managed;
        private static void* s_collector;    // MarkSweep (a boot arena object)
        private static bool s_ready, s_running;
        private static ulong s_imageStart, s_imageEnd;
        private static KernelGcFigures s_figures;
        private static ulong s_freeBefore, s_tscBefore;
        private static ulong s_managedCount;

        public static bool IsReady => s_ready;
        /// <summary>A collection is under way (between Begin and Finish).</summary>
        public static bool IsRunning => s_running;
        public static KernelGcFigures Figures => s_figures;
        public static MarkSweep Collector => (MarkSweep)ObjectModel.FromAddress(s_collector);

        /// <summary>Bytes the collector needs for a heap spanning <paramref name="spanBytes"/>: managed map, mark bits, mark stack.</summary>
        public static ulong ReservedBytes(ulong spanBytes)
            => GcBitmap.BytesFor(spanBytes, MarkSweep.DefaultGranuleShift) + MarkSweep.MarkBitsBytes(spanBytes) + MarkStackEntries * 8;

        /// <summary>
        /// Sets the collector up over [<paramref name="heapStart"/>, <paramref name="heapEnd"/>)
        /// with <paramref name="bytes"/> of reserved memory at <paramref name="memory"/>. Runs while
        /// the boot arena is open (the model and collector objects are permanent). Null on success.
        /// </summary>
        public static string Init(ulong heapStart, ulong heapEnd, byte* memory, ulong bytes)
        {
            ulong span = heapEnd - heapStart;
            ulong managedBytes = GcBitmap.BytesFor(span, MarkSweep.DefaultGranuleShift);
            ulong markBytes = MarkSweep.MarkBitsBytes(span);
            if (bytes < ReservedBytes(span)) return "the collector's reserved memory is too small";
            if (!GcBitmap.Create(heapStart, heapEnd, MarkSweep.DefaultGranuleShift, (ulong*)memory, managedBytes, out s_managed))
                return "the managed map cannot cover the heap";
            GcResult r = MarkSweep.Create(new KernelGcModel(), heapStart, heapEnd, (ulong*)(memory + managedBytes), markBytes,
                (ulong*)(memory + managedBytes + markBytes), MarkStackEntries, out MarkSweep ms);
            if (r != GcResult.Ok) return "the collector refused its memory";
            s_collector = ObjectModel.AddressOf(ms);
            s_imageStart = BootInfo.KernelStart;
            s_imageEnd = BootInfo.KernelEnd;
            Allocator.ObjectAllocated = &ObjectAllocated;
            s_ready = true;
            return null;
        }

        /// <summary>`new` made an object in <paramref name="block"/>: record it as managed (boot arena objects are not the heap's).</summary>
        private static void ObjectAllocated(void* block)
        {
            if (BootArena.Contains(block)) return;
            if (!s_managed.TestAndSet((ulong)block + 8)) s_managedCount++;
        }

        /// <summary>A block is freed (by the sweep or by hand): it is no managed object any more.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Forget(void* block)
        {
            if (s_ready && s_managed.TestAndClear((ulong)block + 8)) s_managedCount--;
        }

        public static bool IsManaged(ulong obj) => s_managed.Test(obj);
        /// <summary>Managed objects now: a count kept as bits are set and cleared (no walk of the map; <see cref="CountManaged"/> walks it).</summary>
        public static ulong ManagedObjects => s_ready ? s_managedCount : 0;
        /// <summary>Managed objects counted bit by bit over the whole map (the check on <see cref="ManagedObjects"/>).</summary>
        public static ulong CountManaged() => s_ready ? s_managed.Count() : 0;

        public static ulong NextManaged(ulong after)
        {
            ulong g = s_managed.NextSet(after == 0 ? 0 : (after | 15) + 1);
            return g == 0 ? 0 : g + 8;
        }

        public static bool InImage(ulong mt) => mt >= s_imageStart && mt + 8 <= s_imageEnd && (mt & 7) == 0;

        /// <summary>Fills a dead object's block (header to the end of its object size) with <see cref="FreePoison"/>.</summary>
        public static void PoisonObject(ulong obj)
        {
            ulong size = 0;
            if (InImage(*(ulong*)obj)) NativeAotLayout.Describe(obj, *(ulong*)obj, out size, out ulong _);
            if (size < 16) size = 16;
            // Word by word (an object's size is a multiple of 8, its block 8-aligned): a byte loop
            // cost the pause about as much as the marking did (docs/gc.md, figures).
            ulong* p = (ulong*)(obj - 8);
            for (ulong i = 0; i < size / 8; i++) p[i] = FreePoisonWord;
        }

        /// <summary>
        /// Stops the world (interrupts off) and starts a collection with the roots Kernel.Mm
        /// knows: GC static regions, frozen objects, the boot arena (<see cref="ScanKernelRoots"/>).
        /// The caller adds the stacks, then calls <see cref="Finish"/>.
        /// </summary>
        public static bool Begin()
        {
            if (!s_ready || s_running) return false;
            s_running = true;
            Interrupts.Disable();
            s_figures.LastObjectsBefore = ManagedObjects;
            s_freeBefore = BuddyHeap.Stats.FreePages;
            s_tscBefore = Native.ReadTimeStampCounter();
            MarkSweep gc = Collector;
            gc.Begin();
            ScanKernelRoots(gc);
            return true;
        }

        /// <summary>
        /// Marks, in <paramref name="gc"/>, from the roots Kernel.Mm knows, all of them precisely:
        /// the GC static regions (each slot holds a static base object), ilc's frozen objects in
        /// .data (their reference fields, through their descriptors) and the boot arena's objects.
        /// The rest of data and bss (plain statics, the page tables, assembly's variables) is not
        /// read: it holds numbers, and a number that happens to be a heap address (a counter of
        /// bytes, a region's length) pinned whatever object lay there (docs/gc.md). A plain static
        /// therefore keeps nothing alive (docs/kernel-csharp-subset.md). Also used by the RAT
        /// heap's collector (<see cref="RatGc"/>), so both scan the same roots.
        /// </summary>
        public static void ScanKernelRoots(MarkSweep gc)
        {
            for (int i = 0; i < ModuleInit.GcStaticRegionCount; i++)
            {
                ModuleInit.GcStaticRegion(i, out ulong start, out ulong end);
                for (ulong e = start; e < end; e += 4)
                {
                    nint* slot = ModuleInit.GcStaticSlot((byte*)e);
                    gc.MarkRoot((ulong)*slot, (ulong)slot, GcRootKind.Static);
                }
            }
            for (int i = 0; i < ModuleInit.FrozenRegionCount; i++)
            {
                ModuleInit.FrozenRegion(i, out ulong start, out ulong end);
                ScanObjects(gc, start, end, 8, GcRootKind.Data);
            }
            // The heap's and the collector's own objects, kept as raw addresses in plain statics.
            BuddyHeap.RawObjectRoots(out ulong pa, out ulong log, out ulong slab, out ulong arenaRoots);
            gc.MarkRoot(pa, 0, GcRootKind.Explicit);
            gc.MarkRoot(log, 0, GcRootKind.Explicit);
            gc.MarkRoot(slab, 0, GcRootKind.Explicit);
            gc.MarkRoot(arenaRoots, 0, GcRootKind.Explicit);
            gc.MarkRoot((ulong)s_collector, 0, GcRootKind.Explicit);
            BuddyHeapDetails d = BuddyHeap.Details;
            ScanObjects(gc, d.ArenaStart, d.ArenaStart + d.ArenaUsed, 16, GcRootKind.BootArena);
        }

        /// <summary>
        /// Objects laid one after the other in [<paramref name="start"/>, <paramref name="end"/>),
        /// each block <paramref name="align"/>-aligned and starting with the 8-byte header, marked
        /// precisely: each object's reference fields through its GC descriptor. Two such areas:
        /// the boot arena (16-byte blocks, objects made before the buddy heap existed: integers in
        /// them, such as a slab cache's reciprocal 2^32 / 192 = 0x1555556, no longer read as heap
        /// addresses) and ilc's frozen object region (string literals, whose UTF-16 text read as
        /// words such as 0x0065_0064 is an address inside the heap; frozen arrays; the static
        /// lambda caches). A block that is no object (a raw arena allocation) ends the walk: the
        /// rest is scanned conservatively.
        /// </summary>
        private static void ScanObjects(MarkSweep gc, ulong start, ulong end, ulong align, GcRootKind kind)
        {
            ulong p = start;
            while (p < end)
            {
                ulong obj = NextObject(ref p, end, align);
                if (obj == 0) break;
                gc.ScanRootObject(obj, kind);
            }
            if (p < end) gc.ScanRange(p, end, kind);
        }

        /// <summary>
        /// The object whose block starts at or after <paramref name="p"/> (aligned up to
        /// <paramref name="align"/>), <paramref name="p"/> moved past it; 0 when no object starts
        /// there (<paramref name="p"/> then at that block, or at <paramref name="end"/> when too
        /// little is left for one).
        /// </summary>
        private static ulong NextObject(ref ulong p, ulong end, ulong align)
        {
            ulong block = (p + align - 1) & ~(align - 1);
            if (block + 16 > end) { p = end; return 0; }
            ulong obj = block + 8;
            ulong mt = *(ulong*)obj;
            p = block;
            if (!InImage(mt) || !NativeAotLayout.Describe(obj, mt, out ulong size, out ulong _) || size < 16 || block + size > end) return 0;
            p = block + size;
            return obj;
        }

        /// <summary>
        /// Walks ilc's frozen object regions as the collector does: how many objects, how many of
        /// them have reference fields (ilc preinitialises none: its preinitialiser refuses them),
        /// and whether every region was read object by object to its end (false: the collector
        /// scans a region's rest conservatively). For the gc suite.
        /// </summary>
        public static bool WalkFrozen(out ulong objects, out ulong withReferences)
        {
            objects = withReferences = 0;
            bool whole = true;
            for (int i = 0; i < ModuleInit.FrozenRegionCount; i++)
            {
                ModuleInit.FrozenRegion(i, out ulong p, out ulong end);
                while (p < end)
                {
                    ulong obj = NextObject(ref p, end, 8);
                    if (obj == 0) break;
                    objects++;
                    if (NativeAotLayout.Describe(obj, *(ulong*)obj, out ulong _, out ulong descriptor) && descriptor != 0) withReferences++;
                }
                if (p < end) whole = false;
            }
            return whole;
        }

        /// <summary>Scans a stack range conservatively.</summary>
        public static void ScanStack(ulong from, ulong to) => Collector.ScanRange(from, to, GcRootKind.Stack);

        /// <summary>Completes marking, sweeps, gives empty slabs back, restarts the world; the figures of this collection.</summary>
        public static KernelGcFigures Finish()
        {
            MarkSweep gc = Collector;
            GcCycleStats s = gc.Finish();
            BuddyHeap.Slab.Shrink();   // every empty slab back to the buddy allocator
            ulong tsc = Native.ReadTimeStampCounter() - s_tscBefore;
            ulong freeAfter = BuddyHeap.Stats.FreePages;
            s_figures.Last = s;
            s_figures.Collections++;
            s_figures.FreedObjects += s.FreedObjects;
            s_figures.FreedBytes += s.FreedBytes;
            s_figures.LastPagesFreed = freeAfter > s_freeBefore ? freeAfter - s_freeBefore : 0;
            s_figures.PagesFreed += s_figures.LastPagesFreed;
            s_figures.LastPauseCycles = tsc;
            if (tsc > s_figures.MaxPauseCycles) s_figures.MaxPauseCycles = tsc;
            s_figures.LastObjectsAfter = ManagedObjects;
            s_running = false;
            Interrupts.Enable();
            return s_figures;
        }

        /// <summary>The marker met an unreadable header: panic with the object, its MethodTable word and the root.</summary>
        public static void CorruptObject(ulong obj, ulong header, ulong root, GcRootKind kind)
        {
            PanicText.Begin();
            PanicText.Append("gc: corrupt object header at ");
            PanicText.AppendHex(obj);
            PanicText.Append(": MethodTable ");
            PanicText.AppendHex(header);
            PanicText.Append(" is not in the kernel image (or its descriptor runs past the object); reached from root ");
            PanicText.AppendHex(root);
            PanicText.Append(" (");
            PanicText.Append(RootName(kind));
            PanicText.Append(')');
            Panic.Fail(PanicText.Finish());
        }

        public static string RootName(GcRootKind k) => k switch
        {
            GcRootKind.Stack => "stack",
            GcRootKind.Static => "GC static",
            GcRootKind.Data => "frozen object in .data",
            GcRootKind.BootArena => "boot arena",
            GcRootKind.Explicit => "explicit",
            GcRootKind.Rescan => "overflow rescan",
            _ => "none",
        };
    }
}
