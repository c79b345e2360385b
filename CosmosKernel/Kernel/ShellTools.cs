using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Tests;
using Kernel.Proc;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;

namespace Kernel
{
    // The shell's memory tools: mem, alloc/free (a small table of what the shell allocated, so
    // `free` knows the order), bench (buddy vs RAT page allocation in this boot).
    public static unsafe partial class Shell
    {
        public const int MaxShellBlocks = 32;
        private struct BlockTable { public fixed ulong Pfn[MaxShellBlocks]; public fixed int Order[MaxShellBlocks]; public fixed byte Used[MaxShellBlocks]; }
        private static BlockTable s_blocks;

        /// <summary>"current" for the shell's allocations: init (pid 1) when processes exist, else the kernel.</summary>
        private static TaskContext ShellContext()
        {
            Vm vm = Processes.Vm;
            if (vm != null && vm.Procs.Exists(ProcessTable.InitPid)) return vm.Procs.ContextOf(ProcessTable.InitPid);
            return BuddyHeap.Current;
        }

        /// <summary>The gfp a name or a 0x mask means; false (with <paramref name="tooWide"/> for a mask beyond 32 bits) when none.</summary>
        private static bool GfpByName(int tok, out Gfp gfp, out bool tooWide)
        {
            gfp = Gfp.GFP_KERNEL;
            tooWide = false;
            if (tok >= s_tokens || Is(tok, "kernel") || Is(tok, "GFP_KERNEL")) return true;
            if (Is(tok, "atomic") || Is(tok, "GFP_ATOMIC")) { gfp = Gfp.GFP_ATOMIC; return true; }
            if (Is(tok, "nowait") || Is(tok, "GFP_NOWAIT")) { gfp = Gfp.GFP_NOWAIT; return true; }
            if (Is(tok, "dma") || Is(tok, "GFP_DMA")) { gfp = Gfp.GFP_KERNEL | Gfp.Dma; return true; }
            if (Is(tok, "dma32") || Is(tok, "GFP_DMA32")) { gfp = Gfp.GFP_KERNEL | Gfp.Dma32; return true; }
            if (Is(tok, "highuser") || Is(tok, "GFP_HIGHUSER_MOVABLE")) { gfp = Gfp.GFP_HIGHUSER_MOVABLE; return true; }
            if (Len(tok) > 2 && Ch(tok, 0) == '0' && Ch(tok, 1) == 'x')
            {
                NumberResult r = Number(tok, 0, 0xFFFFFFFFL, out long v);
                if (r == NumberResult.Ok) { gfp = (Gfp)(uint)v; return true; }
                tooWide = r == NumberResult.OutOfRange;
            }
            return false;
        }

        private static void Alloc()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (s_tokens < 2 || s_tokens > 3) { Console.WriteLine("usage: alloc <order 0..10> [kernel|atomic|nowait|dma|dma32|highuser|0x<gfp>]"); return; }
            if (Number(1, 0, MmConstants.LargestOrder, out long order) != NumberResult.Ok)
            {
                Console.Write("alloc: order must be 0.."); Console.WriteDecimal((ulong)MmConstants.LargestOrder); Console.Write(", not '"); WriteToken(1); Console.WriteLine("'");
                return;
            }
            if (!GfpByName(2, out Gfp gfp, out bool tooWide))
            {
                if (tooWide) { Console.Write("alloc: gfp mask '"); WriteToken(2); Console.WriteLine("' is wider than 32 bits"); return; }
                Console.Write("alloc: unknown gfp '"); WriteToken(2); Console.WriteLine("' (kernel atomic nowait dma dma32 highuser or 0x<mask>)");
                return;
            }
            int slot = -1;
            for (int i = 0; i < MaxShellBlocks && slot < 0; i++) if (s_blocks.Used[i] == 0) slot = i;
            if (slot < 0) { Console.WriteLine("alloc: the shell's table of 32 blocks is full: free one first"); return; }
            TaskContext ctx = ShellContext();
            ulong pfn = pa.AllocPages(ref ctx, gfp, (int)order);
            if (pfn == PageAllocator.NoPfn) { Console.WriteLine("alloc: failed (the allocator's report is above)"); return; }
            s_blocks.Pfn[slot] = pfn;
            s_blocks.Order[slot] = (int)order;
            s_blocks.Used[slot] = 1;
            Page* d = pa.PfnToPage(pfn);
            Console.Write("pfn "); Console.WriteHex(pfn, 1); Console.Write(" order "); Console.WriteDecimal((ulong)order);
            Console.Write(" ("); Console.WriteDecimal(1UL << (int)order); Console.Write(" pages) zone "); Console.Write(Zone.ZoneName((ZoneType)d->Zone));
            Console.Write(", owner pid "); Console.WriteDecimal((ulong)ctx.Pid); Console.Write(", mode:"); Console.WriteHex((ulong)gfp, 1);
            Console.WriteLine();
        }

