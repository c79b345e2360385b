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

        /// <summary>
        /// True while `new` asks the heap for memory: a heap that supports it answers null when
        /// its whole slow path failed (instead of its out-of-memory panic), and `new` throws
        /// <see cref="OutOfMemoryException"/>. The heap reads and clears it on entry
        /// (<see cref="TakeMayFail"/>), so nothing the heap allocates for itself can fail softly.
        /// </summary>
        private static bool s_newMayFail;

        /// <summary>Whether `new` may throw OutOfMemoryException (set at boot once exceptions work).</summary>
        public static bool NewThrowsOutOfMemory;

        /// <summary>`new` that found no memory since boot (each threw OutOfMemoryException).</summary>
        public static ulong OutOfMemoryThrown;

        private static OutOfMemoryException s_outOfMemory;

        /// <summary>
        /// True on `new`'s first try when a collector can run (<see cref="CollectForNew"/>): the heap
        /// should fail before its OOM killer (Linux's __GFP_NORETRY), so that garbage is collected
        /// before anyone is killed. Read and cleared with <see cref="TakeMayFail"/>.
        /// </summary>
        private static bool s_newBeforeOomKill;

        /// <summary>
        /// Runs a whole collection for a `new` the heap could not serve without its OOM killer
        /// (outside the heap, in task context: the heap's own slow path may not run the collector,
        /// it would sweep the heap it allocates from). Set at boot by Kernel.Proc.GcRoots; null
        /// without a collector. Returns false when it could not collect here.
        /// </summary>
        public static delegate*<bool> CollectForNew;

        /// <summary>Collections `new` ran before giving up (each after the heap failed short of its OOM killer).</summary>
        public static ulong CollectionsForNew;

        /// <summary>Called by the heap at its entry: may this allocation fail with null? (Clears the flag.)</summary>
        public static bool TakeMayFail() => TakeMayFail(out bool _);

        /// <summary>
        /// Called by the heap at its entry: may this allocation fail with null, and should it fail
        /// before its OOM killer (<paramref name="beforeOomKill"/>: `new` will collect garbage and ask
        /// again)? Clears both flags.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public static bool TakeMayFail(out bool beforeOomKill)
        {
            // (Both flags are set together by `new` and cleared after it; s_newBeforeOomKill means
            // nothing while s_newMayFail is clear, so the common case, no `new` in flight, reads one flag.)
            if (!s_newMayFail) { beforeOomKill = false; return false; }
            beforeOomKill = s_newBeforeOomKill;
            s_newMayFail = false;
            s_newBeforeOomKill = false;
            return true;
        }

        /// <summary>Makes the exception `new` throws out of memory now, while there is memory (boot, after the heap is up).</summary>
        public static void PrepareOutOfMemory()
        {
            s_outOfMemory ??= new OutOfMemoryException();
            NewThrowsOutOfMemory = true;
        }

        /// <summary>
        /// The heap block for a managed object of <paramref name="size"/> bytes, or
        /// OutOfMemoryException. With a collector, the first try stops short of the OOM killer;
        /// if it fails, a collection runs (the collector as `new`'s shrinker) and the second try
        /// has the whole slow path. docs/exceptions.md, "OutOfMemoryException from new".
        /// </summary>
        private static byte* AllocObject(nuint size)
        {
            bool collect = NewThrowsOutOfMemory && CollectForNew != null;
            s_newMayFail = NewThrowsOutOfMemory;
            s_newBeforeOomKill = collect;
            byte* mem = (byte*)Heap.Alloc(size);
            s_newMayFail = false;
            s_newBeforeOomKill = false;
            if (mem == null && collect && CollectForNew())
            {
                CollectionsForNew++;
                s_newMayFail = true;
                mem = (byte*)Heap.Alloc(size);
                s_newMayFail = false;
            }
            if (mem == null)
            {
                OutOfMemoryThrown++;
                throw s_outOfMemory ?? new OutOfMemoryException();
            }
            return mem;
        }

        /// <summary>A zeroed object of type <paramref name="pMT"/>. The reference points past the 8-byte header.</summary>
        [RuntimeExport("RhpNewFast")]
        public static object RhpNewFast(MethodTable* pMT)
        {
            byte* mem = AllocObject(pMT->BaseSize);
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
            if (length < 0 || length > 0x7FFFFFC7) throw new OverflowException();
            nuint size = pMT->BaseSize + (nuint)length * pMT->ComponentSize;
            size = (size + 7) & ~(nuint)7;
            byte* mem = AllocObject(size);
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
