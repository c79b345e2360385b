namespace MemoryManager.Gc
{
    /// <summary>Where the root that led the marker to an object came from.</summary>
    public enum GcRootKind : byte
    {
        None = 0,
        /// <summary>A word of a stack (a parked task's, or the running one with its callee-saved registers).</summary>
        Stack,
        /// <summary>A GC static region slot (a static base object).</summary>
        Static,
        /// <summary>A word of the kernel's data or bss.</summary>
        Data,
        /// <summary>A word of the boot arena (early objects that are never swept).</summary>
        BootArena,
        /// <summary>A reference given by its holder (a test, a register).</summary>
        Explicit,
        /// <summary>Found again by the rescan that follows a mark-stack overflow (the first root is not known any more).</summary>
        Rescan,
    }

    /// <summary>
    /// What the collector needs to know about a heap, and nothing more. An object is named by
    /// its reference (in NativeAOT's layout, the address of its MethodTable pointer; one 8-byte
    /// header word lies before it, counted in its size). Implementations allocate nothing.
    /// </summary>
    public unsafe interface IGcObjectModel
    {
        /// <summary>
        /// The reference of the allocated managed object whose block contains
        /// <paramref name="address"/> (an interior pointer counts), or 0 when the address is in
        /// no such object: outside the heap, in a free block, in a raw allocation that is not
        /// a managed object.
        /// </summary>
        ulong ObjectContaining(ulong address);

        /// <summary>
        /// The object's size in bytes (base size + length × component size, the header word
        /// included) and its GC descriptor's anchor: the address just after the descriptor
        /// (the MethodTable), whose word -1 is the series count; 0 when the object has no
        /// references. False when the header cannot be read as an object's (corrupt).
        /// </summary>
        bool Describe(ulong obj, out ulong size, out ulong descriptor);

        /// <summary>The first allocated managed object with a reference above <paramref name="after"/>, or 0 when none (the sweep's walk).</summary>
        ulong NextObject(ulong after);

        /// <summary>Frees an object the marker did not reach; returns the bytes given back.</summary>
        ulong Free(ulong obj);

        /// <summary>
        /// The marker met an object whose header or descriptor it cannot read: its reference,
        /// its header word (the MethodTable), and the root it was reached from. The kernel panics
        /// here; the collector, if this returns, treats the object as holding no references.
        /// </summary>
        void Corrupt(ulong obj, ulong header, ulong root, GcRootKind kind);
    }
}
