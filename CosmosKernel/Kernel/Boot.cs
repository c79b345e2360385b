using System.Runtime;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using Kernel.Hal;
using Kernel.Sched;
using Kernel.Mm;
using Kernel.Proc;
using MemoryManager.Allocator;

namespace Kernel
{
    /// <summary>The managed entry point: bring the machine up in dependency order, then the shell.</summary>
    public static unsafe class Boot
    {
        public const string Version = "CosmosKernel 0.1";
        /// <summary>The link address of the kernel image (linker.ld).</summary>
        public const ulong KernelLoadAddress = 0x100000;

        /// <summary>Called by boot.asm in long mode with SSE on and a 512 KiB stack.</summary>
        [RuntimeExport("kmain")]
        private static void KMain(uint magic, byte* bootInfo, nint* modulesStart, nint* modulesEnd, ulong kernelEnd)
        {
            // 1. Reporting first, so anything that goes wrong from here on is a readable panic.
            Serial.Init();
            Cpu.InstallExceptionHandlers();
            PanicReport.Install();
            ExceptionReport.Install();   // throw/catch work from here on (docs/exceptions.md)
            Vga.Clear();
            Console.EnableScreen();
            Console.Write(Version);
            Console.WriteLine(" (C#, NativeAOT ilc, own core library), x86-64 long mode");

            // 2. What the loader says about memory; page tables over all of it. No heap yet.
            BootInfoResult parsed = BootInfo.Parse(magic, bootInfo, KernelLoadAddress, kernelEnd);
            if (parsed == BootInfoResult.UnknownLoader) Panic.Fail("boot: not started by a multiboot loader (bad magic in EAX)");
            if (parsed == BootInfoResult.NoMemoryMap) Panic.Fail("boot: the loader gave no memory map");
            BootOptions.Parse();   // the kernel command line (numa_zonelist_order=), reported with the boot report
            Paging.MapAllRam(BootInfo.HighestRamAddress);
            bool guarded = Paging.UnmapSmallPage(KernelStack.GuardPage); // a stack overflow now faults
            Acpi.Init(); // the ACPI tables, read before anything rewrites or owns RAM
            AcpiNuma.Init(Paging.MappedLimit); // SRAT/SLIT: the nodes the buddy heap builds (none: one node)
            // Enough RAM for what the kernel sets up (MemoryNeeds)? If not, say so and stop here,
            // before any heap exists: nothing fails half-way in a constructor.
            if (!MemoryNeeds.Enough) StopTooSmall();

            // 3. Before any heap owns RAM: what QEMU remembers of the loader's code goes (LoaderCode).
            ForgetLoaderCode();

            // 4. The heap (the seam: the RAT by default, the buddy through its plug), above the
            //    kernel image and the boot information block.
            if (!BootInfo.FindHeapRegion(out ulong heapStart, out ulong heapEnd))
                Panic.Fail("boot: no usable memory above the kernel for the heap");
            if (heapEnd > Paging.MappedLimit) heapEnd = Paging.MappedLimit; // RAM beyond the page-directory pool stays unused
            string heapError = Heap.Init(heapStart, heapEnd);
            if ((object)heapError != null)
            {
                PanicText.Begin(); PanicText.Append("boot: the heap cannot be set up: "); PanicText.Append(heapError);
                Panic.Fail(PanicText.Finish());
            }

            // 5. Managed statics and module initialisers (they may allocate).
            ModuleInit.InitializeModules(modulesStart, modulesEnd);

            // 6. The rest of the hardware.
            Keyboard.Init();
            Timer.Calibrate();

            // 7. Interrupts (PIC remapped to 0x20, only IRQ0 unmasked), the tick, and the
            //    scheduler: from here on this thread is task 0, the shell.
            Interrupts.Init();
            Timer.StartTick(Timer.DefaultTickHz);
            Interrupts.Enable();
            Scheduler.Start();

            // 8. Processes: the Vm (reclaim, swap, OOM killer) over the buddy heap, kswapd tasks.
            string procError = Processes.Init();
            GcRoots.Install();   // GC.Collect reaches the collector (the buddy heap only)
            Allocator.PrepareOutOfMemory();   // from here on a `new` the heap cannot serve throws OutOfMemoryException

            PrintBootReport();
            if ((object)procError != null) { Console.Write("processes: not available: "); Console.WriteLine(procError); }
            else
            {
                Console.Write("processes: init (pid 1) = this shell, ");
                Console.WriteDecimal((ulong)Processes.NodeCount);
                Console.Write(" kswapd task(s), "); Console.WriteDecimal((ulong)Processes.MaxProcesses);
                Console.Write(" slots of "); Console.WriteSize((ulong)Processes.VpagesPerProcess * 4096); Console.WriteLine(" address space");
                Console.Write("oom policy: "); Console.WriteLine(OomPolicy.Name);
                if (Processes.SwapSegments == 0) { Console.Write("swap: none ("); Console.Write(Processes.NoSwapReason); Console.WriteLine("); SwapTotal 0 kB"); }
                else
                {
                    Console.Write("swap: "); Console.WriteSize(Processes.SwapBytes); Console.Write(" of RAM in ");
                    Console.WriteDecimal(Processes.SwapSegments); Console.Write(" segment(s) of "); Console.WriteSize(Processes.SwapSegmentBytes);
                    Console.Write(", SwapTotal "); Console.WriteDecimal(Processes.Vm.TotalSwapPages * 4); Console.WriteLine(" kB (slot 0: header; a teaching device)");
                }
            }
            if (!guarded) Console.WriteLine("warning: the kernel stack has no guard page (it lies above 2 MiB)");
            Shell.Run();
        }

