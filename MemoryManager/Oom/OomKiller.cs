using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;
using MemoryManager.Swap;

namespace MemoryManager.Oom
{
    /// <summary>What select_bad_process() found.</summary>
    public enum OomScan : byte
    {
        /// <summary>A victim was chosen.</summary>
        Chosen = 0,
        /// <summary>An earlier victim (TIF_MEMDIE, not yet reaped: no MMF_OOM_SKIP) has not released its memory yet: wait for it.</summary>
        Abort,
        /// <summary>No killable process.</summary>
        NoVictim,
    }

    /// <summary>
    /// The OOM killer (mm/oom_kill.c, reduced): oom_unkillable_task, oom_badness,
    /// select_bad_process, oom_kill_process and out_of_memory with panic_on_oom and
    /// oom_kill_allocating_task; the allocator calls it (IOomKiller) when reclaim made no
    /// progress. A kill is counted (vmstat's oom_kill, <see cref="LastVictim"/>) and told to the
    /// host's event hook (<see cref="IMmEvents.OomKilled"/>); it hands the victim to the
    /// <see cref="OomReaper"/> (when it is on), or waits a tick for the victim to exit.
    /// </summary>
    public sealed unsafe class OomKiller : IOomKiller
    {
        /// <summary>The last victim's pid (0 if none yet), for tests and the simulator.</summary>
        public int LastVictim;
        /// <summary>Set once the OOM killer panicked (panic_on_oom, or nothing left to kill); the machine is dead.</summary>
        public bool Panicked;
        private bool _oomLock;

        /// <summary>
        /// The badness function select_bad_process() ranks killable processes with (set-up only);
        /// null is Linux's oom_badness. docs/reclaim-and-oom.md, "OOM policies".
        /// </summary>
        public IOomPolicy Policy;

        private readonly PageAllocator _pa;
        private readonly ProcessTable _procs;
        private readonly ISwapDevice _swap;
        private readonly ProcessMemory _memory;
        private readonly OomReaper _reaper;
        private readonly bool _panicOnOom, _killAllocatingTask, _useReaper;

        /// <summary>
        /// The OOM killer over the processes of <paramref name="procs"/>: vm.panic_on_oom,
        /// vm.oom_kill_allocating_task, and whether the oom_reaper takes a victim's memory at once
        /// (set-up only; swap may be null).
        /// </summary>
        public OomKiller(PageAllocator pa, ProcessTable procs, ISwapDevice swap, ProcessMemory memory, OomReaper reaper,
            bool panicOnOom, bool killAllocatingTask, bool useReaper)
        {
            _pa = pa;
            _procs = procs;
            _swap = swap;
            _memory = memory;
            _reaper = reaper;
            _panicOnOom = panicOnOom;
            _killAllocatingTask = killAllocatingTask;
            _useReaper = useReaper;
        }

        /// <summary>totalpages for the OOM killer: managed RAM plus swap (CONSTRAINT_NONE).</summary>
        public ulong TotalPages => _pa.TotalManagedPages + (_swap == null ? 0 : _swap.Slots - 1);

        /// <summary>True for the tasks the OOM killer never chooses: global init, kernel threads, free slots and zombies (oom_unkillable_task).</summary>
        public static bool OomUnkillableTask(ref Process t)
        {
            if (t.State == ProcessState.Unused || t.State == ProcessState.Zombie) return true;
            if (t.Pid == ProcessTable.InitPid) return true;
            return (t.Flags & TaskFlags.KernelThread) != 0;
        }

        /// <summary>
        /// oom_badness(): 0 for an unkillable task or oom_score_adj -1000; otherwise
        /// rss + swap entries + page-table pages, plus oom_score_adj in thousandths of
        /// totalpages (Linux: adj *= totalpages / 1000), and never less than 1.
        /// </summary>
        public static ulong OomBadness(ref Process t, ulong totalpages) => OomBadnessScaled(ref t, (long)(totalpages / 1000));

        /// <summary>oom_badness with totalpages / 1000 already divided out (one division per table walk, not per task).</summary>
        private static ulong OomBadnessScaled(ref Process t, long pagesPerAdj)
        {
            if (OomUnkillableTask(ref t)) return 0;
            long adj = t.OomScoreAdj;
            // oom_score_adj -1000, or already reaped (MMF_OOM_SKIP): never chosen.
            if (adj == ProcessTable.OomScoreAdjMin || (t.Flags & TaskFlags.OomSkip) != 0) return 0;
            long points = (long)(t.RssAnon + t.RssFile + t.SwapEnts + t.NrPtes);
            adj *= pagesPerAdj;
            points += adj;
            return points > 0 ? (ulong)points : 1;
        }

        /// <summary>The policy's points for <paramref name="t"/>, after the rules no policy may change (unkillable, adj -1000, reaped: 0).</summary>
        private ulong PolicyBadness(ref Process t, ulong totalpages)
        {
            if (OomUnkillableTask(ref t)) return 0;
            if (t.OomScoreAdj == ProcessTable.OomScoreAdjMin || (t.Flags & TaskFlags.OomSkip) != 0) return 0;
            return Policy.Badness(ref t, totalpages);
        }

