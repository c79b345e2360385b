using Kernel.Hal;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace Kernel.Mm
{
    /// <summary>
    /// The memmap of a machine of several NUMA nodes, each node's descriptors in that node's own
    /// memory (Linux's SPARSEMEM_VMEMMAP: vmemmap_populate allocates the pages behind each
    /// section's descriptors on the section's node). The page allocator keeps one array indexed by
    /// pfn (pfn_to_page is one subtraction), so the array is virtual: it starts at
    /// <see cref="Paging.VmemmapStart"/>, and page i of it (the descriptors of pfns MinPfn + 128 i
    /// .. + 127) is mapped to a physical page on the node those pfns belong to. Each node's
    /// descriptor pages, and the page tables that map them, come from one block at the top of the
    /// node's usable RAM (memblock allocates top-down), which the buddy heap reserves: the node's
    /// zones lose those pages from their managed pages, not node 0's.
    ///
    /// A memmap page whose 128 pfns are all in a hole goes with the node before it; one whose pfns
    /// straddle two nodes goes with the node of its first usable pfn. The page directory lies on
    /// the node of the first memmap page. Plain statics, no allocation: runs in BuddyHeap.Init
    /// while the boot arena serves `new`.
    /// </summary>
    public static unsafe class Vmemmap
    {
        public const ulong PageSize = MmConstants.PageSize;
        /// <summary>Descriptors in one memmap page (32 bytes each).</summary>
        public const ulong PfnsPerPage = PageSize / 32;
        private const ulong PtesPerTable = 512;
        private const ulong Present = 0x1, Writable = 0x2, NoExecute = 1UL << 63;

        private struct NodeStore
        {
            public fixed ulong BlockStart[PageAllocator.MaxNodes];
            public fixed ulong MemmapPages[PageAllocator.MaxNodes];
            public fixed ulong TablePages[PageAllocator.MaxNodes];
        }
        private static NodeStore s_nodes;
        private static int s_nodeCount;
        private static bool s_used;
        private static ulong s_bytes;

        /// <summary>The memmap is the virtual one (a machine of several nodes); false on one node, whose memmap lies in one piece after the boot arena.</summary>
        public static bool IsUsed => s_used;
        /// <summary>Nodes the memmap was placed on.</summary>
        public static int NodeCount => s_nodeCount;
        /// <summary>Bytes of descriptors (the virtual array's length).</summary>
        public static ulong Bytes => s_bytes;
        /// <summary>Physical start of node <paramref name="nid"/>'s block (its memmap pages and page tables).</summary>
        public static ulong BlockStart(int nid) => (uint)nid < (uint)s_nodeCount ? s_nodes.BlockStart[nid] : 0;
        /// <summary>Pages of node <paramref name="nid"/>'s block: its memmap pages and the page-table pages on it.</summary>
        public static ulong BlockPages(int nid) => (uint)nid < (uint)s_nodeCount ? s_nodes.MemmapPages[nid] + s_nodes.TablePages[nid] : 0;
        /// <summary>Memmap pages on node <paramref name="nid"/>.</summary>
        public static ulong MemmapPages(int nid) => (uint)nid < (uint)s_nodeCount ? s_nodes.MemmapPages[nid] : 0;
        /// <summary>Page-table pages (the page directory, page tables) on node <paramref name="nid"/>.</summary>
        public static ulong TablePages(int nid) => (uint)nid < (uint)s_nodeCount ? s_nodes.TablePages[nid] : 0;

        private static ulong PageUp(ulong a) => (a + PageSize - 1) & ~(PageSize - 1);
        private static ulong PageDown(ulong a) => a & ~(PageSize - 1);

        // The walk over memmap pages in order, giving each its node: ranges are sorted by start.
        private struct Walk
        {
            public int Range, Nid;
            public int Next(MemoryMap map, ulong minPfn, ulong page)
            {
                ulong lo = minPfn + page * PfnsPerPage, hi = lo + PfnsPerPage;
                while (Range < map.Count && PageAllocator.PfnDown(map[Range].End) <= lo) Range++;
                // The first range with whole pages that reaches into [lo, hi).
                for (int r = Range; r < map.Count; r++)
                {
                    ulong s = PageAllocator.PfnUp(map[r].Start), e = PageAllocator.PfnDown(map[r].End);
                    if (s >= hi) break;
                    if (e > s && e > lo) { Nid = map[r].Nid; break; }
                }
                return Nid;
            }
        }

        /// <summary>
        /// Places the memmap of <paramref name="map"/> (<paramref name="memmapBytes"/> bytes, from
        /// PageAllocator.MemmapBytes) on its nodes and maps it at <see cref="Paging.VmemmapStart"/>.
        /// The blocks are chosen clear of the map's reserved ranges; the caller reserves them
        /// (<see cref="BlockStart"/>, <see cref="BlockPages"/>). Null on success, else why not.
        /// </summary>
        public static string Build(MemoryMap map, ulong memmapBytes, int nodes)
        {
            if (nodes < 1 || nodes > PageAllocator.MaxNodes) return "the vmemmap needs 1 to 8 nodes";
            ulong minPfn = 0xFFFFFFFFFFFFFFFFUL;
            for (int i = 0; i < map.Count; i++)
            {
                ulong s = PageAllocator.PfnUp(map[i].Start), e = PageAllocator.PfnDown(map[i].End);
                if (e > s && s < minPfn) minPfn = s;
            }
            ulong pages = PageUp(memmapBytes) / PageSize;
            if (pages == 0 || pages * PageSize > Paging.VmemmapMaxBytes) return "the memmap does not fit the vmemmap's 1 GiB";
            s_nodeCount = nodes;
            for (int n = 0; n < nodes; n++) { s_nodes.MemmapPages[n] = 0; s_nodes.TablePages[n] = 0; s_nodes.BlockStart[n] = 0; }

            // 1. How many pages each node gives: its memmap pages and the tables that map them.
            Walk w = default;
            w.Nid = map.Count > 0 ? map[0].Nid : 0;
            for (ulong m = 0; m < pages; m++)
            {
                int nid = w.Next(map, minPfn, m);
                if (nid >= nodes) return "a usable range names a node the SRAT does not have";
                s_nodes.MemmapPages[nid]++;
                if (m == 0) s_nodes.TablePages[nid]++;                  // the page directory
                if (m % PtesPerTable == 0) s_nodes.TablePages[nid]++;   // a page table per 512 memmap pages
            }

            // 2. A block for each node, top-down in its usable ranges, clear of every reservation.
            for (int n = 0; n < nodes; n++)
            {
                ulong bytes = (s_nodes.MemmapPages[n] + s_nodes.TablePages[n]) * PageSize;
                if (bytes == 0) continue;
                ulong at = FindBlock(map, n, bytes);
                if (at == 0) return "a node has no free block for its part of the memmap";
                s_nodes.BlockStart[n] = at;
            }

            // 3. Fill the tables: the page directory, a page table per 2 MiB of descriptors, each
            //    memmap page from its node's block. The descriptors themselves are written by
            //    PageAllocator.Create (every one, holes included); the tables are zeroed here.
            ulong* cursor = stackalloc ulong[PageAllocator.MaxNodes];
            for (int n = 0; n < nodes; n++) cursor[n] = s_nodes.BlockStart[n];
            w = default;
            w.Nid = map.Count > 0 ? map[0].Nid : 0;
            ulong* pd = null, pt = null;
            for (ulong m = 0; m < pages; m++)
            {
                int nid = w.Next(map, minPfn, m);
                if (m == 0) { pd = (ulong*)TakeZeroed(ref cursor[nid]); }
                if (m % PtesPerTable == 0)
                {
                    pt = (ulong*)TakeZeroed(ref cursor[nid]);
                    pd[m / PtesPerTable] = (ulong)pt | Present | Writable;
                }
                ulong page = cursor[nid];
                cursor[nid] += PageSize;
                pt[m % PtesPerTable] = page | Present | Writable | NoExecute;
            }
            if (!Paging.InstallVmemmapDirectory((ulong)pd)) return "the vmemmap's slot in the page tables is taken";
            s_bytes = memmapBytes;
            s_used = true;
            return null;
        }

        private static ulong TakeZeroed(ref ulong cursor)
        {
            ulong* p = (ulong*)cursor;
            for (int i = 0; i < 512; i++) p[i] = 0;
            cursor += PageSize;
            return (ulong)p;
        }

        // The highest page-aligned block of `bytes` in node nid's usable ranges that overlaps no reserved range; 0 if none.
        private static ulong FindBlock(MemoryMap map, int nid, ulong bytes)
        {
            for (int r = map.Count - 1; r >= 0; r--)
            {
                if (map[r].Nid != nid) continue;
                ulong lo = PageUp(map[r].Start), hi = PageDown(map[r].End);
                while (hi >= lo + bytes)
                {
                    ulong s = hi - bytes;
                    bool clear = true;
                    for (int k = 0; k < map.ReservedCount; k++)
                    {
                        ulong rs = map.Reserved(k).Start, re = map.Reserved(k).End;
                        if (rs < hi && s < re) { clear = false; hi = PageDown(rs); break; }
                    }
                    if (clear) return s;
                }
            }
            return 0;
        }
    }
}