        /// <summary>The machine is smaller than this kernel needs: the memory map, the budget, one sentence, and a PANIC frame with it (QEMU status 37).</summary>
        private static void StopTooSmall()
        {
            BootInfo.PrintMemoryMap();
            MemoryNeeds.PrintBudget();
            string summary = MemoryNeeds.TooSmallSummary();
            Console.WriteLine(summary);
            Panic.SendFrameAndStop(summary);
        }

        /// <summary>
        /// LoaderCode.Rewrite over the usable RAM the heap may own (above 1 MiB, mapped), less the
        /// kernel image (stack included) and the boot information block, which are live. Runs
        /// with interrupts off, before any heap exists, whatever heap the image has.
        /// </summary>
        private static void ForgetLoaderCode()
        {
            const ulong page = 4096, lowMemoryEnd = 0x100000;
            ulong k0 = BootInfo.KernelStart, k1 = (BootInfo.KernelEnd + page - 1) & ~(page - 1);
            ulong i0 = BootInfo.InfoStart & ~(page - 1), i1 = (BootInfo.InfoEnd + page - 1) & ~(page - 1);
            for (int r = 0; r < BootInfo.RegionCount; r++)
            {
                MemoryRegion region = BootInfo.Region(r);
                if (region.Type != MemoryRegionType.Usable) continue;
                ulong s = region.Base < lowMemoryEnd ? lowMemoryEnd : region.Base, e = region.End;
                if (e > Paging.MappedLimit) e = Paging.MappedLimit;
                // Walk [s, e) and skip whichever of the two live ranges comes next.
                while (s < e)
                {
                    ulong cut = e, resume = e;
                    if (k1 > s && k0 < cut) { cut = k0 < s ? s : k0; resume = k1; }
                    if (i1 > s && i0 < cut) { cut = i0 < s ? s : i0; resume = i1; }
                    if (cut > s) LoaderCode.Rewrite(s, cut);
                    s = resume;
                }
            }
        }

        /// <summary>"page allocator: buddy free lists (merging buddies), 64981 pages" (docs/plugs.md, "The page-allocator seam").</summary>
        private static void PrintPageAllocator()
        {
            Console.Write("page allocator: "); Console.Write(FreeLists.Name);
            Console.Write(FreeLists.Merges ? " free lists (merging buddies)" : " free lists (no merging)");
            PageAllocator pa = BuddyHeap.Allocator;
            if (pa == null) { Console.WriteLine(", not set up"); return; }
            Console.Write(", "); Console.WriteDecimal(pa.TotalManagedPages); Console.Write(" pages");
            if (BuddyHeap.Mode == BuddyHeapMode.Guest) { Console.Write(" lent by the "); Console.Write(Heap.Name); Console.Write(" heap"); }
            Console.WriteLine();
        }