        /// <summary>/proc/PID/oom_score: oom_badness × 1000 / totalpages; -1 for an unknown pid.</summary>
        public long OomScore(int pid)
        {
            if (!_procs.Exists(pid)) return -1;
            ulong total = TotalPages;
            if (total == 0) return 0;
            ref Process t = ref _procs.Get(pid);
            ulong points = Policy == null ? OomBadness(ref t, total) : PolicyBadness(ref t, total);
            return (long)(points * 1000 / total);
        }

        /// <summary>
        /// select_bad_process() / oom_evaluate_task(): walks the table once. A task the
        /// oom_reaper has reaped (MMF_OOM_SKIP) is skipped; a live victim (TIF_MEMDIE) not yet
        /// reaped aborts the scan (wait for it); a task already exiting is chosen at once;
        /// otherwise the highest oom_badness wins (the first one on ties).
        /// </summary>
        public OomScan SelectBadProcess(ulong totalpages, out int victimPid, out ulong victimPoints)
        {
            victimPid = 0;
            victimPoints = 0;
            long pagesPerAdj = (long)(totalpages / 1000);
            for (int s = 0; s < _procs.Capacity; s++)
            {
                ref Process t = ref _procs.At(s);
                if (OomUnkillableTask(ref t)) continue;
                if ((t.Flags & TaskFlags.OomSkip) != 0) continue;      // reaped: its memory is already back
                if ((t.Flags & TaskFlags.MemDie) != 0) { victimPid = t.Pid; return OomScan.Abort; }
                if ((t.Flags & TaskFlags.Exiting) != 0 && t.OomScoreAdj != ProcessTable.OomScoreAdjMin)
                {
                    victimPid = t.Pid;
                    victimPoints = 0xFFFFFFFFFFFFFFFFUL;   // "ULONG_MAX": chosen first
                    return OomScan.Chosen;
                }
                ulong points = Policy == null ? OomBadnessScaled(ref t, pagesPerAdj) : PolicyBadness(ref t, totalpages);
                if (points == 0 || points <= victimPoints) continue;
                victimPid = t.Pid;
                victimPoints = points;
            }
            return victimPid == 0 ? OomScan.NoVictim : OomScan.Chosen;
        }

        /// <summary>
        /// out_of_memory(): one OOM at a time. An exiting allocating task just gets the
        /// reserves; panic_on_oom panics; oom_kill_allocating_task kills the caller if it is
        /// killable; otherwise select_bad_process decides: wait for an earlier victim, kill
        /// the chosen one, or panic when nothing is killable. After a kill the caller sleeps a
        /// tick (schedule_timeout_killable) so the victim can exit. True = progress to retry.
        /// </summary>
        public bool OutOfMemory(ref TaskContext current, Gfp gfp, int order, ZoneType highZoneIdx)
        {
            if (Panicked) return false;
            if (_oomLock) return true;                  // another OOM kill is in progress
            _oomLock = true;
            bool progress = OutOfMemoryLocked(ref current, gfp, order);
            _oomLock = false;
            return progress;
        }

        /// <summary>out_of_memory's body, run with the OOM lock held; true = progress (a kill, a wait or reserves given).</summary>
        private bool OutOfMemoryLocked(ref TaskContext current, Gfp gfp, int order)
        {
            int cur = current.Pid;
            bool curKnown = cur > 0 && _procs.Exists(cur);
            if (curKnown)
            {
                ref Process ct = ref _procs.Get(cur);
                if (!OomUnkillableTask(ref ct) && (ct.State == ProcessState.Exiting || (ct.Flags & TaskFlags.Exiting) != 0))
                {
                    // task_will_free_mem(current): let it use the reserves and finish exiting
                    // (and queue_oom_reaper(current): its memory comes back at once).
                    MarkOomVictim(cur, ref current);
                    if (_useReaper) _reaper.Reap(cur);
                    return true;
                }
            }
            ulong total = TotalPages;
            DumpHeader(ref current, gfp, order);
            if (_panicOnOom)
            {
                Panic("Out of memory: system-wide panic_on_oom is enabled");
                return false;
            }
            if (_killAllocatingTask && curKnown && OomBadness(ref _procs.Get(cur), total) != 0)
            {
                OomKillProcess(cur, ref current, "Out of memory (oom_kill_allocating_task)");
                return true;
            }
            OomScan scan = SelectBadProcess(total, out int victim, out ulong points);
            if (scan == OomScan.Abort)
            {
                WaitForVictim(ref current, victim);
                return true;
            }
            if (scan == OomScan.NoVictim)
            {
                Panic("Out of memory and no killable processes...");
                return false;
            }
            if ((_procs.Get(victim).Flags & TaskFlags.Exiting) != 0)
            {
                // Already exiting: no need to kill or alarm anyone, just give it the reserves.
                MarkOomVictim(victim, ref current);
                if (_useReaper) _reaper.Reap(victim);
                else if (victim != current.Pid) WaitForVictim(ref current, victim);
                return true;
            }
            OomKillProcess(victim, ref current, "Out of memory");
            return true;
        }

