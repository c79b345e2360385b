using System;
using System.Runtime.InteropServices;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// The memory every benchmark models: one range of <c>sizeMiB</c> starting at 4 GiB, so all
    /// of it is a single ZONE_NORMAL ("a 1 GiB zone") and the RAT manages exactly as many pages.
    /// Descriptors only: no real memory is behind the pages (64 GiB is 512 MiB of descriptors).
    /// </summary>
    public static unsafe class Machine
    {
        public const ulong ZoneBase = 4UL << 30;
        public const int Pid = 1;
        /// <summary>
        /// The sizes every benchmark runs at, in MiB: 256 MiB, 1 GiB, 16 GiB, 64 GiB, or the
        /// comma-separated list in the environment variable MM_BENCH_SIZES (e.g. "256,16384"),
        /// to run fewer sizes or keep to what a smaller machine holds.
        /// </summary>
        public static readonly int[] SizesMiB = SizesFromEnvironment() ?? new[] { 256, 1024, 16384, 65536 };

        private static int[] SizesFromEnvironment()
        {
            string s = Environment.GetEnvironmentVariable("MM_BENCH_SIZES");
            if (string.IsNullOrWhiteSpace(s)) return null;
            string[] parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var sizes = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!int.TryParse(parts[i], out sizes[i]) || sizes[i] < 64)
                    throw new ArgumentException("MM_BENCH_SIZES: '" + parts[i] + "' is not a size in MiB of at least 64");
            return sizes;
        }

        public static ulong Pages(int sizeMiB) => ((ulong)sizeMiB << 20) >> MmConstants.PageShift;

        public static MemoryMap Map(int sizeMiB)
        {
            var map = new MemoryMap();
            Check(map.Add(ZoneBase, (ulong)sizeMiB << 20), "MemoryMap.Add");
            return map;
        }

        public static TaskContext Task() => new TaskContext(Pid, "bench", TaskFlags.None);

        /// <summary>Native memory for descriptors or a RAT table (never the managed heap).</summary>
        public static byte* Native(ulong bytes)
        {
            return (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        }

        private const ulong HugePage = 2UL << 20;
        private const int MadvHugepage = 14;

        [DllImport("libc", EntryPoint = "madvise")]
        private static extern int Madvise(void* address, nuint length, int advice);

        /// <summary>
        /// Native memory the host is asked to back with 2 MiB pages (madvise MADV_HUGEPAGE, for
        /// transparent huge pages in "madvise" or "always" mode), the way the kernel maps its
        /// memmap (Kernel.Hal.Paging: all RAM in 2 MiB pages) and Linux its vmemmap. Where the
        /// host refuses, the memory is ordinary pages. Free it with Release.
        /// </summary>
        public static byte* NativeHuge(ulong bytes)
        {
            ulong size = (bytes + HugePage - 1) & ~(HugePage - 1);
            byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)size, (nuint)HugePage);
            if (OperatingSystem.IsLinux()) Madvise(p, (nuint)size, MadvHugepage);
            return p;
        }

        /// <summary>The process's AnonHugePages line from /proc/self/smaps_rollup (Linux), for the benchmark log.</summary>
        public static string AnonHugePages()
        {
            try
            {
                foreach (string line in System.IO.File.ReadAllLines("/proc/self/smaps_rollup"))
                    if (line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) return line;
            }
            catch (System.IO.IOException) { }
            catch (UnauthorizedAccessException) { }
            return "AnonHugePages: unknown";
        }

        public static void Release(ref byte* p)
        {
            if (p != null) NativeMemory.AlignedFree(p);
            p = null;
        }

        public static void Check(MmResult r, string what)
        {
            if (r != MmResult.Ok) throw new InvalidOperationException(what + " failed: " + r);
        }
    }

    /// <summary>xorshift64*: a seeded, allocation-free random source, so every run replays the same script.</summary>
    public struct Rng
    {
        private ulong _s;
        public Rng(ulong seed) { _s = seed == 0 ? 0x9E3779B97F4A7C15UL : seed; }

        public ulong Next()
        {
            _s ^= _s >> 12; _s ^= _s << 25; _s ^= _s >> 27;
            return _s * 0x2545F4914F6CDD1DUL;
        }

        /// <summary>Uniform in [0, n).</summary>
        public int Below(int n) => (int)((Next() >> 33) % (ulong)n);

        /// <summary>The order mix of the workload, by block count: order 0 75 %, 1 10 %, 2 10 %, 3 5 %.</summary>
        public int Order()
        {
            int r = Below(100);
            return r < 75 ? 0 : r < 85 ? 1 : r < 95 ? 2 : 3;
        }
    }

    /// <summary>
    /// The blocks a workload holds (start and order), kept in plain arrays: the churn picks one
    /// at random, frees it and allocates a new block of the same order in its slot, so the
    /// number of pages in use never changes.
    /// </summary>
    public sealed class LiveBlocks
    {
        public ulong[] Start;
        public byte[] Order;
        public int Count;
        public ulong Pages;

        public LiveBlocks(int capacity) { Start = new ulong[capacity]; Order = new byte[capacity]; }

        public void Add(ulong start, int order)
        {
            Start[Count] = start; Order[Count] = (byte)order; Count++;
            Pages += 1UL << order;
        }
    }

    /// <summary>
    /// The "half-used and fragmented" state, built by one seeded script for both allocators:
    ///   1. fill: allocate blocks of the order mix until 96 % of the pages are in use;
    ///   2. fragment: free each block on a coin toss, leaving about 48 % in use, scattered.
    /// The buddy does both steps through AllocPages/FreePages: its free lists end up holding
    /// small blocks all over the zone. See BuildRat for the baseline.
    /// </summary>
    public static unsafe class HalfUsedZone
    {
        public const ulong Seed = 0x5EED_0001;
        public const int FillPercent = 96;

        /// <summary>The order of every block of the fill and whether the fragment step frees it.</summary>
        private static (byte[] order, bool[] keep, int n) Script(ulong pages)
        {
            var rng = new Rng(Seed);
            ulong target = pages * FillPercent / 100;
            int cap = (int)(target + 1);
            var order = new byte[cap];
            int n = 0;
            ulong used = 0;
            while (true)
            {
                int o = rng.Order();
                if (used + (1UL << o) > target) break;
                order[n++] = (byte)o;
                used += 1UL << o;
            }
            var keep = new bool[n];
            for (int i = 0; i < n; i++) keep[i] = (rng.Next() & 1) == 0;
            Array.Resize(ref order, n);
            return (order, keep, n);
        }

        /// <summary>A buddy allocator over sizeMiB (memmap in native memory the caller frees), in the half-used, fragmented state.</summary>
        public static PageAllocator BuildBuddy(int sizeMiB, bool pcp, out byte* memmap, out LiveBlocks live, bool hugeMemmap = false)
        {
            PageAllocator pa = Fresh(sizeMiB, pcp, out memmap, hugeMemmap);
            var (order, keep, n) = Script(Machine.Pages(sizeMiB));
            var all = new ulong[n];
            TaskContext task = Machine.Task();
            for (int i = 0; i < n; i++)
            {
                all[i] = pa.AllocPages(ref task, Gfp.GFP_ATOMIC | Gfp.NoWarn, order[i]);
                if (all[i] == PageAllocator.NoPfn) throw new InvalidOperationException("fill failed at block " + i);
            }
            live = new LiveBlocks(n);
            for (int i = 0; i < n; i++)
            {
                if (keep[i]) live.Add(all[i], order[i]);
                else Machine.Check(pa.FreePages(all[i], order[i], Machine.Pid), "FreePages");
            }
            return pa;
        }

        /// <summary>A fresh buddy allocator over sizeMiB, everything free; its memmap on 2 MiB pages when <paramref name="hugeMemmap"/> (Machine.NativeHuge).</summary>
        public static PageAllocator Fresh(int sizeMiB, bool pcp, out byte* memmap, bool hugeMemmap = false)
        {
            MemoryMap map = Machine.Map(sizeMiB);
            ulong bytes = PageAllocator.MemmapBytes(map);
            memmap = hugeMemmap ? Machine.NativeHuge(bytes) : Machine.Native(bytes);
            var o = new AllocatorOptions { PerCpuLists = pcp, WatermarkScaleFactor = 10 };
            Machine.Check(PageAllocator.Create(map, (Page*)memmap, null, o, out PageAllocator pa), "PageAllocator.Create");
            return pa;
        }

        /// <summary>
        /// The RAT in the same workload's state. Step 1 writes the table exactly as successive
        /// AllocPages calls on an empty table place the blocks (singles one after another from
        /// the bottom, runs one below another from the top: on an empty table there is nothing
        /// else they could find), because making those calls is quadratic in the table size.
        /// Step 2 frees through RatAllocationTable.Free. Then
        ///   3. settle: the churn makes every RAT allocation take the lowest hole (singles) or the
        ///      highest fitting hole (runs), so whatever holes step 2 left are filled first and the
        ///      churn converges to live singles packed at the bottom and live runs packed at the
        ///      top, with the free half in between; from there a replaced block goes back where
        ///      it was. The set-up writes that steady state directly (reaching it by churning
        ///      would take hours at 64 GiB) and the RAT is measured in it.
        /// </summary>
        public static RamAllocationTable BuildRat(int sizeMiB, out byte* table, out LiveBlocks live)
        {
            ulong pages = Machine.Pages(sizeMiB);
            table = Machine.Native(RamAllocationTable.TableBytes(pages));
            if (RamAllocationTable.Init(table, pages, false, out RamAllocationTable rat) != RatResult.Ok)
                throw new InvalidOperationException("RAT init failed");
            var (order, keep, n) = Script(pages);

            // 1. fill, as AllocPages would place it.
            var all = new ulong[n];
            ulong bottom = 0, top = pages;
            for (int i = 0; i < n; i++)
            {
                ulong count = 1UL << order[i];
                ulong start;
                if (count == 1) start = bottom++;
                else { top -= count; start = top; }
                Mark(table, start, count);
                all[i] = start;
            }
            rat.RecountFreePages();

            // 2. fragment, through the RAT's own Free.
            live = new LiveBlocks(n);
            for (int i = 0; i < n; i++)
            {
                if (keep[i]) { live.Add(all[i], order[i]); continue; }
                if (rat.Free(all[i], out ulong freed) != RatResult.Ok || freed != 1UL << order[i])
                    throw new InvalidOperationException("RAT free failed at block " + i);
            }

            // 3. settle into the churn's steady state.
            for (ulong i = 0; i < pages; i++) table[i] = (byte)RatPageType.Empty;
            bottom = 0; top = pages;
            for (int j = 0; j < live.Count; j++)
            {
                ulong count = 1UL << live.Order[j];
                if (count == 1) live.Start[j] = bottom++;
                else { top -= count; live.Start[j] = top; }
                Mark(table, live.Start[j], count);
            }
            if (rat.FreePages != pages - live.Pages) throw new InvalidOperationException("RAT free count does not add up");
            return rat;
        }

        private static void Mark(byte* table, ulong start, ulong count)
        {
            table[start] = (byte)RatPageType.HeapSmall;
            for (ulong k = 1; k < count; k++) table[start + k] = (byte)RatPageType.Extension;
        }

    }
}