        private static void PrintBootReport()
        {
            string loader = BootInfo.LoaderName;
            if (loader.Length != 0) { Console.Write("boot loader: "); Console.WriteLine(loader); }
            BootOptions.PrintReport();
            BootInfo.PrintMemoryMap();
            MemoryNeeds.PrintSummary();
            Console.Write("kernel image: "); Console.WriteHex(BootInfo.KernelStart, 10); Console.Write(" - "); Console.WriteHex(BootInfo.KernelEnd, 10);
            Console.WriteLine();
            Console.Write("boot info:    "); Console.WriteHex(BootInfo.InfoStart, 10); Console.Write(" - "); Console.WriteHex(BootInfo.InfoEnd, 10); Console.WriteLine();
            Console.Write("paging: identity map up to "); Console.WriteSize(Paging.MappedLimit);
            if (Paging.UnmappedRam != 0) { Console.Write(" ("); Console.WriteSize(Paging.UnmappedRam); Console.Write(" of RAM above that left unmapped)"); }
            Console.WriteLine();
            HeapStats h = Heap.Stats;
            Console.Write("heap: "); Console.Write(Heap.Name); Console.Write(", "); Console.WriteSize(h.TotalPages * Heap.PageSize);
            Console.Write(" in "); Console.WriteDecimal(h.TotalPages); Console.Write(" pages, "); Console.WriteDecimal(h.FreePages); Console.WriteLine(" free");
            if (Heap.Name == RatHeap.Name)
            {
                RatHeapStats r = RatHeap.Details;
                Console.Write("      region "); Console.WriteHex(r.RegionStart, 10); Console.Write(" - "); Console.WriteHex(r.RegionEnd, 10);
                Console.Write(", RAT at "); Console.WriteHex(r.TableAddress, 10); Console.WriteLine();
            }
            if (Heap.Name == BuddyHeap.HeapName)
            {
                BuddyHeapDetails b = BuddyHeap.Details;
                Console.Write("      boot arena "); Console.WriteHex(b.ArenaStart, 10); Console.Write(" ("); Console.WriteDecimal(b.ArenaUsed); Console.Write(" bytes used)");
                Console.Write(", memmap "); Console.WriteHex(b.MemmapStart, 10); Console.Write(" - "); Console.WriteHex(b.MemmapStart + b.MemmapBytes, 10);
                if (Vmemmap.IsUsed) Console.Write(" (virtual: each node's part on the node)");
                Console.WriteLine();
                for (int n = 0; n < Vmemmap.NodeCount && Vmemmap.IsUsed; n++)
                {
                    Console.Write("      memmap of node "); Console.WriteDecimal((ulong)n); Console.Write(": ");
                    Console.WriteHex(Vmemmap.BlockStart(n), 10); Console.Write(" - "); Console.WriteHex(Vmemmap.BlockStart(n) + Vmemmap.BlockPages(n) * 4096, 10);
                    Console.Write(" ("); Console.WriteDecimal(Vmemmap.MemmapPages(n)); Console.Write(" pages of descriptors, ");
                    Console.WriteDecimal(Vmemmap.TablePages(n)); Console.WriteLine(" of page tables)");
                }
                if (BuddyHeap.PoisonsFreePages) Console.WriteLine("      free pages poisoned with 0xAA and checked on allocation (Debug image)");
            }
            PrintPageAllocator();
            Console.Write("timer: TSC "); Console.WriteDecimal(Timer.TscHz / 1000000); Console.WriteLine(" MHz (calibrated against PIT channel 2)");
            Console.Write("tick: PIT channel 0 at "); Console.WriteDecimal(Timer.TickHz); Console.Write(" Hz on IRQ0 (vector "); Console.WriteHex(Interrupts.FirstVector, 2);
            Console.WriteLine("), interrupts on");
            Console.Write("scheduler: cooperative, "); Console.WriteDecimal((ulong)Scheduler.Capacity); Console.WriteLine(" task slots; this shell is task 0");
            Acpi.PrintSummary();
            AcpiNuma.PrintReport();
        }
    }
}
