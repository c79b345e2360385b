using Kernel.Core.Memory;
using Kernel.Core.Plugs;
using Kernel.Mm;

namespace Kernel.Plugs.BuddyHeap
{
    /// <summary>
    /// The heap plug that makes the buddy allocator THE kernel heap: each member of the seam
    /// (<see cref="Heap"/>) forwards to <see cref="Kernel.Mm.BuddyHeap"/>, which holds the whole
    /// implementation (so the in-kernel suites can reach it in any image). Nothing here allocates.
    /// </summary>
    [Plug(Target = typeof(Heap))]
    public static unsafe class BuddyHeapPlug
    {
        public static string Name => Mm.BuddyHeap.Name;
        public static bool IsReady => Mm.BuddyHeap.IsReady;
        public static string Init(ulong regionStart, ulong regionEnd) => Mm.BuddyHeap.Init(regionStart, regionEnd);
        public static void* Alloc(nuint size) => Mm.BuddyHeap.Alloc(size);
        public static HeapFreeResult Free(void* pointer) => Mm.BuddyHeap.Free(pointer);
        public static void* AllocPages(ulong count) => Mm.BuddyHeap.AllocPages(count);
        public static HeapFreeResult FreePages(void* pointer) => Mm.BuddyHeap.FreePages(pointer);
        public static bool Contains(void* address) => Mm.BuddyHeap.Contains(address);
        public static HeapStats Stats => Mm.BuddyHeap.Stats;
    }
}
