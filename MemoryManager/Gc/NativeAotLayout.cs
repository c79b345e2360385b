using System.Runtime.CompilerServices;

namespace MemoryManager.Gc
{
    /// <summary>
    /// How ilc (NativeAOT, .NET 10, x64) lays out an object, as far as a collector reads it:
    /// the reference points at the MethodTable pointer, one 8-byte header word lies before it;
    /// the MethodTable starts with the 32-bit flags word (component size in its low 16 bits
    /// when HasComponentSize is set) and the 32-bit base size (header included); an array or
    /// string keeps its 32-bit length right after the MethodTable pointer; the GC descriptor
    /// lies just before the MethodTable when HasPointers is set (dotnet/runtime gcdesc.h).
    /// </summary>
    public static unsafe class NativeAotLayout
    {
        /// <summary>Flags word bits (the whole 32-bit word).</summary>
        public const uint HasComponentSizeFlag = 0x80000000, HasPointersFlag = 0x01000000;
        /// <summary>The smallest base size a collector believes: header and MethodTable pointer (strings have 22: header, MethodTable, length, terminator).</summary>
        public const uint MinBaseSize = 16;
        /// <summary>The largest object the collector believes (a sanity bound: 4 GiB).</summary>
        public const ulong MaxObjectSize = 1UL << 32;

        /// <summary>
        /// Reads the object's size and descriptor anchor from its MethodTable
        /// <paramref name="mt"/> (the caller has checked that mt is a real MethodTable).
        /// False when the figures cannot be an object's (base size below 24 or not a multiple
        /// of 8, a negative length, a size beyond <see cref="MaxObjectSize"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Describe(ulong obj, ulong mt, out ulong size, out ulong descriptor)
        {
            uint flags = *(uint*)mt;
            uint baseSize = *(uint*)(mt + 4);
            size = baseSize;
            descriptor = (flags & HasPointersFlag) != 0 ? mt : 0;
            if (baseSize < MinBaseSize) return false;
            if ((flags & HasComponentSizeFlag) != 0)
            {
                int length = *(int*)(obj + 8);
                if (length < 0) return false;
                size += (ulong)length * (flags & 0xFFFF);
                if (size > MaxObjectSize) return false;
            }
            size = (size + 7) & ~7UL;
            return true;
        }
    }
}
