using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Slab
{
    // For a conservative garbage collector (MemoryManager.Gc): the allocated object an
    // arbitrary address lies in, found as kfree finds its head page. Reads only.
    public sealed unsafe partial class SlabAllocator
    {
        /// <summary>
        /// The start of the allocated object (slab object or large kmalloc block) that
        /// <paramref name="address"/> lies inside, or null when it lies in none (outside the
        /// managed memory, a free object, a page that is neither a slab nor a large block).
        /// <paramref name="size"/> is the object's usable size (ksize). Changes nothing.
        /// </summary>
        public void* ObjectContaining(void* address, out nuint size)
        {
            size = 0;
            byte* a = (byte*)address;
            if (a < _base || a >= _end) return null;
            Page* head = FindHead(_minPfn + ((ulong)(a - _base) >> MmConstants.PageShift));
            if (head == null) return null;
            byte* start = AddressOf(head);
            if ((head->Flags & PageFlags.LargeKmalloc) != 0)
            {
                size = (nuint)(MmConstants.PageSize << head->Order);
                return start;
            }
            if (!SlabDescriptorOk(head)) return null;
            ref KmemCache c = ref _caches[StateOf(head)->Cache];
            ulong off = (ulong)(a - start);
            uint i = (uint)((off * c.Reciprocal) >> 32);
            if ((ulong)i * c.ObjectSize > off) i--;   // the reciprocal rounds up: step back when it overshoots
            if (i >= c.ObjectsPerSlab) return null;   // the slab's tail (bitmap, leftover)
            if (!TestBit(BitmapOf(ref c, head), i)) return null;
            size = (nuint)c.ObjectSize;
            return start + (ulong)i * c.ObjectSize;
        }
    }
}
