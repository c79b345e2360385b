using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;

namespace MemoryManager.Oom
{
    /// <summary>
    /// The oom_reaper (mm/oom_kill.c: oom_reap_task, __oom_reap_task_mm), run at once by the
    /// OOM killer instead of by a kernel thread: it takes an OOM victim's anonymous memory and
    /// swap without waiting for the victim to run, so the next OOM kill can choose another.
    /// </summary>
    public sealed unsafe class OomReaper
    {
        /// <summary>Processes the oom_reaper has reaped so far.</summary>
        public ulong Reaped;

        private readonly PageAllocator _pa;
        private readonly ProcessTable _procs;
        private readonly ProcessMemory _memory;

        /// <summary>The reaper of the processes of <paramref name="procs"/>, whose memory <paramref name="memory"/> unmaps (set-up only).</summary>
        public OomReaper(PageAllocator pa, ProcessTable procs, ProcessMemory memory)
        {
            _pa = pa;
            _procs = procs;
            _memory = memory;
        }

        /// <summary>
        /// The oom_reaper (__oom_reap_task_mm, run at once instead of by a kernel thread): unmaps
        /// the victim's anonymous memory without waiting for the victim to run
        /// (<see cref="ProcessMemory.ZapAnonymous"/>, as Linux's reaper calls unmap_page_range). Every present
        /// anon page on the LRU is freed (a page isolated by a running scan is left for exit),
        /// every swap slot is freed, the page-cache pages it brought in are re-charged to the
        /// kernel (they stay cached: zapping a file mapping frees nothing), and the task is marked
        /// MMF_OOM_SKIP so the OOM killer chooses another victim next time. Page-table pages, the
        /// software page table itself (now empty entries) and the process slot stay until
        /// <see cref="ProcessMemory.ExitProcess"/>, which then has nothing left to unmap. total_vm is unchanged
        /// (the mappings exist, their pages are gone). Logs Linux's line:
        /// "oom_reaper: reaped process &lt;pid&gt; (&lt;comm&gt;), now anon-rss:..kB, file-rss:..kB, shmem-rss:0kB".
        /// NoSuchProcess for an unknown pid; NotOwner for an unkillable or already reaped process.
        /// </summary>
        public ProcResult Reap(int pid) => Reap(pid, out _);

        /// <summary><see cref="Reap(int)"/>, with the number of pages and swap slots given back.</summary>
        public ProcResult Reap(int pid, out ulong freed)
        {
            freed = 0;
            if (!_procs.Exists(pid)) return ProcResult.NoSuchProcess;
            ref Process t = ref _procs.Get(pid);
            if (OomKiller.OomUnkillableTask(ref t) || (t.Flags & TaskFlags.OomSkip) != 0) return ProcResult.NotOwner;
            freed = _memory.ZapAnonymous(pid, ref t);
            t.Flags |= TaskFlags.OomSkip;
            Reaped++;
            ITextSink log = _pa.Log;
            TextFormat.Write(log, "oom_reaper: reaped process ");
            TextFormat.Dec(log, (ulong)pid);
            TextFormat.Write(log, " (");
            TextFormat.Write(log, t.Comm);
            TextFormat.Write(log, "), now anon-rss:");
            TextFormat.Dec(log, t.RssAnon * (MmConstants.PageSize / 1024));
            TextFormat.Write(log, "kB, file-rss:");
            TextFormat.Dec(log, t.RssFile * (MmConstants.PageSize / 1024));
            TextFormat.Write(log, "kB, shmem-rss:0kB\n");
            return ProcResult.Ok;
        }
    }
}
