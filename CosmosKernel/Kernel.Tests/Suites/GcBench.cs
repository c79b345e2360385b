using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Mm;
using Kernel.Proc;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Gc;

namespace Kernel.Tests
{
    /// <summary>One `bench gc` row: the same live set and garbage collected once on each heap.</summary>
    public struct GcBenchFigures
    {
        public ulong LiveMiB, Units;
        public ulong BuddyPause, BuddyFreed, BuddyLive;
        public ulong RatPause, RatFreed, RatLive;
        public GcCycleStats BuddyStats, RatStats;
        /// <summary>Null, or why the RAT side could not run (then its figures are 0).</summary>
        public string RatError;
    }

    /// <summary>
    /// `bench gc` (docs/gc.md, docs/performance.md): a linked list of live units (an object[2]
    /// node holding the next node and a byte[488], 552 bytes of objects) with one garbage unit
    /// made after every <see cref="GarbageEvery"/> live ones, built once on the buddy heap (by
    /// `new`, rooted from a static; the kernel's collector with all its roots) and once on a
    /// Cosmos-style RAT heap set up over contiguous buddy pages (the same objects written in place,
    /// rooted explicitly; <see cref="RatGc"/> marks from that root and the running stack and sweeps
    /// the table). One collection on each, its pause in TSC cycles and the bytes it freed.
    /// </summary>
    public static unsafe class GcBench
    {
        public const int DataBytes = 488;
        public const int GarbageEvery = 4;
        private const ulong BlockPages = 1UL << MmConstants.LargestOrder;
        private const ulong BlockBytes = BlockPages * MmConstants.PageSize;
        private const int MaxBlocks = 64;

        private static object[] s_buddyHead;
        private static object s_sink;   // garbage escapes through here (no stack allocation of it)

        /// <summary>Bytes of one live unit's objects (node + array), as the collector sizes them.</summary>
        public static ulong UnitBytes()
        {
            var n = new object[2];
            var d = new byte[DataBytes];
            return SizeOf(n) + SizeOf(d);
        }

        private static ulong SizeOf(object o)
        {
            ulong obj = (ulong)ObjectModel.AddressOf(o);
            NativeAotLayout.Describe(obj, *(ulong*)obj, out ulong size, out ulong _);
            return size;
        }

