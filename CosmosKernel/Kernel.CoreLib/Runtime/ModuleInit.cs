using Internal.Runtime;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// What the real runtime's InitializeModules does: allocate the reference-typed static bases
    /// and run eager class constructors and module initialisers. Call once, after the heap is up.
    /// </summary>
    public static unsafe class ModuleInit
    {
        private const int GCStaticRegion = 201, EagerCctor = 205, FrozenObjectRegion = 206, ModuleInitializerList = 213;

        /// <summary>The GC static regions met (for the collector's roots): up to this many are recorded.</summary>
        public const int MaxGcStaticRegions = 8;
        private struct RegionStore { public fixed ulong Words[MaxGcStaticRegions * 2]; }
        private static RegionStore s_regions;
        public static int GcStaticRegionCount { get; private set; }
        /// <summary>Region <paramref name="i"/>: 32-bit relative pointers to the slots that hold each static base object's address.</summary>
        public static void GcStaticRegion(int i, out ulong start, out ulong end) { start = s_regions.Words[2 * i]; end = s_regions.Words[2 * i + 1]; }

        /// <summary>The slot a GC static region entry points at (it holds the static base object's address once initialised).</summary>
        public static nint* GcStaticSlot(byte* entry) => (nint*)ReadRelPtr32(entry);

        /// <summary>The frozen object regions met (ilc's preinitialised objects in .data: string literals, frozen arrays, static lambda caches).</summary>
        public const int MaxFrozenRegions = MaxGcStaticRegions;
        private static RegionStore s_frozen;
        public static int FrozenRegionCount { get; private set; }
        /// <summary>Frozen region <paramref name="i"/>: objects one after the other, each an 8-byte header, its MethodTable pointer and its fields.</summary>
        public static void FrozenRegion(int i, out ulong start, out ulong end) { start = s_frozen.Words[2 * i]; end = s_frozen.Words[2 * i + 1]; }

        public static int ModuleCount { get; private set; }
        public static int GCStaticBases { get; private set; }

        private static byte* ReadRelPtr32(void* address) => (byte*)address + *(int*)address;

        /// <summary>Initialises every module whose header pointer lies in [start, end).</summary>
        public static void InitializeModules(nint* start, nint* end)
        {
            for (nint* m = start; m < end; m++)
            {
                if (*m == 0) continue;
                var header = (ReadyToRunHeader*)*m;
                if (header->Signature != 0x00525452) Panic.Fail("bad ReadyToRun module header signature");
                ModuleCount++;
                var rows = (ModuleInfoRow*)(header + 1);
                for (int i = 0; i < header->NumberOfSections; i++)
                {
                    if (rows[i].SectionId == GCStaticRegion) InitializeStatics(rows[i].Start, rows[i].End);
                    else if (rows[i].SectionId == FrozenObjectRegion) RecordFrozen(rows[i].Start, rows[i].End);
                }
                for (int i = 0; i < header->NumberOfSections; i++)
                {
                    if (rows[i].SectionId != EagerCctor && rows[i].SectionId != ModuleInitializerList) continue;
                    for (byte* p = (byte*)rows[i].Start; p < (byte*)rows[i].End; p += 4)
                        ((delegate*<void>)ReadRelPtr32(p))();
                }
            }
        }

        private static void RecordFrozen(nint start, nint end)
        {
            if (FrozenRegionCount >= MaxFrozenRegions) Panic.Fail("module init: more frozen object regions than the collector records");
            s_frozen.Words[2 * FrozenRegionCount] = (ulong)start;
            s_frozen.Words[2 * FrozenRegionCount + 1] = (ulong)end;
            FrozenRegionCount++;
        }

        private static void InitializeStatics(nint regionStart, nint regionEnd)
        {
            if (GcStaticRegionCount >= MaxGcStaticRegions) Panic.Fail("module init: more GC static regions than the collector records");
            s_regions.Words[2 * GcStaticRegionCount] = (ulong)regionStart;
            s_regions.Words[2 * GcStaticRegionCount + 1] = (ulong)regionEnd;
            GcStaticRegionCount++;
            for (byte* block = (byte*)regionStart; block < (byte*)regionEnd; block += 4)
            {
                nint* pBlock = (nint*)ReadRelPtr32(block);
                nint blockAddr = (nint)ReadRelPtr32(pBlock);
                if ((blockAddr & 1) != 1) continue; // already initialised
                var pMT = (MethodTable*)(blockAddr & ~(nint)3);
                object obj = Allocator.RhpNewFast(pMT);
                if ((blockAddr & 2) == 2) // preinitialised data follows
                {
                    byte* src = ReadRelPtr32((int*)pBlock + 1);
                    byte* dst = (byte*)ObjectModel.AddressOf(obj) + 8;
                    nuint n = pMT->BaseSize - 16;
                    for (nuint k = 0; k < n; k++) dst[k] = src[k];
                }
                *pBlock = (nint)ObjectModel.AddressOf(obj);
                GCStaticBases++;
            }
        }
    }
}
