namespace MemoryManager.Files
{
    /// <summary>
    /// A simple in-memory file: a fixed number of pages whose backing store is RAM supplied
    /// from outside (null = no contents, bookkeeping only). Its page-cache index
    /// (address_space->i_pages, reduced to an array: page index → pfn) is a slice of one
    /// array sized at set-up.
    /// </summary>
    public unsafe struct InMemoryFile
    {
        public string Name;
        public int Pages;
        public byte* Backing;
        /// <summary>Pages of this file in the page cache, and how many of them are dirty.</summary>
        public ulong NrCached, NrDirty;
        /// <summary>Pages written back to the backing store so far.</summary>
        public ulong NrWritten;
        internal int IndexBase;
        internal bool Used;
    }
}