        public static GcBenchFigures Run(ulong liveMiB)
        {
            GcBenchFigures f = default;
            f.LiveMiB = liveMiB;
            f.Units = (liveMiB << 20) / UnitBytes();

            // The buddy heap, with every root the kernel has.
            GcRoots.Collect();
            BuildBuddy(f.Units);
            KernelGcFigures b = GcRoots.Collect();
            f.BuddyPause = b.LastPauseCycles;
            f.BuddyFreed = b.Last.FreedBytes;
            f.BuddyLive = b.Last.LiveBytes;
            f.BuddyStats = b.Last;
            s_buddyHead = null;
            s_sink = null;
            GcRoots.Collect();

            // A RAT heap over contiguous buddy blocks: a unit takes about 800 bytes of its pages
            // (7 arrays of 512 per small page, 84 nodes of 48), plus the table and 1 MiB of room.
            ulong need = f.Units * 5 / 4 * 800 + (1UL << 20) + f.Units / 4;
            ulong* blocks = stackalloc ulong[MaxBlocks];
            int first = TakeContiguous((need + BlockBytes - 1) / BlockBytes, blocks, out int count);
            if (first < 0) { f.RatError = "no run of contiguous 4 MiB blocks big enough for the RAT heap"; return f; }
            PageAllocator pa = BuddyHeap.Allocator;
            ulong start = (ulong)pa.PageAddress(blocks[first]), end = start + (ulong)count * BlockBytes;
            if (RatHeap.Init(start, end) != RatResult.Ok) f.RatError = "the RAT heap refused its region";
            else
            {
                string err = RatGc.Create();
                if (err != null) f.RatError = err;
                else
                {
                    ulong head = BuildRat(f.Units);
                    GcCycleStats r = RatGc.Collect(head, out ulong cycles);
                    f.RatPause = cycles;
                    f.RatFreed = r.FreedBytes;
                    f.RatLive = r.LiveBytes;
                    f.RatStats = r;
                    RatGc.Destroy();
                }
            }
            for (int i = 0; i < count; i++) pa.FreePages(blocks[first + i], MmConstants.LargestOrder, 0);
            return f;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void BuildBuddy(ulong units)
        {
            object[] head = null;
            for (ulong i = 0; i < units; i++)
            {
                var n = new object[2];
                n[0] = head;
                n[1] = new byte[DataBytes];
                head = n;
                if (i % GarbageEvery == 0)
                {
                    var g = new object[2];
                    g[1] = new byte[DataBytes];
                    s_sink = g;
                }
            }
            s_buddyHead = head;
        }

        private static ulong RatObject(ulong mt, int length, ulong size)
        {
            ulong obj = (ulong)RatHeap.Alloc((nuint)size) + MarkSweep.HeaderBytes;
            *(ulong*)obj = mt;
            *(int*)(obj + 8) = length;
            return obj;
        }

        /// <summary>The same units written in place on the RAT heap (MethodTables of real object[] and byte[]); returns the list's head.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static ulong BuildRat(ulong units)
        {
            var n0 = new object[2];
            var d0 = new byte[DataBytes];
            ulong mtNode = *(ulong*)ObjectModel.AddressOf(n0), mtData = *(ulong*)ObjectModel.AddressOf(d0);
            ulong nodeSize = SizeOf(n0), dataSize = SizeOf(d0);   // a block holds the header word and the object
            ulong head = 0;
            for (ulong i = 0; i < units; i++)
            {
                ulong n = RatObject(mtNode, 2, nodeSize);
                *(ulong*)(n + 16) = head;
                *(ulong*)(n + 24) = RatObject(mtData, DataBytes, dataSize);
                head = n;
                if (i % GarbageEvery == 0)
                {
                    ulong g = RatObject(mtNode, 2, nodeSize);
                    *(ulong*)(g + 24) = RatObject(mtData, DataBytes, dataSize);
                }
            }
            return head;
        }

        /// <summary>
        /// Takes 4 MiB buddy blocks (NORETRY | NOWARN, and leaving at least 16 MiB free: nothing is
        /// reclaimed or killed for the bench) until <paramref name="want"/> of them lie back to
        /// back; frees the others. <paramref name="pfns"/> ends sorted; the index of the run's
        /// first block, or -1.
        /// </summary>
        private static int TakeContiguous(ulong want, ulong* pfns, out int count)
        {
            count = 0;
            int n = 0;
            PageAllocator pa = BuddyHeap.Allocator;
            TaskContext t = BuddyHeap.Current;
            while (n < MaxBlocks && Heap.Stats.FreePages > BlockPages + 4096)
            {
                ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL | Gfp.NoRetry | Gfp.NoWarn, MmConstants.LargestOrder);
                if (pfn == PageAllocator.NoPfn) break;
                pfns[n++] = pfn;
            }
            for (int i = 1; i < n; i++)
            {
                ulong v = pfns[i];
                int j = i - 1;
                while (j >= 0 && pfns[j] > v) { pfns[j + 1] = pfns[j]; j--; }
                pfns[j + 1] = v;
            }
            int found = -1;
            for (int i = 0; i + (int)want <= n && found < 0; i++)
            {
                bool run = true;
                for (int k = 1; k < (int)want && run; k++) run = pfns[i + k] == pfns[i] + (ulong)k * BlockPages;
                if (run) found = i;
            }
            for (int i = 0; i < n; i++)
                if (found < 0 || i < found || i >= found + (int)want) pa.FreePages(pfns[i], MmConstants.LargestOrder, 0);
            if (found >= 0) count = (int)want;
            return found;
        }
    }
}