        /// <summary>mark_oom_victim(): TIF_MEMDIE on the task (and on "current" when it is the victim) gives it the reserves.</summary>
        private void MarkOomVictim(int pid, ref TaskContext current)
        {
            ref Process t = ref _procs.Get(pid);
            t.Flags |= TaskFlags.MemDie;
            if (t.State != ProcessState.Zombie) t.State = ProcessState.Exiting;
            if (current.Pid == pid) current.Flags |= TaskFlags.MemDie;
            LastVictim = pid;
        }

        /// <summary>
        /// oom_kill_process(): logs "&lt;message&gt;: Killed process ...", sends SIGKILL (the task
        /// is Exiting from now on) with TIF_MEMDIE, counts oom_kill. With the oom_reaper the
        /// victim's memory is reaped at once and the caller retries without sleeping (Linux 4.19+:
        /// no sleep under oom_lock); without it, time passes so the victim can exit (4.x).
        /// </summary>
        private void OomKillProcess(int pid, ref TaskContext current, string message)
        {
            ref Process t = ref _procs.Get(pid);
            ITextSink log = _pa.Log;
            TextFormat.Write(log, message);
            TextFormat.Write(log, ": Killed process ");
            TextFormat.Dec(log, (ulong)t.Pid);
            TextFormat.Write(log, " (");
            TextFormat.Write(log, t.Comm);
            TextFormat.Write(log, ") total-vm:");
            TextFormat.Dec(log, (t.TotalVm + t.RssFile) * (MmConstants.PageSize / 1024));
            TextFormat.Write(log, "kB, anon-rss:");
            TextFormat.Dec(log, t.RssAnon * (MmConstants.PageSize / 1024));
            TextFormat.Write(log, "kB, file-rss:");
            TextFormat.Dec(log, t.RssFile * (MmConstants.PageSize / 1024));
            TextFormat.Write(log, "kB\n");
            MarkOomVictim(pid, ref current);
            _pa.Stat.OomKill++;
            if (_pa.Events != null) ReportKill(ref t);
            if (_useReaper) _reaper.Reap(pid);
            else if (pid != current.Pid) WaitForVictim(ref current, pid);
        }

        /// <summary>Tells the event hook about the kill of <paramref name="t"/>, with what it held.</summary>
        private void ReportKill(ref Process t)
        {
            OomKill e = default;
            e.Pid = t.Pid;
            e.Comm = t.Comm;
            e.RssAnon = t.RssAnon;
            e.RssFile = t.RssFile;
            e.SwapEnts = t.SwapEnts;
            _pa.Events.OomKilled(e);
        }

        /// <summary>
        /// schedule_timeout_killable(1): gives the victim a tick to exit. With no scheduler
        /// (no congestion hook) the killer reaps the victim itself, as the oom_reaper would.
        /// </summary>
        private void WaitForVictim(ref TaskContext current, int victim)
        {
            if (_pa.Congestion != null) _pa.CongestionWait(ref current, 1);   // skipped under the no-sleep scope
            else if (_procs.Exists(victim) && victim != current.Pid) _memory.ExitProcess(victim);
        }

        /// <summary>dump_header(): "&lt;comm&gt; invoked oom-killer: gfp_mask=0x.., order=N, oom_score_adj=N".</summary>
        private void DumpHeader(ref TaskContext current, Gfp gfp, int order)
        {
            ITextSink log = _pa.Log;
            if (log == null) return;
            TextFormat.Write(log, current.Comm == null ? "?" : current.Comm);
            TextFormat.Write(log, " invoked oom-killer: gfp_mask=0x");
            TextFormat.Hex(log, (ulong)gfp);
            TextFormat.Write(log, ", order=");
            TextFormat.Dec(log, (ulong)order);
            TextFormat.Write(log, ", oom_score_adj=");
            long adj = current.Pid > 0 && _procs.Exists(current.Pid) ? _procs.Get(current.Pid).OomScoreAdj : 0;
            TextFormat.Signed(log, adj);
            TextFormat.Write(log, "\n");
        }

        /// <summary>
        /// panic(): the message goes to the log, the machine is marked dead (Panicked) and the
        /// panic handler is called: in the kernel it never returns (report, PANIC frame, halt).
        /// </summary>
        private void Panic(string why)
        {
            TextFormat.Write(_pa.Log, "Kernel panic - not syncing: ");
            TextFormat.Write(_pa.Log, why);
            TextFormat.Write(_pa.Log, "\n");
            Panicked = true;
            IPanicHandler h = _pa.PanicHandler;
            if (h != null) h.Panic(why);
        }
    }
}
