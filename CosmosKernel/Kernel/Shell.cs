using Kernel.Core;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Mm;
using MemoryManager;
using Kernel.Tests.Framework;

namespace Kernel
{
    /// <summary>
    /// The kernel shell, on COM1 and on the screen + keyboard at once. Each prompt is preceded
    /// by a READY frame so that the test runner knows when to send its command line.
    /// </summary>
    public static class Shell
    {
        private const string Usage = "commands: help | mem | map | buddyinfo | zoneinfo | meminfo | vmstat | slabinfo | test <suite>|all | halt";

        public static void Run()
        {
            Console.WriteLine("type 'help' for commands");
            while (true)
            {
                HostProtocol.Frame("READY", Boot.Version);
                Console.Write("kernel> ");
                string line = Console.ReadLine(120).Trim();
                if (line.Length == 0) continue;
                Execute(line);
            }
        }

        private static void Execute(string line)
        {
            int space = line.IndexOf(' ');
            string command = space < 0 ? line : line.Substring(0, space);
            string argument = space < 0 ? "" : line.Substring(space + 1).Trim();
            switch (command)
            {
                case "help":
                    Console.WriteLine(Usage);
                    Console.WriteLine("  help         this list");
                    Console.WriteLine("  mem          heap statistics (and the RAM allocation table's, on the RAT heap)");
                    Console.WriteLine("  map          the boot loader's memory map");
                    Console.WriteLine("  buddyinfo    /proc/buddyinfo, zoneinfo, meminfo, vmstat, slabinfo: the buddy allocator's texts");
                    Console.WriteLine(string.Concat("  test <suite> run in-kernel tests; suites: ", TestHost.SuiteNames()));
                    Console.WriteLine("  halt         stop the machine (QEMU exits with status 33)");
                    break;
                case "mem":
                    PrintMemory();
                    break;
                case "map":
                    BootInfo.PrintMemoryMap();
                    break;
                case "buddyinfo":
                case "zoneinfo":
                case "meminfo":
                case "vmstat":
                case "slabinfo":
                    PrintProc(command);
                    break;
                case "test":
                    RunTests(argument);
                    break;
                case "halt":
                    Console.WriteLine("halting.");
                    DebugExit.Exit(DebugExit.Success);
                    Native.HaltForever();
                    break;
                default:
                    Console.WriteLine(string.Concat("unknown command '", command, "'. ", Usage));
                    break;
            }
        }

        private static void RunTests(string selector)
        {
            if (selector.Length == 0)
            {
                Console.WriteLine(string.Concat("usage: test <suite>|all; suites: ", TestHost.SuiteNames()));
                return;
            }
            if (!TestHost.Run(selector, out TestTotals totals))
            {
                Console.WriteLine(string.Concat("no suite named '", selector, "'; suites: ", TestHost.SuiteNames()));
                return;
            }
            // Under QEMU this ends the machine; elsewhere (no isa-debug-exit) the shell goes on.
            DebugExit.Exit(totals.Failed == 0 ? DebugExit.Success : DebugExit.TestsFailed);
        }

        /// <summary>The memory manager's /proc texts, for the buddy heap (THE heap, or the guest `test mm` sets up in a RAT image).</summary>
        private static void PrintProc(string which)
        {
            PageAllocator pa = BuddyHeap.Allocator;
            if (pa == null)
            {
                Console.WriteLine(string.Concat("no buddy allocator: the image's heap is '", Heap.Name, "' (build with -p:KernelHeap=Buddy; `test mm` sets up a guest buddy heap)"));
                return;
            }
            ITextSink o = BuddyHeap.Log;
            if (which == "buddyinfo") pa.WriteBuddyInfo(o);
            else if (which == "zoneinfo") pa.WriteZoneInfo(o);
            else if (which == "meminfo") pa.WriteMemInfo(o);
            else if (which == "vmstat") pa.WriteVmStat(o);
            else BuddyHeap.Slab.WriteSlabInfo(o);
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
            if (Heap.Name == BuddyHeap.HeapName)
            {
                BuddyHeapDetails d = BuddyHeap.Details;
                PageAllocator pa = BuddyHeap.Allocator;
                Console.Write("memmap        "); Console.WriteHex(d.MemmapStart, 10); Console.Write(" - "); Console.WriteHex(d.MemmapStart + d.MemmapBytes, 10);
                Console.Write(" ("); Console.WriteDecimal(pa.MaxPfn - pa.MinPfn); Console.WriteLine(" page descriptors of 32 bytes)");
                Console.Write("boot arena    "); Console.WriteHex(d.ArenaStart, 10); Console.Write(", used "); Console.WriteDecimal(d.ArenaUsed);
                Console.Write(" of "); Console.WriteDecimal(d.ArenaBytes); Console.Write(" bytes by "); Console.WriteDecimal(d.ArenaAllocations);
                Console.Write(" permanent objects; frees ignored "); Console.WriteDecimal(d.ArenaIgnoredFrees); Console.WriteLine();
                Console.Write("buddy         free "); Console.WriteDecimal(pa.NrFreePages); Console.Write(" + per-cpu "); Console.WriteDecimal(pa.PcpPages);
                Console.Write(", slab pages "); Console.WriteDecimal(BuddyHeap.Slab.SlabPages); Console.Write(", page runs "); Console.WriteDecimal(d.RunPages);
                Console.Write(" pages; min_free_kbytes "); Console.WriteDecimal((ulong)pa.MinFreeKbytes); Console.WriteLine(" (buddyinfo, zoneinfo, meminfo, vmstat, slabinfo)");
            }
            Console.Write("dispatch      interface cache hits "); Console.WriteDecimal(InterfaceDispatch.CacheHits);
            Console.Write(", resolutions "); Console.WriteDecimal(InterfaceDispatch.Resolutions); Console.WriteLine();
        }
    }
}
