using MemoryManager.Core;

namespace MemoryManager.Slab
{
    // /proc/slabinfo (version 2.1, SLUB's figures: no per-cpu tunables) and the heap's own
    // counters, written to an ITextSink piece by piece (no strings are built).
    public sealed unsafe partial class SlabAllocator
    {
        /// <summary>
        /// /proc/slabinfo: the version line, the column header, then one line per kmalloc cache,
        /// the largest first (Linux lists the newest cache first):
        /// "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu".
        /// active_slabs counts slabs with at least one object in use.
        /// </summary>
        public void WriteSlabInfo(ITextSink o)
        {
            o.Write("slabinfo - version: 2.1\n");
            o.Write("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
            for (int ci = CacheCount - 1; ci >= 0; ci--)
            {
                ref KmemCache c = ref _caches[ci];
                TextFormat.Left(o, _names[ci], 17);
                o.Write(' ');
                TextFormat.Dec(o, c.ActiveObjects, 6);
                o.Write(' ');
                TextFormat.Dec(o, c.NumObjects, 6);
                o.Write(' ');
                TextFormat.Dec(o, c.ObjectSize, 6);
                o.Write(' ');
                TextFormat.Dec(o, c.ObjectsPerSlab, 4);
                o.Write(' ');
                TextFormat.Dec(o, c.PagesPerSlab, 4);
                o.Write(" : tunables ");
                TextFormat.Dec(o, 0, 4);
                o.Write(' ');
                TextFormat.Dec(o, 0, 4);
                o.Write(' ');
                TextFormat.Dec(o, 0, 4);
                o.Write(" : slabdata ");
                TextFormat.Dec(o, c.NrPartial + c.NrFull, 6);
                o.Write(' ');
                TextFormat.Dec(o, c.NumSlabs, 6);
                o.Write(' ');
                TextFormat.Dec(o, 0, 6);
                o.Write('\n');
            }
        }

        /// <summary>
        /// The heap's counters: per cache allocations, frees, failed allocations, slabs taken
        /// from and given back to the buddy allocator; the large kmalloc counters; refused frees,
        /// freelist repairs and interrupt-context downgrades.
        /// </summary>
        public void WriteSlabStats(ITextSink o)
        {
            o.Write("# name              allocs      frees     failed  slabs_alloc  slabs_freed\n");
            for (int ci = CacheCount - 1; ci >= 0; ci--)
            {
                ref KmemCache c = ref _caches[ci];
                TextFormat.Left(o, _names[ci], 17);
                TextFormat.Dec(o, c.Allocs, 9);
                o.Write(' ');
                TextFormat.Dec(o, c.Frees, 10);
                o.Write(' ');
                TextFormat.Dec(o, c.Failed, 10);
                o.Write(' ');
                TextFormat.Dec(o, c.SlabsAllocated, 12);
                o.Write(' ');
                TextFormat.Dec(o, c.SlabsFreed, 12);
                o.Write('\n');
            }
            TextFormat.Left(o, "kmalloc-large", 17);
            TextFormat.Dec(o, LargeAllocs, 9);
            o.Write(' ');
            TextFormat.Dec(o, LargeFrees, 10);
            o.Write(' ');
            TextFormat.Dec(o, LargeFailed, 10);
            o.Write("  objects ");
            TextFormat.Dec(o, LargeObjects);
            o.Write(" pages ");
            TextFormat.Dec(o, LargePages);
            o.Write('\n');
            o.Write("slab_pages ");
            TextFormat.Dec(o, SlabPages);
            o.Write("\nrejected_frees ");
            TextFormat.Dec(o, RejectedFrees);
            o.Write("\nfreelist_repairs ");
            TextFormat.Dec(o, FreelistRepairs);
            o.Write("\natomic_downgrades ");
            TextFormat.Dec(o, AtomicDowngrades);
            o.Write('\n');
        }

        /// <summary>Pages held in slabs by all caches (meminfo's Slab: line, in pages).</summary>
        public ulong SlabPages
        {
            get
            {
                ulong n = 0;
                for (int ci = 0; ci < CacheCount; ci++) n += (ulong)_caches[ci].NumSlabs << _caches[ci].Order;
                return n;
            }
        }
    }
}
