using Kernel.Core.Memory;

namespace System
{
    /// <summary>
    /// The collector as a C# programmer sees it. The kernel's collector (Kernel.Mm.KernelGc,
    /// run with every root by Kernel.Proc.GcRoots) plugs itself in at boot through the function
    /// pointers below; on a heap without a collector (the RAT image) Collect does nothing and
    /// CollectionCount stays 0. docs/gc.md.
    /// </summary>
    public static unsafe class GC
    {
        /// <summary>Runs one full stop-the-world collection (set by the kernel at boot).</summary>
        public static delegate*<void> CollectHook;
        /// <summary>Collections run so far (set by the kernel at boot).</summary>
        public static delegate*<ulong> CountHook;

        /// <summary>Collects now: every managed object no root reaches is freed.</summary>
        public static void Collect()
        {
            if (CollectHook != null) CollectHook();
        }

        /// <summary>Collects (generation 0 is the only generation).</summary>
        public static void Collect(int generation) => Collect();

        /// <summary>Collections so far; the heap has one generation, so every generation answers the same.</summary>
        public static int CollectionCount(int generation)
        {
            if (generation < 0 || CountHook == null) return 0;
            return (int)CountHook();
        }

        /// <summary>Bytes the heap's objects hold (usable sizes); after a collection when <paramref name="forceFullCollection"/>.</summary>
        public static long GetTotalMemory(bool forceFullCollection)
        {
            if (forceFullCollection) Collect();
            return (long)Heap.Stats.BytesInUse;
        }

        /// <summary>The highest generation: 0.</summary>
        public static int MaxGeneration => 0;
    }
}
