using MemoryManager.Core;

namespace MemoryManager.Allocator
{
    /// <summary>
    /// The physical memory map: usable ranges (by node) and reserved ranges, filled at set-up
    /// in fixed-capacity tables. Usable ranges may not overlap; reserved ranges may overlap
    /// anything (only their intersection with usable memory matters).
    /// </summary>
    public sealed class MemoryMap
    {
        public const int DefaultCapacity = 64;

        private readonly MemoryRange[] _usable;
        private readonly MemoryRange[] _reserved;
        private int _usableCount;
        private int _reservedCount;

        /// <summary>An empty map with room for DefaultCapacity usable and reserved ranges.</summary>
        public MemoryMap() : this(DefaultCapacity) { }

        /// <summary>An empty map with room for capacity usable and capacity reserved ranges.</summary>
        public MemoryMap(int capacity)
        {
            if (capacity < 1) capacity = 1;
            _usable = new MemoryRange[capacity];
            _reserved = new MemoryRange[capacity];
        }

        public int Count => _usableCount;
        public int ReservedCount => _reservedCount;
        public MemoryRange this[int i] => _usable[i];
        /// <summary>The i-th reserved range as given to Reserve.</summary>
        public MemoryRange Reserved(int i) => _reserved[i];

        /// <summary>Adds a usable range of node <paramref name="nid"/>; refuses empty, overlapping or out-of-range input. Ranges are kept sorted by start.</summary>
        public MmResult Add(ulong start, ulong length, int nid = 0)
        {
            if (length == 0 || start + length < start) return MmResult.BadArgument;
            if (nid < 0 || nid >= PageAllocator.MaxNodes) return MmResult.BadArgument;
            ulong end = start + length;
            for (int i = 0; i < _usableCount; i++)
            {
                if (start < _usable[i].End && _usable[i].Start < end) return MmResult.BadArgument;
            }
            if (_usableCount == _usable.Length) return MmResult.TableFull;
            int at = _usableCount;
            while (at > 0 && _usable[at - 1].Start > start) { _usable[at] = _usable[at - 1]; at--; }
            _usable[at] = new MemoryRange(start, length, nid);
            _usableCount++;
            return MmResult.Ok;
        }

        /// <summary>LOCAL_DISTANCE and REMOTE_DISTANCE: a node to itself, and between nodes when the firmware gives no SLIT.</summary>
        public const int LocalDistance = 10, RemoteDistance = 20;

        // node_distance(from, to) as the firmware's SLIT gives it; 0 = not given (the defaults apply).
        private readonly byte[] _distance = new byte[PageAllocator.MaxNodes * PageAllocator.MaxNodes];

        /// <summary>
        /// Sets node_distance(from, to) from the SLIT: 10 to itself, 11..254 to another node
        /// (255 means unreachable and is refused here, as is anything below 10).
        /// </summary>
        public MmResult SetDistance(int from, int to, int distance)
        {
            if ((uint)from >= PageAllocator.MaxNodes || (uint)to >= PageAllocator.MaxNodes) return MmResult.BadArgument;
            if (from == to ? distance != LocalDistance : (distance <= LocalDistance || distance > 254)) return MmResult.BadArgument;
            _distance[from * PageAllocator.MaxNodes + to] = (byte)distance;
            return MmResult.Ok;
        }

        /// <summary>node_distance(from, to): the SLIT's value, or 10 / 20 when none was given.</summary>
        public int Distance(int from, int to)
        {
            if ((uint)from >= PageAllocator.MaxNodes || (uint)to >= PageAllocator.MaxNodes) return 0;
            int d = _distance[from * PageAllocator.MaxNodes + to];
            if (d != 0) return d;
            return from == to ? LocalDistance : RemoteDistance;
        }

        /// <summary>Marks a byte range as not managed by the allocator (kernel image, memmap, firmware tables).</summary>
        public MmResult Reserve(ulong start, ulong length)
        {
            if (length == 0 || start + length < start) return MmResult.BadArgument;
            if (_reservedCount == _reserved.Length) return MmResult.TableFull;
            _reserved[_reservedCount++] = new MemoryRange(start, length, 0);
            return MmResult.Ok;
        }

        /// <summary>Usable pages (after trimming partial pages at range edges).</summary>
        public ulong UsablePages
        {
            get
            {
                ulong n = 0;
                for (int i = 0; i < _usableCount; i++)
                {
                    ulong s = PageAllocator.PfnUp(_usable[i].Start), e = PageAllocator.PfnDown(_usable[i].End);
                    if (e > s) n += e - s;
                }
                return n;
            }
        }
    }
}
