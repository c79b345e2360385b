namespace MemoryManager.Processes
{
    /// <summary>Why a process-table operation was refused (errors as values).</summary>
    public enum ProcResult : byte
    {
        Ok = 0,
        /// <summary>Every slot of the fixed-capacity table is in use.</summary>
        TableFull,
        /// <summary>No live process has that pid.</summary>
        NoSuchProcess,
        /// <summary>oom_score_adj outside OOM_SCORE_ADJ_MIN..OOM_SCORE_ADJ_MAX (-1000..1000).</summary>
        OomScoreAdjOutOfRange,
        /// <summary>A null or empty name.</summary>
        BadName,
        /// <summary>A virtual page index outside the process's software page table.</summary>
        AddressOutOfRange,
        /// <summary>The page allocator could not supply a page (after reclaim and OOM).</summary>
        NoMemory,
        /// <summary>The page belongs to another process.</summary>
        NotOwner,
        /// <summary>The process was chosen by the OOM killer (or is exiting) and must not continue.</summary>
        Killed,
        /// <summary>The swap device could not read the page back.</summary>
        SwapError,
        /// <summary>No file has that id, or the page index is beyond the file.</summary>
        NoSuchFile,
        /// <summary>The page cache's file table is full.</summary>
        FileTableFull,
        /// <summary>No node has that id.</summary>
        NoSuchNode,
    }
}
