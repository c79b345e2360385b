namespace MemoryManager.Allocator
{
    /// <summary>numa_zonelist_order (vm sysctl, boot option numa_zonelist_order=).</summary>
    public enum ZonelistOrder : byte
    {
        /// <summary>"Node": the nearest node's zones (highest first), then the next nearest node's.</summary>
        Node = 0,
        /// <summary>"Zone": the highest zone type on every node by distance, then the next lower type.</summary>
        Zone = 1,
    }

    /// <summary>Set-up options of the page allocator. <c>new AllocatorOptions()</c> gives the defaults.</summary>
    public struct AllocatorOptions
    {
        /// <summary>Per-cpu page lists for order 0 (default true; off for teaching the bare buddy path). Fixed at Create: the order-0 entries precompute it.</summary>
        public bool PerCpuLists;
        /// <summary>Use the watermark_scale_factor rule (Linux 4.6+) instead of the seed-era low = min + min/4, high = min + min/2.</summary>
        public bool ModernWatermarks;
        /// <summary>watermark_scale_factor in 1/10000 of managed pages (default 10, range 1..3000).</summary>
        public int WatermarkScaleFactor;
        /// <summary>Use the later zone_watermark_ok (some free list at order &gt;= the request is non-empty) instead of the seed's per-order loop.</summary>
        public bool ModernWatermarkCheck;
        /// <summary>Fill free pages with 0xAA and verify on allocation (needs real memory behind the pages). Fixed at Create: the order-0 entries precompute it.</summary>
        public bool PoisonFreePages;
        /// <summary>
        /// Page contents are at their physical address: physBase 0 (null) then means an
        /// identity-mapped kernel, not "descriptors only".
        /// </summary>
        public bool IdentityMapped;
        /// <summary>min_free_kbytes to use instead of the computed one (0 = computed).</summary>
        public int MinFreeKbytesOverride;
        /// <summary>
        /// The fair zone allocation pass (Linux 3.12-4.7, seed 003): the fast path starts with
        /// ALLOC_FAIR, spreading order-0 and larger allocations over the local node's zones in
        /// proportion to their size through per-zone batches. Off: the 2.6-era single scan, the
        /// first zone that passes its watermark serves everything.
        /// </summary>
        public bool FairZoneAllocation;
        /// <summary>numa_zonelist_order: node order (a node's zones before the next node's) or zone order (each zone type across the nodes by distance).</summary>
        public ZonelistOrder ZonelistOrder;

        /// <summary>The defaults: fair zone allocation and node-ordered zonelists, per-cpu lists on, seed-era watermarks, scale factor 10, no poisoning, computed min_free_kbytes.</summary>
        public AllocatorOptions()
        {
            PerCpuLists = true;
            ModernWatermarks = false;
            WatermarkScaleFactor = 10;
            ModernWatermarkCheck = false;
            PoisonFreePages = false;
            IdentityMapped = false;
            MinFreeKbytesOverride = 0;
            FairZoneAllocation = true;
            ZonelistOrder = ZonelistOrder.Node;
        }

        public static AllocatorOptions Default => new AllocatorOptions();
    }
}
