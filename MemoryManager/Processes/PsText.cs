using MemoryManager.Core;

namespace MemoryManager.Processes
{
    /// <summary>
    /// The `ps` table as the kernel's shell prints it (docs/shell.md), shared with the host simulator so that
    /// both speak the same units: rss and swap in kB, oom_score and oom_score_adj as /proc shows them.
    /// </summary>
    public static class PsText
    {
        public const string Header = "  PID STATE    TASK       RSS_KB  SWAP_KB OOM_SCORE OOM_SCORE_ADJ COMMAND";

        public static string StateName(ProcessState s) => s switch
        {
            ProcessState.Running => "running",
            ProcessState.Sleeping => "sleeping",
            ProcessState.Exiting => "exiting",
            ProcessState.Zombie => "zombie",
            _ => "unused",
        };

        /// <summary>
        /// One row (without the line end): <paramref name="state"/> is the process's state word (a kswapd thread's is
        /// its kswapd state), <paramref name="task"/> what runs it (the kernel's scheduler task state, '-' for none).
        /// </summary>
        public static void Row(ITextSink o, ref Process t, string state, string task, long oomScore)
        {
            bool kthread = (t.Flags & TaskFlags.KernelThread) != 0;
            TextFormat.Dec(o, (ulong)t.Pid, 5); o.Write(' ');
            TextFormat.Left(o, state, 8); o.Write(' ');
            TextFormat.Left(o, task, 9);
            TextFormat.Dec(o, (t.RssAnon + t.RssFile) * 4, 9);
            TextFormat.Dec(o, t.SwapEnts * 4, 9);
            TextFormat.Signed(o, oomScore, 10);
            TextFormat.Signed(o, t.OomScoreAdj, 14);
            o.Write(' ');
            if (kthread) o.Write('[');
            o.Write(t.Comm);
            if (kthread) o.Write(']');
        }
    }
}
