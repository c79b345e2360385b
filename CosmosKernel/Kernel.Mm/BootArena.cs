using Kernel.Core.Runtime;

namespace Kernel.Mm
{
    /// <summary>
    /// The boot arena, after Linux's memblock: a bump region of physical pages taken from the
    /// memory map before the buddy allocator exists. While the buddy heap is being built every
    /// `new` (the MemoryMap, the PageAllocator object, its zone and zonelist arrays, the log sink)
    /// lands here; once the buddy is up the arena is closed and its objects are permanent:
    /// a free of one is ignored and counted (<see cref="IgnoredFrees"/>), never handed to the buddy.
    /// The arena's pages are reserved in the memory map, so the buddy never hands them out.
    /// Plain (non-reference) statics only: this runs before the managed statics exist.
    /// </summary>
    public static unsafe class BootArena
    {
        private static ulong s_start, s_end, s_next;
        private static bool s_open;

        public static ulong Start => s_start;
        public static ulong End => s_end;
        /// <summary>Bytes handed out (including alignment padding).</summary>
        public static ulong UsedBytes => s_next - s_start;
        public static ulong Allocations { get; private set; }
        public static ulong IgnoredFrees { get; private set; }
        /// <summary>True between <see cref="Open"/> and <see cref="Close"/>: allocations are served.</summary>
        public static bool IsOpen => s_open;

        /// <summary>Takes [start, start + bytes) as the arena (the caller reserves it in the memory map).</summary>
        public static void Open(ulong start, ulong bytes)
        {
            s_start = start; s_end = start + bytes; s_next = start;
            s_open = true;
        }

        /// <summary>No more allocations: what was handed out stays, permanently.</summary>
        public static void Close() => s_open = false;

        /// <summary><paramref name="size"/> zeroed bytes, 16-byte aligned; an exhausted arena is a panic.</summary>
        public static void* Alloc(ulong size)
        {
            if (!s_open) Panic.Fail("boot arena: allocation after the arena was closed");
            ulong p = (s_next + 15) & ~15UL;
            if (size > s_end - p || p > s_end) Panic.Fail("out of memory: the boot arena is exhausted while the buddy heap is being built");
            s_next = p + size;
            byte* b = (byte*)p;
            for (ulong i = 0; i < size; i++) b[i] = 0;
            Allocations++;
            return b;
        }

        /// <summary>Does p lie in the arena? One unsigned test: before Open both ends are 0, so nothing does.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static bool Contains(void* p) => (ulong)p - s_start < s_end - s_start;

        /// <summary>A free of an early object: ignored (the object is permanent), counted.</summary>
        public static void IgnoreFree() => IgnoredFrees++;
    }
}
