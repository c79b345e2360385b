using MemoryManager.Processes;

namespace MemoryManager.Oom
{
    /// <summary>
    /// The part of select_bad_process() a course may replace: how bad a killable process is.
    /// The OOM killer applies its own rules first and never asks about the rest: init, kernel
    /// threads, zombies and free slots (oom_unkillable_task), oom_score_adj -1000, a victim the
    /// oom_reaper already reaped (MMF_OOM_SKIP), a live victim still exiting (the scan waits) and
    /// an exiting task (chosen at once). Of the processes left, the highest score is chosen (the
    /// first one on ties); 0 means "never this one". Called with no allocation allowed: a policy
    /// reads the process and returns a number.
    /// </summary>
    public interface IOomPolicy
    {
        /// <summary>The points of killable process <paramref name="t"/> when the machine has <paramref name="totalpages"/> (RAM plus swap).</summary>
        ulong Badness(ref Process t, ulong totalpages);
    }

    /// <summary>Linux's policy: oom_badness() (rss + swap entries + page tables, plus oom_score_adj in thousandths of totalpages).</summary>
    public sealed class LinuxOomPolicy : IOomPolicy
    {
        public ulong Badness(ref Process t, ulong totalpages) => OomKiller.OomBadness(ref t, totalpages);
    }
}
