using Kernel.Mm;
using MemoryManager.Core;
using MemoryManager.Reclaim;
using MemoryManager.Slab;

namespace Kernel.Proc
{
    /// <summary>
    /// The collector as a shrinker (docs/gc.md, "The shrinker link"). Count: the heap objects
    /// allocated since the last collection left its survivors (slab active objects plus large
    /// objects, now minus then): every one of them may be garbage, none of the survivors is
    /// likely to be. Scan: one whole collection (<see cref="GcRoots.Collect"/>) whatever the
    /// batch asks; it reports every heap object as scanned, the objects it freed, and the pages
    /// the slab gave back to the buddy allocator (reclaim progress). It answers SHRINK_STOP
    /// where the collector cannot run: in an interrupt, inside the collector, without __GFP_FS
    /// (as Linux's filesystem shrinkers do). A heap allocation never reaches it: the heap's
    /// allocation scope forbids the shrinkers (<see cref="BuddyHeap.HeapScope"/>).
    /// </summary>
    public sealed class GcShrinker : IShrinker
    {
        /// <summary>A collection walks the whole heap: ask for one only when this many objects may be garbage.</summary>
        public const ulong CollectBatch = 1024;

        private ulong _survivors;
        /// <summary>Collections this shrinker ran, and of those the ones kswapd asked for.</summary>
        public ulong Scans, KswapdScans;
        /// <summary>Scans refused with SHRINK_STOP.</summary>
        public ulong Stops;

        public int Seeks => Shrinkers.DefaultSeeks;
        public ulong Batch => CollectBatch;

        /// <summary>Active slab objects plus large kmalloc objects: every heap allocation, managed or raw.</summary>
        public static ulong HeapObjects()
        {
            SlabAllocator slab = BuddyHeap.Slab;
            if (slab == null) return 0;
            ulong n = slab.LargeObjects;
            for (int i = 0; i < SlabAllocator.CacheCount; i++) n += slab.Cache(i).ActiveObjects;
            return n;
        }

        public ulong CountObjects(ref ShrinkControl sc)
        {
            if (!KernelGc.IsReady) return 0;
            ulong now = HeapObjects();
            return now > _survivors ? now - _survivors : 0;
        }

        public ulong ScanObjects(ref ShrinkControl sc)
        {
            if (BuddyHeap.InInterrupt || KernelGc.IsRunning || (sc.GfpMask & Gfp.Fs) == 0) { Stops++; return Shrinkers.ShrinkStop; }
            ulong objects = HeapObjects();
            ulong freedBefore = KernelGc.Figures.FreedObjects, collections = KernelGc.Figures.Collections;
            KernelGcFigures f = GcRoots.Collect();
            if (f.Collections == collections) { Stops++; return Shrinkers.ShrinkStop; }   // the collector did not run
            Scans++;
            if (sc.IsKswapd) KswapdScans++;
            _survivors = HeapObjects();
            sc.NrScanned = objects > sc.NrToScan ? objects : sc.NrToScan;
            sc.PagesFreed += f.LastPagesFreed;
            return f.FreedObjects - freedBefore;
        }
    }
}
