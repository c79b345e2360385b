using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Swap
{
    /// <summary>
    /// A swap device backed by RAM supplied from outside (native memory on the host, buddy
    /// blocks in the kernel): Slots × 4 KiB of storage and one swap_map byte per slot. The
    /// storage is one block, or several segments of equal size (the kernel's largest
    /// contiguous block is 4 MiB): slot s lives in segment s / SlotsPerSegment.
    /// </summary>
    public sealed unsafe class RamSwapDevice : ISwapDevice
    {
        /// <summary>SWAP_MAP_MAX: the largest reference count a slot can hold.</summary>
        public const byte SwapMapMax = 0x3e;

        private readonly byte* _storage;
        private readonly ulong[] _segments;      // segment base addresses, or null for one block at _storage
        private readonly ulong _slotsPerSegment;
        private readonly byte[] _swapMap;
        private ulong _free;
        private ulong _clusterNext;

        public ulong Slots => (ulong)_swapMap.Length;
        public ulong FreeSlots => _free;

        /// <summary>Sets up an all-free swap_map (set-up only).</summary>
        private RamSwapDevice(byte* storage, ulong[] segments, ulong slotsPerSegment, ulong slots)
        {
            _storage = storage;
            _segments = segments;
            _slotsPerSegment = slotsPerSegment;
            _swapMap = new byte[slots];
            _free = slots - 1;
            _clusterNext = 1;
        }

        /// <summary>
        /// swapon over <paramref name="count"/> segments of <paramref name="slotsPerSegment"/>
        /// slots each, at the addresses in <paramref name="segments"/> (copied; none may be 0):
        /// count × slotsPerSegment slots in all, at least 2.
        /// </summary>
        public static MmResult CreateSegmented(ulong* segments, int count, ulong slotsPerSegment, out RamSwapDevice dev)
        {
            dev = null;
            if (segments == null || count < 1 || slotsPerSegment < 1) return MmResult.BadArgument;
            ulong slots = (ulong)count * slotsPerSegment;
            if (slots < 2 || slots > 1UL << 26) return MmResult.BadArgument;
            ulong[] copy = new ulong[count];
            for (int i = 0; i < count; i++)
            {
                if (segments[i] == 0) return MmResult.BadArgument;
                copy[i] = segments[i];
            }
            dev = new RamSwapDevice(null, copy, slotsPerSegment, slots);
            return MmResult.Ok;
        }

        /// <summary>The bytes of slot <paramref name="offset"/> (null when the device keeps no contents).</summary>
        private byte* SlotBytes(ulong offset)
        {
            if (_segments != null)
                return (byte*)_segments[offset / _slotsPerSegment] + (offset % _slotsPerSegment) * MmConstants.PageSize;
            return _storage == null ? null : _storage + offset * MmConstants.PageSize;
        }

        /// <summary>Bytes of storage a device of <paramref name="slots"/> slots needs.</summary>
        public static ulong StorageBytes(ulong slots) => slots * MmConstants.PageSize;

        /// <summary>swapon: a device of <paramref name="slots"/> slots over <paramref name="storage"/> (null = bookkeeping only); at least 2 slots.</summary>
        public static MmResult Create(byte* storage, ulong slots, out RamSwapDevice dev)
        {
            dev = null;
            if (slots < 2 || slots > 1UL << 26) return MmResult.BadArgument;
            dev = new RamSwapDevice(storage, null, 0, slots);
            return MmResult.Ok;
        }

        /// <summary>get_swap_page() through scan_swap_map(): scans from the last handed-out slot for a free one, wrapping once.</summary>
        public bool GetSwapPage(out ulong offset)
        {
            offset = 0;
            if (_free == 0) return false;
            ulong n = Slots;
            ulong o = _clusterNext;
            for (ulong i = 0; i < n; i++, o++)
            {
                if (o >= n) o = 1;
                if (_swapMap[o] == 0)
                {
                    _swapMap[o] = 1;
                    _free--;
                    _clusterNext = o + 1;
                    offset = o;
                    return true;
                }
            }
            return false;
        }

        /// <summary>The slot exists, is not slot 0 and has a reference.</summary>
        private bool InUse(ulong offset) => offset != 0 && offset < Slots && _swapMap[offset] != 0;

        /// <summary>Copies one page into a used slot; refuses a free or out-of-range slot.</summary>
        public MmResult WritePage(ulong offset, byte* src)
        {
            if (!InUse(offset)) return MmResult.BadArgument;
            byte* slot = SlotBytes(offset);
            if (slot != null && src != null) PageBytes.Copy(slot, src);
            return MmResult.Ok;
        }

        /// <summary>Copies one page out of a used slot; refuses a free or out-of-range slot.</summary>
        public MmResult ReadPage(ulong offset, byte* dst)
        {
            if (!InUse(offset)) return MmResult.BadArgument;
            byte* slot = SlotBytes(offset);
            if (slot != null && dst != null) PageBytes.Copy(dst, slot);
            return MmResult.Ok;
        }

        /// <summary>The slot's reference count (0 = free, also for offsets outside the device).</summary>
        public int SwapCount(ulong offset) => offset < Slots ? _swapMap[offset] : 0;

        /// <summary>Adds a reference to a used slot; refuses a free slot or a count at SWAP_MAP_MAX.</summary>
        public MmResult SwapDuplicate(ulong offset)
        {
            if (!InUse(offset)) return MmResult.BadArgument;
            if (_swapMap[offset] >= SwapMapMax) return MmResult.BadArgument;
            _swapMap[offset]++;
            return MmResult.Ok;
        }

        /// <summary>Drops a reference; a double free of a slot is refused and changes nothing.</summary>
        public MmResult SwapFree(ulong offset)
        {
            if (!InUse(offset)) return MmResult.DoubleFree;
            _swapMap[offset]--;
            if (_swapMap[offset] == 0) _free++;
            return MmResult.Ok;
        }
    }
}
