using System.Runtime.InteropServices;

namespace MemoryManager.Slab
{
    /// <summary>
    /// The slab state Linux keeps in struct page, here in the head page descriptor's Private
    /// word (8 bytes): freelist head, objects in use, owning cache, list, and a magic that
    /// tells a slab descriptor from anything else (the page-table pages use another).
    /// </summary>
    [StructLayout(LayoutKind.Explicit)]
    internal struct SlabState
    {
        /// <summary>Byte offset in the slab of the first free object, SlabAllocator.NoObject when none is free.</summary>
        [FieldOffset(0)] public ushort FreeHead;
        /// <summary>Objects allocated from this slab.</summary>
        [FieldOffset(2)] public ushort InUse;
        /// <summary>Index of the owning cache.</summary>
        [FieldOffset(4)] public byte Cache;
        /// <summary>Which list the slab is on (SlabAllocator.ListPartial, ListFull, ListEmpty).</summary>
        [FieldOffset(5)] public byte List;
        /// <summary>SlabAllocator.SlabMagic (the top 16 bits of Page.Private).</summary>
        [FieldOffset(6)] public ushort Magic;
    }
}
