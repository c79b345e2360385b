using MemoryManager.Core;

namespace MemoryManager.Swap
{
    /// <summary>
    /// A swap device: fixed slots of one page each and a swap_map that counts the
    /// references (page-table entries) to every slot. Offsets are slot numbers; slot 0 is
    /// never handed out, like Linux's swap header page, so a swap entry is never 0.
    /// </summary>
    public unsafe interface ISwapDevice
    {
        /// <summary>Slots on the device, including the unused slot 0.</summary>
        ulong Slots { get; }
        /// <summary>Slots that could still be handed out (nr_swap_pages).</summary>
        ulong FreeSlots { get; }
        /// <summary>get_swap_page(): reserves a free slot with count 1; false when the device is full.</summary>
        bool GetSwapPage(out ulong offset);
        /// <summary>swap_writepage(): stores a page's bytes in a reserved slot (src may be null when pages have no contents).</summary>
        MmResult WritePage(ulong offset, byte* src);
        /// <summary>swap_readpage(): copies a slot's bytes back into a page (dst may be null when pages have no contents).</summary>
        MmResult ReadPage(ulong offset, byte* dst);
        /// <summary>swap_map[offset]: 0 for a free slot.</summary>
        int SwapCount(ulong offset);
        /// <summary>swap_duplicate(): one more reference to a used slot.</summary>
        MmResult SwapDuplicate(ulong offset);
        /// <summary>swap_free(): drops one reference; the slot is free again at zero.</summary>
        MmResult SwapFree(ulong offset);
    }
}
