using Kernel.Core.Memory;
using Kernel.Core.Plugs;
using MemoryManager.Common;

namespace Kernel.Plugs.CrashHeap
{
    /// <summary>
    /// A working heap plug to start from: it counts object allocations by size class and hands
    /// every request to the RAT heap, under its own name ("crash", shown by the boot report's
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
    public static unsafe class CrashHeap
    {
        /// <summary>Upper bounds of the size classes counted; a last class takes the rest.</summary>
        private const int ClassCount = 9;

        private struct Counts
        {
            public fixed ulong PerClass[ClassCount];
        }

        private static Counts s_counts; // zeroed at load: no static constructor needed

        public static string Name => "crash";

        public static bool IsReady => RatHeap.IsReady;

        public static string Init(ulong regionStart, ulong regionEnd)
        {
            // A heap of your own sets itself up here over [regionStart, regionEnd).
            RatResult r = RatHeap.Init(regionStart, regionEnd);
            return r == RatResult.Ok ? null : "template heap: the region is too small for the RAM allocation table";
        }

        public static void* Alloc(nuint size)
        {
            s_counts.PerClass[ClassOf(size)]++;
            return RatHeap.Alloc(size);
        }

        public static HeapFreeResult Free(void* pointer) => RatHeap.Free(pointer);

        public static void* AllocPages(ulong count)
        {
            // THE DELIBERATE BUG: a run of three pages writes through a wild pointer (a #PF panic).
            if (count == 3) *(ulong*)0x5EAD00000000UL = count;
            return RatHeap.AllocPages(count);
        }

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
