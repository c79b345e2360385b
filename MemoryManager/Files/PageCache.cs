using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;

namespace MemoryManager.Files
{
    /// <summary>
    /// The page cache (mm/filemap.c, reduced) over in-memory files: file pages on the file LRU
    /// lists, clean or dirty, charged to the process that read them in, written back to the
    /// file's backing store before reclaim frees them (pageout), outliving that process.
    /// </summary>
    public sealed unsafe class PageCache
    {
        private readonly PageAllocator _pa;
        private readonly ProcessTable _procs;
        private readonly Nodes _nodes;
        private readonly UserPages _pages;
        private readonly InMemoryFile[] _files;
        private readonly ulong[] _cacheIndex;
        private int _cacheIndexUsed;

        /// <summary>A page cache of at most <paramref name="maxFiles"/> files and <paramref name="maxFilePages"/> pages in all (set-up only).</summary>
        public PageCache(PageAllocator pa, ProcessTable procs, Nodes nodes, UserPages pages, int maxFiles, int maxFilePages)
        {
            _pa = pa;
            _procs = procs;
            _nodes = nodes;
            _pages = pages;
            _files = new InMemoryFile[maxFiles];
            _cacheIndex = new ulong[maxFilePages];
        }

        /// <summary>Creates an in-memory file of <paramref name="pages"/> pages over <paramref name="backing"/> (Pages × 4 KiB, or null).</summary>
        public ProcResult CreateFile(string name, int pages, byte* backing, out int fileId)
        {
            fileId = -1;
            if (name == null || name.Length == 0) return ProcResult.BadName;
            if (pages < 1) return ProcResult.NoSuchFile;
            if (_cacheIndexUsed + pages > _cacheIndex.Length) return ProcResult.FileTableFull;
            for (int f = 0; f < _files.Length; f++)
            {
                if (_files[f].Used) continue;
                _files[f] = default;
                _files[f].Used = true;
                _files[f].Name = name;
                _files[f].Pages = pages;
                _files[f].Backing = backing;
                _files[f].IndexBase = _cacheIndexUsed;
                for (int i = 0; i < pages; i++) _cacheIndex[_cacheIndexUsed + i] = PageAllocator.NoPfn;
                _cacheIndexUsed += pages;
                fileId = f;
                return ProcResult.Ok;
            }
            return ProcResult.FileTableFull;
        }

        /// <summary>The file's descriptor by reference (fileId from <see cref="CreateFile"/>).</summary>
        public ref InMemoryFile File(int fileId) => ref _files[fileId];

        /// <summary>Pages in the page cache over all files.</summary>
        public ulong NrFilePages
        {
            get
            {
                ulong n = 0;
                for (int f = 0; f < _files.Length; f++) if (_files[f].Used) n += _files[f].NrCached;
                return n;
            }
        }

        /// <summary>find_get_page(): the pfn caching a file page, or NoPfn.</summary>
        public ulong FindGetPage(int fileId, int index)
        {
            if (fileId < 0 || fileId >= _files.Length || !_files[fileId].Used || index < 0 || index >= _files[fileId].Pages)
                return PageAllocator.NoPfn;
            return _cacheIndex[_files[fileId].IndexBase + index];
        }

        /// <summary>
        /// read(): a cached page is marked accessed; a missing one is allocated (charged to
        /// <paramref name="pid"/> as file rss), filled from the backing store and added to the
        /// inactive file list (add_to_page_cache_lru).
        /// </summary>
        public ProcResult ReadFilePage(int pid, int fileId, int index, out byte* data)
        {
            data = null;
            if (fileId < 0 || fileId >= _files.Length || !_files[fileId].Used || index < 0 || index >= _files[fileId].Pages)
                return ProcResult.NoSuchFile;
            if (pid != 0)
            {
                if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
                ProcessState s = _procs.Get(pid).State;
                if (s != ProcessState.Running && s != ProcessState.Sleeping) return ProcResult.Killed;
            }
            ulong pfn = _cacheIndex[_files[fileId].IndexBase + index];
            if (pfn != PageAllocator.NoPfn)
            {
                _nodes.NodeOf(pfn).Lru.MarkPageAccessed(pfn);
                data = _pa.PageAddress(pfn);
                return ProcResult.Ok;
            }
            if (pid != 0)
            {
                ProcResult r = _pages.AllocUserPage(pid, Gfp.GFP_HIGHUSER_MOVABLE, out pfn);
                if (r != ProcResult.Ok) return r;
            }
            else
            {
                TaskContext k = TaskContext.Kernel;
                pfn = _pa.AllocPages(ref k, Gfp.GFP_HIGHUSER_MOVABLE, 0);
                if (pfn == PageAllocator.NoPfn) return ProcResult.NoMemory;
            }
            ref InMemoryFile file = ref _files[fileId];
            data = _pa.PageAddress(pfn);
            if (data != null)
            {
                if (file.Backing != null) PageBytes.Copy(data, file.Backing + (ulong)index * MmConstants.PageSize);
                else PageBytes.Clear(data);
            }
            Page* p = _nodes.PageOf(pfn);
            p->Private = ((ulong)(uint)fileId << 32) | (uint)index;
            p->Flags &= ~(PageFlags.Active | PageFlags.SwapBacked);
            _nodes[p->Nid].Lru.Add(pfn);
            _cacheIndex[file.IndexBase + index] = pfn;
            file.NrCached++;
            if (pid != 0) _procs.Get(pid).RssFile++;
            return ProcResult.Ok;
        }

