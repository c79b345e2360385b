using MemoryManager.Common;
using Kernel.Core.Plugs;

namespace Kernel.Core.Memory
{
    /// <summary>The seam's counters, the same for every heap (a plug fills them from its own).</summary>
    public struct HeapStats
    {
        /// <summary>Pages the heap manages, and how many of them are free.</summary>
        public ulong TotalPages, FreePages;
        /// <summary>Object allocations (<see cref="Heap.Alloc"/>) and frees; refused frees of either entry point.</summary>
        public ulong Allocations, Frees, RejectedFrees;
        /// <summary>Page runs handed out by <see cref="Heap.AllocPages"/> and given back.</summary>
        public ulong PageAllocations, PageFrees;
        /// <summary>Bytes asked for over the heap's life, and bytes held by live objects (slot or object sizes).</summary>
        public ulong BytesRequested, BytesInUse;
    }

    /// <summary>Why <see cref="Heap.Free"/> or <see cref="Heap.FreePages"/> refused a pointer.</summary>
    public enum HeapFreeResult : byte
    {
        Ok = 0,
        NotInHeap,
        NotAnAllocation,
        AlreadyFree,
    }

    /// <summary>
    /// THE SEAM: the kernel heap's entry points, in the role of Cosmos's Heap and
    /// GCImplementation. Every `new` (Kernel.Core.Runtime.Allocator) ends in <see cref="Alloc"/>;
    /// page-level users (task stacks) call <see cref="AllocPages"/>.
    ///
    /// The bodies below are the default: the Cosmos-style RAM-allocation-table heap
    /// (<see cref="RatHeap"/>). A heap plug (a class marked [Plug(Target = typeof(Heap))] in a
    /// plug assembly) replaces these methods at build time: the patcher rewrites their IL before
    /// ilc compiles the image, so this assembly never references the plug (docs/plugs.md).
    /// Every public member here is a plug target; a plug must match their signatures exactly.
    /// </summary>
    [PlugTarget(RequireComplete = true)]
    public static unsafe class Heap
    {
        public const ulong PageSize = MmConstants.PageSize;

        /// <summary>The heap in this image: "rat" by default, a plug's own name otherwise.</summary>
        public static string Name => RatHeap.Name;

        /// <summary>True once <see cref="Init"/> succeeded.</summary>
        public static bool IsReady => RatHeap.IsReady;

        /// <summary>
        /// Sets the heap up at boot. [<paramref name="regionStart"/>, <paramref name="regionEnd"/>)
        /// is the usable RAM above the kernel image and the boot information (the RAT heap's whole
        /// region; a plug may read the full memory map instead). Null on success, else why not.
        /// </summary>
        public static string Init(ulong regionStart, ulong regionEnd)
        {
            RatResult r = RatHeap.Init(regionStart, regionEnd);
            return r == RatResult.Ok ? null : "the heap region is too small for the RAM allocation table";
        }

        /// <summary>
        /// <paramref name="size"/> zeroed bytes, 16-byte aligned from 16 bytes up (8 below: the seam's contract, checked by the heap suite). Never null: a heap that cannot
        /// serve the request prints why and panics (out of memory is never silent).
        /// </summary>
        public static void* Alloc(nuint size) => RatHeap.Alloc(size);

        /// <summary>Gives back an object from <see cref="Alloc"/>; anything else is refused, counted and nothing changes.</summary>
        public static HeapFreeResult Free(void* pointer) => RatHeap.Free(pointer);

        /// <summary><paramref name="count"/> contiguous zeroed pages, page-aligned; null when they cannot be had.</summary>
        public static void* AllocPages(ulong count) => RatHeap.AllocPages(count);

        /// <summary>Gives back pages from <see cref="AllocPages"/>; anything else is refused, counted and nothing changes.</summary>
        public static HeapFreeResult FreePages(void* pointer) => RatHeap.FreePages(pointer);

        /// <summary>Does <paramref name="address"/> lie in memory the heap hands out?</summary>
        public static bool Contains(void* address) => RatHeap.Contains(address);

        /// <summary>A snapshot of the heap's counters.</summary>
        public static HeapStats Stats => RatHeap.Stats;
    }
}
