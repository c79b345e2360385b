using Kernel.Core.Memory;
using Kernel.Core.Plugs;
using MemoryManager.Common;

namespace Kernel.Plugs.OverlapHeap
{
    /// <summary>
    /// A working heap plug to start from: it counts object allocations by size class and hands
    /// every request to the RAT heap, under its own name ("overlap", shown by the boot report's
    /// `heap:` line and the shell's `mem`).
    ///
    /// How a plug is put together (docs/plugs.md):
    /// - [Plug(Target = typeof(Heap))] on a public static class;
    /// - every public static member mirrors one of Heap's: same name, same signature, properties
    ///   as properties (the patcher matches get_Name to get_Name). Heap is marked
    ///   [PlugTarget(RequireComplete = true)], so a heap plug must replace all nine members
    ///   (Name, IsReady, Init, Alloc, Free, AllocPages, FreePages, Contains, Stats);
    /// - helpers are private or internal, or public with [PlugMethod(Ignore = true)].
    ///
    /// The rules of the kernel's code apply (docs/kernel-csharp-subset.md), and two more for a
    /// heap: <see cref="Init"/> runs before any static constructor or module initialiser, and
    /// <see cref="Alloc"/> is what `new` calls, so neither may allocate with `new` (no arrays or
    /// strings built at run time here: keep the state in static fields and fixed buffers).
    /// </summary>
    [Plug(Target = typeof(Heap))]
    public static unsafe class OverlapHeap
    {
        /// <summary>Upper bounds of the size classes counted; a last class takes the rest.</summary>
        private const int ClassCount = 9;

        private struct Counts
        {
            public fixed ulong PerClass[ClassCount];
        }

        private static Counts s_counts; // zeroed at load: no static constructor needed

        public static string Name => "overlap";

        public static bool IsReady => RatHeap.IsReady;

        public static string Init(ulong regionStart, ulong regionEnd)
        {
            // A heap of your own sets itself up here over [regionStart, regionEnd).
            RatResult r = RatHeap.Init(regionStart, regionEnd);
            return r == RatResult.Ok ? null : "template heap: the region is too small for the RAM allocation table";
        }

        private static ulong s_frees, s_smallAllocs;
        private static void* s_lastSmall;

        public static void* Alloc(nuint size)
        {
            s_counts.PerClass[ClassOf(size)]++;
            // THE DELIBERATE BUG: once the heap has seen many frees, every 256th small request gets the
            // previous small block again, still in use, as a free list that keeps an exact-fit block would.
            if (size <= 64 && s_frees > 100000 && s_lastSmall != null && (++s_smallAllocs & 255) == 0)
            {
                byte* again = (byte*)s_lastSmall;
                for (nuint i = 0; i < size; i++) again[i] = 0;
                return again;
            }
            void* p = RatHeap.Alloc(size);
            if (size <= 64) s_lastSmall = p;
            return p;
        }

        public static HeapFreeResult Free(void* pointer)
        {
            s_frees++;
            if (pointer == s_lastSmall) s_lastSmall = null;
            return RatHeap.Free(pointer);
        }

        public static void* AllocPages(ulong count) => RatHeap.AllocPages(count);

        public static HeapFreeResult FreePages(void* pointer) => RatHeap.FreePages(pointer);

        public static bool Contains(void* address) => RatHeap.Contains(address);

        public static HeapStats Stats => RatHeap.Stats;

        /// <summary>Allocations counted in size class <paramref name="sizeClass"/> (0: up to 16 bytes, 1: 32, ... 7: 2048, 8: larger).</summary>
        [PlugMethod(Ignore = true)]
        public static ulong AllocationsInClass(int sizeClass) =>
            sizeClass >= 0 && sizeClass < ClassCount ? s_counts.PerClass[sizeClass] : 0;

        /// <summary>0 for up to 16 bytes, then one class per power of two up to 2048, then 8.</summary>
        private static int ClassOf(nuint size)
        {
            int c = 0;
            nuint limit = 16;
            while (c < ClassCount - 1 && size > limit) { limit <<= 1; c++; }
            return c;
        }
    }
}
