using MemoryManager.Oom;
using MemoryManager.Processes;

namespace Kernel.Proc
{
    /// <summary>
    /// The kernel's OOM-policy seam: the badness function the OOM killer ranks killable processes
    /// with (MemoryManager's <see cref="IOomPolicy"/>, docs/reclaim-and-oom.md "OOM policies").
    /// By default Linux's oom_badness. A plug replaces both members at build time
    /// (`-p:KernelOomPlug=path/to/Policy.csproj`, docs/plugs.md "An OOM policy plug"); the
    /// OOM killer's own rules (init, kernel threads, oom_score_adj -1000, reaped or exiting
    /// victims) still apply before the plug is asked.
    /// </summary>
    public static class OomPolicy
    {
        /// <summary>The policy's name, printed at boot and by `oom_policy`.</summary>
        public static string Name => "oom_badness";

        /// <summary>Points of killable process <paramref name="t"/> (0: never this one); <paramref name="totalpages"/> is RAM plus swap.</summary>
        public static ulong Badness(ref Process t, ulong totalpages) => OomKiller.OomBadness(ref t, totalpages);
    }

    /// <summary>Hands the OOM killer's question to <see cref="OomPolicy"/> (whatever plug replaced it).</summary>
    internal sealed class KernelOomPolicy : IOomPolicy
    {
        public ulong Badness(ref Process t, ulong totalpages) => OomPolicy.Badness(ref t, totalpages);
    }
}
