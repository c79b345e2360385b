using System;
using System.Runtime;
using Internal.Runtime;
using Kernel.Core.Memory;

namespace Kernel.Core.Runtime
{
    /// <summary>Object references and raw addresses, without a garbage collector to object.</summary>
    public static unsafe class ObjectModel
    {
        public static object FromAddress(void* p) { object o = null; *(void**)&o = p; return o; }
        public static void* AddressOf(object o) => *(void**)&o;
        public static MethodTable* MethodTableOf(object o) => *(MethodTable**)AddressOf(o);
    }

    /// <summary>
    /// The allocation helpers ILC-generated code calls. Every `new` (objects, arrays, strings,
    /// boxes, static bases) ends in <see cref="Heap.Alloc"/>: the single seam where the kernel
    /// heap is plugged in.
    /// </summary>
    public static unsafe class Allocator
    {
        private static MethodTable* s_stringType;

        /// <summary>
        /// Told the block of every managed object `new` makes (the collector records which heap
        /// blocks are managed objects; raw Heap.Alloc blocks are never collected). Set at boot.
        /// </summary>
        public static delegate*<void*, void> ObjectAllocated;

        /// <summary>A zeroed object of type <paramref name="pMT"/>. The reference points past the 8-byte header.</summary>
        [RuntimeExport("RhpNewFast")]
        public static object RhpNewFast(MethodTable* pMT)
        {
            byte* mem = (byte*)Heap.Alloc(pMT->BaseSize);
            *(MethodTable**)(mem + 8) = pMT;
            if (ObjectAllocated != null) ObjectAllocated(mem);
            return ObjectModel.FromAddress(mem + 8);
        }

        [RuntimeExport("RhpNewFinalizable")]
        public static object RhpNewFinalizable(MethodTable* pMT) => RhpNewFast(pMT); // no finalizers in the kernel

        [RuntimeExport("RhNewObject")]
        public static object RhNewObject(MethodTable* pMT) => RhpNewFast(pMT);

        /// <summary>A zeroed array (or string) of <paramref name="length"/> elements.</summary>
        [RuntimeExport("RhpNewArrayFast")]
        public static object RhpNewArrayFast(MethodTable* pMT, nint length)
        {
            if (length < 0 || length > 0x7FFFFFC7) Panic.Fail("OverflowException: array length out of range");
            nuint size = pMT->BaseSize + (nuint)length * pMT->ComponentSize;
            size = (size + 7) & ~(nuint)7;
            byte* mem = (byte*)Heap.Alloc(size);
            *(MethodTable**)(mem + 8) = pMT;
            *(int*)(mem + 16) = (int)length;
            if (ObjectAllocated != null) ObjectAllocated(mem);
            return ObjectModel.FromAddress(mem + 8);
        }

        [RuntimeExport("RhpNewPtrArrayFast")]
        public static object RhpNewPtrArrayFast(MethodTable* pMT, nint length) => RhpNewArrayFast(pMT, length);

        [RuntimeExport("RhNewArray")]
        public static object RhNewArray(MethodTable* pMT, nint length) => RhpNewArrayFast(pMT, length);

        [RuntimeExport("RhpNewArray")]
        public static object RhpNewArray(MethodTable* pMT, nint length) => RhpNewArrayFast(pMT, length);

        [RuntimeExport("RhNewString")]
        public static object RhNewString(MethodTable* pMT, nint length) => RhpNewArrayFast(pMT, length);

        /// <summary>A string of <paramref name="length"/> NUL characters (String's type is read off a literal).</summary>
        public static string NewString(int length)
        {
            if (s_stringType == null) s_stringType = ObjectModel.MethodTableOf("");
            return (string)RhpNewArrayFast(s_stringType, length);
        }
    }
}
