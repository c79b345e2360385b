using Kernel.Core.Plugs;
using Kernel.Proc;
using MemoryManager.Processes;

namespace Kernel.Plugs.OomPolicyTemplate
{
    /// <summary>
    /// A working OOM policy to start from, deliberately simple: a process is as bad as the pages
    /// it has resident (anonymous and file). It ignores swap entries, page tables and
    /// oom_score_adj (the OOM killer still never chooses a -1000 process: that rule is not the
    /// policy's). Replace <see cref="Badness"/> with your own; keep both members, same names and
    /// signatures. What a process offers: <see cref="Process"/> (RssAnon, RssFile, SwapEnts,
    /// NrPtes, TotalVm, OomScoreAdj, Pid, Comm). Kernel C# rules apply: no `new` here.
    /// </summary>
    [Plug(Target = typeof(OomPolicy))]
    public static class TemplateOomPolicy
    {
        public static string Name => "template: resident pages";

        public static ulong Badness(ref Process t, ulong totalpages) => t.RssAnon + t.RssFile;
    }
}