        /// <summary>write(): brings the page into the cache like a read, then marks it dirty (set_page_dirty); the caller writes the bytes.</summary>
        public ProcResult WriteFilePage(int pid, int fileId, int index, out byte* data)
        {
            ProcResult r = ReadFilePage(pid, fileId, index, out data);
            if (r != ProcResult.Ok) return r;
            ulong pfn = _cacheIndex[_files[fileId].IndexBase + index];
            Page* p = _nodes.PageOf(pfn);
            if ((p->Flags & PageFlags.Dirty) == 0)
            {
                p->Flags |= PageFlags.Dirty;
                _files[fileId].NrDirty++;
            }
            return ProcResult.Ok;
        }

        /// <summary>pageout() for a page-cache page: copies a dirty page to the backing store (PG_writeback while it runs) and leaves it clean.</summary>
        internal void WritebackPage(ulong pfn)
        {
            Page* p = _nodes.PageOf(pfn);
            if ((p->Flags & PageFlags.Dirty) == 0) return;
            int fileId = (int)(p->Private >> 32);
            int index = (int)(uint)p->Private;
            ref InMemoryFile file = ref _files[fileId];
            p->Flags = (p->Flags | PageFlags.Writeback) & ~PageFlags.Dirty;
            byte* data = _pa.PageAddress(pfn);
            if (data != null && file.Backing != null)
                PageBytes.Copy(file.Backing + (ulong)index * MmConstants.PageSize, data);
            p->Flags &= ~PageFlags.Writeback;
            file.NrDirty--;
            file.NrWritten++;
        }

        /// <summary>fsync(): writes back every dirty cached page of a file; returns the pages written.</summary>
        public ulong WritebackFile(int fileId)
        {
            if (fileId < 0 || fileId >= _files.Length || !_files[fileId].Used) return 0;
            ulong before = _files[fileId].NrWritten;
            for (int i = 0; i < _files[fileId].Pages; i++)
            {
                ulong pfn = _cacheIndex[_files[fileId].IndexBase + i];
                if (pfn != PageAllocator.NoPfn) WritebackPage(pfn);
            }
            return _files[fileId].NrWritten - before;
        }

        /// <summary>__delete_from_page_cache(): removes a clean, isolated file page from its file's index and uncharges its owner.</summary>
        internal void DeleteFromPageCache(ulong pfn)
        {
            Page* p = _nodes.PageOf(pfn);
            int fileId = (int)(p->Private >> 32);
            int index = (int)(uint)p->Private;
            ref InMemoryFile file = ref _files[fileId];
            _cacheIndex[file.IndexBase + index] = PageAllocator.NoPfn;
            file.NrCached--;
            if (p->Owner > 0 && _procs.Exists(p->Owner)) _procs.Get(p->Owner).RssFile--;
        }

        /// <summary>On exit the page cache outlives the process: its file pages are re-charged to the kernel (pid 0).</summary>
        internal void UnchargeFilePages(int pid, ref Process t)
        {
            for (int i = 0; i < _cacheIndexUsed && t.RssFile != 0; i++)
            {
                ulong pfn = _cacheIndex[i];
                if (pfn == PageAllocator.NoPfn || _nodes.PageOf(pfn)->Owner != pid) continue;
                // The page stays on the LRU, which PageAllocator.SetOwner refuses (it checks
                // like a free), so the charge moves in the descriptor directly.
                _nodes.PageOf(pfn)->Owner = 0;
                t.RssFile--;
            }
        }
    }
}
