using Kernel.Core;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using MemoryManager.Gc;

namespace Kernel.Mm
{
    /// <summary>
    /// The Cosmos-style RAT heap as the collector core (MemoryManager.Gc.MarkSweep) sees it, after
    /// Cosmos's Heap.Collect: every live allocation of the RAT whose first word after the header
    /// is a MethodTable in the kernel image is an object; the sweep walks the RAM allocation
    /// table page by page (<see cref="RatHeap.NextAllocation"/>). Nothing here allocates.
    /// </summary>
    public sealed unsafe class RatGcModel : IGcObjectModel
    {
        public ulong ObjectContaining(ulong address)
        {
            ulong block = RatHeap.AllocationContaining(address);
            if (block == 0) return 0;
            ulong obj = block + MarkSweep.HeaderBytes;
            return KernelGc.InImage(*(ulong*)obj) ? obj : 0;   // a raw allocation (no MethodTable) is no object
        }

        public bool Describe(ulong obj, out ulong size, out ulong descriptor)
        {
            ulong mt = *(ulong*)obj;
            size = 0;
            descriptor = 0;
            if (!KernelGc.InImage(mt)) return false;
            return NativeAotLayout.Describe(obj, mt, out size, out descriptor);
        }

        public ulong NextObject(ulong after)
        {
            ulong block = RatHeap.NextAllocation(after == 0 ? 0 : after - MarkSweep.HeaderBytes);
            while (block != 0)
            {
                ulong obj = block + MarkSweep.HeaderBytes;
                if (KernelGc.InImage(*(ulong*)obj)) return obj;
                block = RatHeap.NextAllocation(block);
            }
            return 0;
        }

        public ulong Free(ulong obj)
        {
            ulong before = RatHeap.Stats.BytesInUse;
            KernelGc.PoisonObject(obj);
            if (RatHeap.Free((void*)(obj - MarkSweep.HeaderBytes)) != HeapFreeResult.Ok) Panic.Fail("gc: the RAT heap refused to free an unreachable object");
            return before - RatHeap.Stats.BytesInUse;
        }

        public void Corrupt(ulong obj, ulong header, ulong root, GcRootKind kind) => KernelGc.CorruptObject(obj, header, root, kind);
    }

    /// <summary>
    /// A Cosmos-style collector for a RAT heap (RatHeap) set up over buddy pages in the buddy
    /// image, for `bench gc`: MarkSweep over <see cref="RatGcModel"/>, its mark bits and mark
    /// stack in buddy pages taken at <see cref="Create"/>. A collection marks from the roots it
    /// is given and the running stack, and sweeps the whole table. docs/gc.md.
    /// </summary>
    public static unsafe class RatGc
    {
        private static MarkSweep s_collector;
        private static void* s_memory;
        private static ulong s_pages;

        /// <summary>Sets the collector up over the RAT heap's region. Null on success.</summary>
        public static string Create()
        {
            Destroy();
            RatHeapStats d = RatHeap.Details;
            if (!RatHeap.IsReady) return "the RAT heap is not set up";
            ulong span = d.RegionEnd - d.RegionStart;
            ulong markBytes = MarkSweep.MarkBitsBytes(span);
            ulong bytes = markBytes + KernelGc.MarkStackEntries * 8;
            ulong pages = (bytes + Heap.PageSize - 1) / Heap.PageSize;
            void* mem = Heap.AllocPages(pages);
            if (mem == null) return "no pages for the RAT collector's mark bits";
            GcResult r = MarkSweep.Create(new RatGcModel(), d.RegionStart, d.RegionEnd, (ulong*)mem, markBytes,
                (ulong*)((byte*)mem + markBytes), KernelGc.MarkStackEntries, out MarkSweep ms);
            if (r != GcResult.Ok) { Heap.FreePages(mem); return "the RAT collector refused its memory"; }
            s_collector = ms;
            s_memory = mem;
            s_pages = pages;
            return null;
        }

        /// <summary>Gives the mark bits' pages back.</summary>
        public static void Destroy()
        {
            if (s_memory != null) Heap.FreePages(s_memory);
            s_memory = null;
            s_collector = null;
        }

        /// <summary>
        /// One stop-the-world collection of the RAT heap: <paramref name="root"/> (a reference its
        /// holder gives), the kernel's GC statics, frozen objects and boot arena (as the kernel's collector), the running
        /// stack from here up, then the sweep over the table. The pause
        /// in TSC cycles comes back in <paramref name="cycles"/>.
        /// </summary>
        public static GcCycleStats Collect(ulong root, out ulong cycles)
        {
            cycles = 0;
            if (s_collector == null) return default;
            Interrupts.Disable();
            ulong t0 = Native.ReadTimeStampCounter();
            MarkSweep gc = s_collector;
            gc.Begin();
            gc.MarkRoot(root, 0, GcRootKind.Explicit);
            KernelGc.ScanKernelRoots(gc);   // the same GC statics, frozen objects and boot arena the kernel's collector scans
            KernelStack.CurrentBounds(out ulong _, out ulong top);
            gc.ScanRange(Native.ReadStackPointer(), top, GcRootKind.Stack);
            GcCycleStats s = gc.Finish();
            cycles = Native.ReadTimeStampCounter() - t0;
            Interrupts.Enable();
            return s;
        }
    }
}