        private static void Free()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (s_tokens != 2 || Number(1, 0, long.MaxValue, out long v) != NumberResult.Ok)
            {
                Console.WriteLine("usage: free <pfn> (decimal or 0x hex, as alloc printed it)");
                return;
            }
            ulong pfn = (ulong)v;
            TaskContext ctx = ShellContext();
            for (int i = 0; i < MaxShellBlocks; i++)
            {
                if (s_blocks.Used[i] == 0 || s_blocks.Pfn[i] != pfn) continue;
                MmResult r = pa.FreePages(pfn, s_blocks.Order[i], ctx.Pid);
                if (r == MmResult.Ok)
                {
                    s_blocks.Used[i] = 0;
                    Console.Write("freed pfn "); Console.WriteHex(pfn, 1); Console.Write(" order "); Console.WriteDecimal((ulong)s_blocks.Order[i]); Console.WriteLine();
                }
                else Console.WriteLine("free: the allocator refused (its message is above)");
                return;
            }
            // Not ours: the allocator decides, and says why it refuses ("BUG: Bad page state ...").
            MmResult m = pa.FreePages(pfn, 0, ctx.Pid);
            if (m == MmResult.Ok) { Console.Write("freed pfn "); Console.WriteHex(pfn, 1); Console.WriteLine(" order 0 (not from the shell's table)"); }
            else Console.WriteLine("free: refused by the allocator");
        }

        // ------------------------------------------------------------------ bench

        // Regions of the two RATs, taken from the buddy at the first `bench` and kept for the next.
        private static byte* s_benchRegion, s_benchHalfRegion;
        private static RamAllocationTable s_benchRat, s_benchHalfRat;

        private static void Bench()
        {
            if (Is(1, "heap")) { BenchHeap(); return; }
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (Is(1, "gc")) { BenchGc(); return; }
            if (Is(1, "eh")) { BenchEh(); return; }
            if (s_benchRegion == null)
            {
                s_benchRegion = (byte*)BuddyHeap.AllocPages(PageBench.RatRegionPages);
                if (s_benchRegion == null) { Console.WriteLine("bench: no 4 MiB block for the RAT"); return; }
                if (RamAllocationTable.Init(s_benchRegion + (PageBench.RatRegionPages - 1) * Heap.PageSize, PageBench.RatRegionPages, true, out s_benchRat) != RatResult.Ok)
                { Console.WriteLine("bench: the RAT refused its region"); return; }
            }
            if (s_benchHalfRegion == null)
            {
                s_benchHalfRegion = (byte*)BuddyHeap.AllocPages(PageBench.HalfUsedPages);
                if (s_benchHalfRegion == null) { Console.WriteLine("bench: no 4 MiB block for the half-used RAT"); return; }
                if (PageBench.BuildHalfUsedRat(s_benchHalfRegion, out s_benchHalfRat) != RatResult.Ok)
                { Console.WriteLine("bench: the half-used RAT refused its region"); return; }
            }
            TaskContext t = BuddyHeap.Current;
            // NORETRY | NOWARN: under memory pressure the bench fails its allocations rather than OOM-kill.
            PageFigures f = PageBench.Measure(pa, ref t, Gfp.GFP_KERNEL | Gfp.NoRetry | Gfp.NoWarn,
                                              ref s_benchRat, s_benchRegion, ref s_benchHalfRat, s_benchHalfRegion);
            Console.WriteLine("page alloc+free, TSC cycles per operation (best of 5 rounds of 1000)");
            Console.WriteLine("(under QEMU TCG compare figures within one boot only)");
            Console.WriteLine("RAT fresh: an empty table (its best case); RAT half used: the settled state of");
            Console.WriteLine("the host benchmarks' churn, about half the pages live (its realistic case)");
            Console.WriteLine("          buddy  RAT fresh  fresh/buddy  RAT half used  half used/buddy");
            BenchLine("order 0", f.Buddy0, f.Fresh0, f.Half0);
            BenchLine("order 3", f.Buddy3, f.Fresh3, f.Half3);
            if (f.Bad != 0) { Console.Write("failed allocations or frees: "); Console.WriteDecimal((ulong)f.Bad); Console.WriteLine(); }
        }

        /// <summary>`bench gc`: one collection on each heap for 1, 8 and 32 MiB of live objects (GcBench).</summary>
        private static void BenchGc()
        {
            Console.WriteLine("gc pause (TSC cycles, best of 3) and bytes freed, one collection per heap and size;");
            Console.WriteLine("live: a list of object[2] + byte[488] units, one garbage unit per 4 live");
            Console.WriteLine("(under QEMU TCG compare figures within one boot only)");
            Console.WriteLine("live MiB    units  buddy pause  buddy freed  marked    RAT pause    RAT freed  marked  RAT/buddy");
            ulong* sizes = stackalloc ulong[3];
            sizes[0] = 1; sizes[1] = 8; sizes[2] = 32;
            for (int i = 0; i < 3; i++)
            {
                // Best of 3 (the host's other load only ever adds to a pause).
                GcBenchFigures f = GcBench.Run(sizes[i]);
                for (int round = 1; round < 3; round++)
                {
                    GcBenchFigures g = GcBench.Run(sizes[i]);
                    if (g.BuddyPause < f.BuddyPause) f.BuddyPause = g.BuddyPause;
                    if (g.RatError == null && f.RatError == null && g.RatPause < f.RatPause) f.RatPause = g.RatPause;
                }
                TextFormat.Dec(Out, f.LiveMiB, 8); TextFormat.Dec(Out, f.Units, 9); TextFormat.Dec(Out, f.BuddyPause, 13); TextFormat.Dec(Out, f.BuddyFreed, 13); TextFormat.Dec(Out, f.BuddyStats.MarkedObjects, 8);
                if (f.RatError != null) { Console.Write("  RAT: "); Console.WriteLine(f.RatError); continue; }
                TextFormat.Dec(Out, f.RatPause, 13); TextFormat.Dec(Out, f.RatFreed, 13); TextFormat.Dec(Out, f.RatStats.MarkedObjects, 8);
                Ratio(f.RatPause, f.BuddyPause, 11);
                Console.WriteLine();
            }
        }

        private static void BenchLine(string what, ulong buddy, ulong fresh, ulong half)
        {
            TextFormat.Left(Out, what, 8); TextFormat.Dec(Out, buddy, 7); TextFormat.Dec(Out, fresh, 11);
            Ratio(fresh, buddy, 13);
            TextFormat.Dec(Out, half, 15);
            Ratio(half, buddy, 17);
            Console.WriteLine();
        }

        /// <summary>rat / buddy as "N.NNx", right-aligned in <paramref name="width"/> columns.</summary>
        private static void Ratio(ulong rat, ulong buddy, int width)
        {
            ulong pct = buddy == 0 ? 0 : rat * 100 / buddy;
            TextFormat.Dec(Out, pct / 100, width - 4); Console.Write('.'); Console.WriteDecimal(pct % 100 / 10); Console.WriteDecimal(pct % 10); Console.Write('x');
        }

        private static void PrintMemory()
        {
            HeapStats s = Heap.Stats;
            Console.Write("heap          "); Console.Write(Heap.Name); Console.Write(", "); Console.WriteDecimal(s.TotalPages);
            Console.Write(" pages ("); Console.WriteSize(s.TotalPages * Heap.PageSize); Console.Write("), free "); Console.WriteDecimal(s.FreePages);
            Console.Write(", used "); Console.WriteDecimal(s.TotalPages - s.FreePages); Console.WriteLine();
            Console.Write("objects       allocated "); Console.WriteDecimal(s.Allocations);
            Console.Write(", freed "); Console.WriteDecimal(s.Frees);
            Console.Write("; page runs "); Console.WriteDecimal(s.PageAllocations); Console.Write(", freed "); Console.WriteDecimal(s.PageFrees);
            Console.Write("; refused frees "); Console.WriteDecimal(s.RejectedFrees); Console.WriteLine();
            Console.Write("bytes         requested "); Console.WriteDecimal(s.BytesRequested);
            Console.Write(", in use "); Console.WriteDecimal(s.BytesInUse); Console.WriteLine();
            if (Heap.Name == RatHeap.Name)
            {
                RatHeapStats r = RatHeap.Details;
                Console.Write("RAT region    "); Console.WriteHex(r.RegionStart, 10); Console.Write(" - "); Console.WriteHex(r.RegionEnd, 10);
                Console.Write(", table at "); Console.WriteHex(r.TableAddress, 10); Console.Write(" ("); Console.WriteDecimal(r.TablePages);
                Console.WriteLine(" pages, one byte per page)");
                Console.Write("RAT pages     small "); Console.WriteDecimal(r.SmallPages);
                Console.Write(", medium "); Console.WriteDecimal(r.MediumPages);
                Console.Write(", large "); Console.WriteDecimal(r.LargePages);
                Console.Write(", runs "); Console.WriteDecimal(r.RunPages); Console.WriteLine();
            }
            // The zoned page allocator: the heap itself (the buddy heap), or beside another heap on
            // pages that heap lent it, for the processes, kswapd, swap and the OOM killer.
            if (BuddyHeap.IsReady)
            {
                BuddyHeapDetails d = BuddyHeap.Details;
                PageAllocator pa = BuddyHeap.Allocator;
                if (BuddyHeap.Mode == BuddyHeapMode.Guest)
                {
                    Console.Write("page alloc    zoned, beside the '"); Console.Write(Heap.Name); Console.Write("' heap: ");
                    Console.WriteDecimal(pa.MaxPfn - pa.MinPfn); Console.Write(" pages ("); Console.WriteSize((pa.MaxPfn - pa.MinPfn) * Heap.PageSize);
                    Console.Write(") lent, "); Console.WriteDecimal(pa.TotalManagedPages); Console.WriteLine(" managed");
                }
                Console.Write("memmap        "); Console.WriteHex(d.MemmapStart, 10); Console.Write(" - "); Console.WriteHex(d.MemmapStart + d.MemmapBytes, 10);
                Console.Write(" ("); Console.WriteDecimal(pa.MaxPfn - pa.MinPfn); Console.WriteLine(" page descriptors of 32 bytes)");
                if (BuddyHeap.Mode == BuddyHeapMode.Heap)
                {
                    Console.Write("boot arena    "); Console.WriteHex(d.ArenaStart, 10); Console.Write(", used "); Console.WriteDecimal(d.ArenaUsed);
                    Console.Write(" of "); Console.WriteDecimal(d.ArenaBytes); Console.Write(" bytes by "); Console.WriteDecimal(d.ArenaAllocations);
                    Console.Write(" permanent objects; frees ignored "); Console.WriteDecimal(d.ArenaIgnoredFrees); Console.WriteLine();
                }
                Console.Write("buddy         free "); Console.WriteDecimal(pa.NrFreePages); Console.Write(" + per-cpu "); Console.WriteDecimal(pa.PcpPages);
                Console.Write(", slab pages "); Console.WriteDecimal(BuddyHeap.Slab.SlabPages); Console.Write(", page runs "); Console.WriteDecimal(d.RunPages);
                Console.Write(" pages; min_free_kbytes "); Console.WriteDecimal((ulong)pa.MinFreeKbytes); Console.WriteLine(" (buddyinfo, zoneinfo, meminfo, vmstat, slabinfo)");
                // The page-allocator seam (docs/plugs.md): whose free lists the zones use.
                Console.Write("free lists    "); Console.Write(FreeLists.Name);
                Console.WriteLine(FreeLists.Merges ? " (merging buddies)" : " (no merging)");
            }
            Console.Write("dispatch      interface cache hits "); Console.WriteDecimal(InterfaceDispatch.CacheHits);
            Console.Write(", resolutions "); Console.WriteDecimal(InterfaceDispatch.Resolutions); Console.WriteLine();
        }
    }
}
