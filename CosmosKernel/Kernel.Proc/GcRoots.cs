using Kernel.Core;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Sched;
using System.Runtime.CompilerServices;

namespace Kernel.Proc
{
    /// <summary>
    /// Runs a whole collection with every root: KernelGc's (GC statics, frozen objects, boot arena),
    /// every parked task's stack from its saved stack pointer to its top, and the running stack
    /// from here up with the callee-saved registers spilled. Plugged into System.GC at boot
    /// (<see cref="Install"/>). docs/gc.md.
    /// </summary>
    public static unsafe class GcRoots
    {
        /// <summary>Makes GC.Collect and GC.CollectionCount reach the kernel's collector (THE buddy heap only).</summary>
        public static bool Install()
        {
            if (!KernelGc.IsReady) return false;
            System.GC.CollectHook = &CollectNow;
            System.GC.CountHook = &Count;
            Kernel.Core.Runtime.Allocator.CollectForNew = &CollectForNew;
            return true;
        }

        /// <summary>`new` found no memory short of the OOM killer: collect (not in an interrupt, not inside a collection).</summary>
        private static bool CollectForNew()
        {
            if (KernelGc.IsRunning || BuddyHeap.InInterrupt) return false;
            Collect();
            return true;
        }

        private static ulong Count() => KernelGc.Figures.Collections;

        private static void CollectNow() => Collect();

        /// <summary>Bytes of dead stack below the caller zeroed before a collection: more than the frame that scans from its own stack pointer up.</summary>
        public const ulong DeadStackBytes = 1024;

        /// <summary>One stop-the-world collection; its figures (Collections unchanged when the collector is not set up).</summary>
        public static KernelGcFigures Collect()
        {
            // The collecting frame below is scanned from its own stack pointer up, and the slots it
            // never writes still hold whatever the caller's last calls left there (a copy of the
            // heap's statistics, whose byte counts read as heap addresses, pinned two 64 KiB
            // objects after an out-of-memory: docs/gc.md). Zero that dead stack first.
            KernelStack.ClearDeadStack(DeadStackBytes);
            return CollectAll();
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static KernelGcFigures CollectAll()
        {
            if (!KernelGc.Begin()) return KernelGc.Figures;
            // The running stack: callee-saved registers first (a caller's value may live only there), then from here up.
            ulong* regs = stackalloc ulong[6];
            KernelGc.SpillCalleeSaved(regs);
            KernelStack.CurrentBounds(out ulong _, out ulong top);
            ulong here = Native.ReadStackPointer();
            KernelGc.ScanStack((ulong)regs, (ulong)(regs + 6));
            KernelGc.ScanStack(here, top);
            for (int slot = 0; slot < Scheduler.Capacity; slot++)
            {
                KTask t = Scheduler.TaskAt(slot);
                if (Scheduler.ParkedStack(t, out ulong from, out ulong to)) KernelGc.ScanStack(from, to);
            }
            return KernelGc.Finish();
        }
    }
}
