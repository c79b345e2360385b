using Kernel.Core.Memory;
using Kernel.Core.Text;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Sched;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Proc
{
    /// <summary>
    /// How much RAM this kernel needs, derived from what it sets up at boot (docs/kernel-heap.md,
    /// "Minimum memory"). Each item is what the kernel really takes on a machine of R MiB,
    /// in the blocks the buddy hands out: the image (from its linker symbols), the heap's page
    /// bookkeeping, the process table (its page tables grow with RAM, <see cref="Processes.VpagesFor"/>),
    /// the page-cache index, the swap segments (a quarter of RAM, <see cref="Processes.SwapSegmentsFor"/>),
    /// the task stacks, the watermark reserve; two items are stated allowances, each with the
    /// measurement behind it. Boot checks them before the heap exists, so a machine that is too
    /// small gets a sentence instead of an out-of-memory panic in a constructor.
    /// Plain statics only: it runs before ModuleInit.
    /// </summary>
    public static unsafe class MemoryNeeds
    {
        public const ulong MiB = 1UL << 20;
        private const ulong Page = MmConstants.PageSize;

        /// <summary>
        /// Below the kernel: the first MiB (BIOS data, real-mode tables, VGA memory, option ROMs)
        /// is never managed; and a second MiB because the machine's size (<see cref="BootInfo.RamMiB"/>)
        /// is its usable RAM rounded up, part of which the firmware keeps (QEMU: 385 KiB below
        /// 1 MiB, 132 KiB of ACPI tables under the top of low RAM). The items below must fit in the rest.
        /// </summary>
        public const ulong BelowTheKernel = 2 * MiB;

        /// <summary>
        /// Objects the kernel creates at boot besides the items counted here (slab caches and
        /// their first slabs, the scheduler's and the Vm's small tables, the suites' registry):
        /// `mem` and `slabinfo` right after boot show 20 slab pages (80 KiB) and the boot arena's
        /// 8 KiB; the allowance is three times that.
        /// </summary>
        public const ulong BootObjects = 256 * 1024;

        /// <summary>
        /// Room for the shell and for `test all` at the minimum: the suites that run at any size
        /// take at most about 1 MiB each at a time (sched fills the task table: 31 stacks of
        /// 32 KiB; the heap suite's stress holds 512 live blocks, one in 64 up to 32 KiB; mm's
        /// stress holds up to 64 blocks of order 0..5, never more than the pages above the high
        /// watermarks; proc's programs are fractions of the swap), and a workload program needs
        /// its 32 KiB stack and some pages. Suites that need more state their own minimum
        /// (docs/testing.md).
        /// </summary>
        public const ulong Working = 2 * MiB;

        /// <summary>Bytes of a heap array of <paramref name="n"/> elements of <paramref name="size"/> bytes (8 bytes before the object, method table, length).</summary>
        private static ulong ArrayBytes(ulong n, ulong size) => 24 + n * size;

        /// <summary>What a kernel allocation of <paramref name="bytes"/> takes, at most: the power of two at or above it (a kmalloc size class up to 8 KiB; above that a buddy block of 2^order pages).</summary>
        private static ulong Block(ulong bytes)
        {
            ulong b = 8;
            while (b < bytes) b *= 2;
            return b;
        }

        private static ulong PageUp(ulong a) => (a + Page - 1) & ~(Page - 1);

        /// <summary>Does this image have the process layer? Every image: on the buddy heap, or on a page allocator beside another object heap (Processes.Init).</summary>
        public static bool HasProcesses => true;

        /// <summary>Items of the budget.</summary>
        public const int Count = 10;

        /// <summary>What item <paramref name="i"/> is.</summary>
        public static string What(int i) => i switch
        {
            0 => "kernel image (code, data, boot stack, page tables)",
            1 => "boot information block",
            2 => "boot arena and memmap (32 bytes per page)",
            3 => "process table (14 page tables) and pid map",
            4 => "page-cache index",
            5 => "RAM swap (a quarter of RAM) and its swap map",
            6 => "task stacks (kswapd, idle)",
            7 => "objects made at boot (allowance)",
            8 => "watermark reserve (high watermark)",
            _ => "shell and test all (allowance)",
        };

        /// <summary>Bytes of item <paramref name="i"/> on a machine of <paramref name="ramMiB"/> MiB.</summary>
        public static ulong Bytes(int i, ulong ramMiB)
        {
            ulong pages = ramMiB * (MiB / Page);   // at least the pages the heap will manage
            bool procs = HasProcesses;
            switch (i)
            {
                case 0: return PageUp(BootInfo.KernelEnd) - BootInfo.KernelStart;
                case 1: return PageUp(BootInfo.InfoEnd) - (BootInfo.InfoStart & ~(Page - 1));
                case 2: return BuddyHeap.ArenaBytes + PageUp(pages * 32);
                case 3:
                    if (!procs) return 0;
                    ulong vpages = (ulong)Processes.VpagesFor(pages);
                    ulong table = Block(ArrayBytes((ulong)Processes.MaxProcesses * vpages, 8));
                    ulong ptPages = Block(ArrayBytes((ulong)Processes.MaxProcesses * ((vpages + 511) / 512), 8));
                    ulong pidMap = Block(ArrayBytes(32768, 4));   // ProcessTable's pid_max
                    return table + ptPages + pidMap;
                case 4: return procs ? Block(ArrayBytes((ulong)Processes.MaxFilePages, 8)) : 0;
                case 5:
                    if (!procs) return 0;
                    int segments = Processes.SwapSegmentsFor(pages, out ulong segmentPages);
                    if (segments == 0) return 0;
                    ulong slots = (ulong)segments * segmentPages;
                    return slots * Page + Block(ArrayBytes(slots, 1));
                case 6: return procs ? 16 * 1024 + 2 * Scheduler.MinStackSize : 2 * Scheduler.MinStackSize;
                case 7: return BootObjects;
                case 8:
                    ulong minFreeKb = (ulong)PageAllocator.CalculateMinFreeKbytes(pages * (Page / 1024));
                    return minFreeKb * 1024 * 3 / 2;
                default: return Working;
            }
        }

        /// <summary>Bytes above <see cref="BelowTheKernel"/> the kernel needs on a machine of <paramref name="ramMiB"/> MiB.</summary>
        public static ulong Total(ulong ramMiB)
        {
            ulong t = 0;
            for (int i = 0; i < Count; i++) t += Bytes(i, ramMiB);
            return t;
        }

        /// <summary>The smallest machine, in whole MiB, that holds what the kernel needs on it.</summary>
        public static ulong MinimumMiB => MinimumMiBWith(0);

        /// <summary>
        /// The smallest machine, in whole MiB, that holds what the kernel needs on it and
        /// <paramref name="extraBytes"/> more (a suite's own minimum: what the kernel takes grows
        /// with RAM, the swap by a quarter of it, so the extra costs more than itself).
        /// </summary>
        public static ulong MinimumMiBWith(ulong extraBytes)
        {
            ulong r = 1;
            while (r < 1UL << 20 && BelowTheKernel + Total(r) + extraBytes > r * MiB) r++;
            return r;
        }

        /// <summary>Usable RAM at or above 1 MiB (what the kernel and its heap can have).</summary>
        public static ulong UsableAboveFirstMiB
        {
            get
            {
                ulong total = 0;
                for (int i = 0; i < BootInfo.RegionCount; i++)
                {
                    MemoryRegion r = BootInfo.Region(i);
                    if (r.Type != MemoryRegionType.Usable || r.End <= BuddyHeap.LowMemoryEnd) continue;
                    ulong s = r.Base < BuddyHeap.LowMemoryEnd ? BuddyHeap.LowMemoryEnd : r.Base;
                    total += r.End - s;
                }
                return total;
            }
        }

        /// <summary>
        /// Is this machine big enough? It must be at least <see cref="MinimumMiB"/>, and its usable
        /// RAM above the first MiB must hold what the kernel needs at its size (firmware that keeps
        /// more than QEMU does could otherwise leave too little).
        /// </summary>
        public static bool Enough => BootInfo.RamMiB >= MinimumMiB && UsableAboveFirstMiB >= Total(BootInfo.RamMiB);

        /// <summary>"this kernel needs at least N MiB of RAM; the machine has M MiB" (the panic summary; PanicText's static buffer).</summary>
        public static string TooSmallSummary()
        {
            PanicText.Begin();
            PanicText.Append("this kernel needs at least ");
            PanicText.AppendDecimal(MinimumMiB);
            PanicText.Append(" MiB of RAM; the machine has ");
            PanicText.AppendDecimal(BootInfo.RamMiB);
            PanicText.Append(" MiB");
            if (BootInfo.RamMiB >= MinimumMiB)
            {
                PanicText.Append(", but only ");
                PanicText.AppendDecimal(UsableAboveFirstMiB >> 10);
                PanicText.Append(" KiB of it above 1 MiB is usable (");
                PanicText.AppendDecimal(Total(BootInfo.RamMiB) >> 10);
                PanicText.Append(" KiB needed)");
            }
            return PanicText.Finish();
        }

        /// <summary>The boot banner's line: "memory: 128 MiB of RAM; this kernel needs at least 10 MiB".</summary>
        public static void PrintSummary()
        {
            Console.Write("memory: "); Console.WriteDecimal(BootInfo.RamMiB); Console.Write(" MiB of RAM; this kernel needs at least ");
            Console.WriteDecimal(MinimumMiB); Console.WriteLine(" MiB (docs/kernel-heap.md)");
        }

        /// <summary>The budget item by item, at the minimum size (what a too-small machine is told).</summary>
        public static void PrintBudget()
        {
            ulong r = MinimumMiB;
            Console.Write("on a machine of "); Console.WriteDecimal(r); Console.WriteLine(" MiB this kernel takes:");
            Console.Write("  "); Pad(BelowTheKernel >> 10); Console.WriteLine(" KiB  below the kernel (first MiB: BIOS; firmware, rounding)");
            for (int i = 0; i < Count; i++)
            {
                ulong b = Bytes(i, r);
                if (b == 0) continue;
                Console.Write("  "); Pad((b + 1023) >> 10); Console.Write(" KiB  "); Console.WriteLine(What(i));
            }
        }

        private static void Pad(ulong v)
        {
            int digits = 1;
            for (ulong x = v; x >= 10; x /= 10) digits++;
            for (int i = digits; i < 6; i++) Console.Write(' ');
            Console.WriteDecimal(v);
        }
    }
}
