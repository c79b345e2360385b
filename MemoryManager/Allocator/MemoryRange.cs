namespace MemoryManager.Allocator
{
    /// <summary>A usable RAM range as a bootloader reports it (multiboot2 type 1), byte addresses.</summary>
    public struct MemoryRange
    {
        public ulong Start;
        public ulong Length;
        public int Nid;

        /// <summary>A range of length bytes from start on node nid.</summary>
        public MemoryRange(ulong start, ulong length, int nid) { Start = start; Length = length; Nid = nid; }
        public ulong End => Start + Length;
    }
}
