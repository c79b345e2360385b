using System.Runtime;
using Internal.Runtime;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// Interface dispatch. A call site loads its cell (`{stub, relative pointer to the interface | 3}`,
    /// the cell block ends with `{0, slot}`) into r11 and calls the stub. The assembly stub first
    /// probes a 1024-entry two-way cache keyed by (cell, object type); only a miss comes here, and
    /// the answer is put in the cache so the next call of that pair never leaves the stub.
    /// </summary>
    public static unsafe class InterfaceDispatch
    {
        public const int CacheEntries = 1024;

        /// <summary>Calls resolved by walking dispatch maps (cache misses).</summary>
        public static ulong Resolutions { get; private set; }

        /// <summary>Calls answered from the cache by the assembly fast path.</summary>
        public static ulong CacheHits => Native.DispatchHits();

        private static byte* RelPtr(byte* p) => p + *(int*)p;

        /// <summary>Resolves the target of the call through <paramref name="cell"/> on <paramref name="thisObj"/> and caches it.</summary>
        [RuntimeExport("RhpResolveInterfaceDispatch")]
        internal static void* Resolve(object thisObj, nint* cell)
        {
            Resolutions++;
            MethodTable* objMT = ObjectModel.MethodTableOf(thisObj);
            void* target = FindTarget(objMT, cell);
            // Same hash as the assembly stub: ((cell ^ mt) >> 3) & (entries - 1), 32-byte entries.
            ulong index = (((ulong)cell ^ (ulong)objMT) >> 3) & (CacheEntries - 1);
            ulong* entry = Native.DispatchCache() + index * 4;
            if (entry[0] != 0 && (entry[0] != (ulong)cell || entry[1] != (ulong)objMT))
            {
                // Two-way: the pair living here moves to the neighbour entry (index ^ 1), which the stub also probes.
                ulong* neighbour = Native.DispatchCache() + (index ^ 1) * 4;
                neighbour[0] = 0;
                neighbour[1] = entry[1];
                neighbour[2] = entry[2];
                neighbour[0] = entry[0];
            }
            entry[0] = 0;                 // invalidate first: the stub compares the cell last written
            entry[1] = (ulong)objMT;
            entry[2] = (ulong)target;
            entry[0] = (ulong)cell;
            return target;
        }

        private static void* FindTarget(MethodTable* objMT, nint* cell)
        {
            nint cache = cell[1];
            if ((cache & 3) != 3) Panic.Fail("NotSupportedException: unsupported interface dispatch cell kind");
            var itf = (MethodTable*)((byte*)&cell[1] + (int)(cache & ~(nint)3));
            nint* term = cell;
            while (term[0] != 0) term += 2;
            ushort itfSlot = (ushort)term[1];

            for (MethodTable* cur = objMT; cur != null; cur = cur->RelatedType)
            {
                if ((cur->Flags & MethodTable.HasDispatchMapFlag) == 0) continue;
                MethodTable** itfMap = MethodTable.InterfaceMap(cur);
                int itfIndex = -1;
                for (int i = 0; i < cur->NumInterfaces; i++) if (itfMap[i] == itf) { itfIndex = i; break; }
                if (itfIndex < 0) continue;

                byte* opt = MethodTable.OptionalFields(cur);
                ushort* map = (ushort*)RelPtr(opt);
                int standardCount = map[0];
                ushort* e = map + 4;
                for (int i = 0; i < standardCount; i++, e += 3)
                {
                    if (e[0] != itfIndex || e[1] != itfSlot) continue;
                    ushort impl = e[2];
                    if (impl < cur->NumVtableSlots) // a virtual slot: the object's own vtable holds any override
                        return MethodTable.VTable(objMT)[impl];
                    byte* p = opt + 4; // past the dispatch map pointer
                    if ((cur->Flags & MethodTable.HasFinalizerFlag) != 0) p += 4;
                    if ((cur->Flags & MethodTable.HasSealedVTableFlag) == 0) Panic.Fail("BadImageFormatException: sealed slot without a sealed vtable");
                    int* sealedTable = (int*)RelPtr(p);
                    int* slot = sealedTable + (impl - cur->NumVtableSlots);
                    return (byte*)slot + *slot;
                }
            }
            Panic.Fail("EntryPointNotFoundException: the object does not implement the interface method");
            return null;
        }
    }

    /// <summary>FailFast: a panic. (`throw` and `throw;` are boot/eh.asm's RhpThrowEx and RhpRethrow, see ExceptionDispatch.)</summary>
    public static class ExceptionHandling
    {
        [RuntimeExport("RhpFallbackFailFast")]
        private static void RhpFallbackFailFast() => Panic.Fail("FailFast");
    }
}
