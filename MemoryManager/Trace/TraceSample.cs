using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;

namespace MemoryManager.Trace
{
    /// <summary>
    /// The OOM kills since the last sample: the caller's IMmEvents.OomKilled hook records each one,
    /// <see cref="TraceSample.Write"/> lists them and empties the log. Set up once (its arrays are
    /// made here); recording allocates nothing, so it may run inside the OOM path.
    /// </summary>
    public sealed class TraceKills
    {
        /// <summary>Kills one sample can list; more within one sample period are counted in <see cref="Dropped"/>.</summary>
        public const int Capacity = 16;

        private readonly ulong[] _tick = new ulong[Capacity];
        private readonly int[] _pid = new int[Capacity];
        private readonly string[] _comm = new string[Capacity];
        private int _count;

        /// <summary>Kills that did not fit in the log (never listed in a sample).</summary>
        public ulong Dropped;

        public int Count => _count;

        /// <summary>Records the OOM killer's victim <paramref name="pid"/> (<paramref name="comm"/>) at clock tick <paramref name="tick"/>.</summary>
        public void Record(ulong tick, int pid, string comm)
        {
            if (_count == Capacity) { Dropped++; return; }
            _tick[_count] = tick;
            _pid[_count] = pid;
            _comm[_count] = comm;
            _count++;
        }

        public ulong TickAt(int i) => _tick[i];
        public int PidAt(int i) => _pid[i];
        public string CommAt(int i) => _comm[i];

        public void Clear()
        {
            for (int i = 0; i < _count; i++) _comm[i] = null;
            _count = 0;
        }
    }

    /// <summary>
    /// One sample of memory over time, as the payload of a <c>SAMPLE</c> frame (docs/memory-trace.md).
    /// The kernel and the host simulator both write it with this code, so the runner's parser, CSV and
    /// plot take both. Six fields separated by TAB:
    /// <code>
    /// tick/hz
    /// zones:     nid zone free min low high managed pcp   (pages; one entry per populated zone, ';' between)
    /// nodes:     nid kswapd-state                          (sleeping, running or napping; ';' between)
    /// counters:  pgscan_kswapd pgscan_direct pgsteal_kswapd pgsteal_direct allocstall oom_kill swap_used kswapd_wakes
    /// processes: pid comm rss_kb swap_kb                   (every process but init and kernel threads; ';' between)
    /// kills:     tick pid comm                             (OOM kills since the previous sample; ';' between; may be empty)
    /// </code>
    /// Counters are cumulative since boot (swap_used in pages is a level). A comm is written with every
    /// character outside letters, digits, '_', '-' and '.' as '_', so it is one word.
    /// </summary>
    public static class TraceSample
    {
        /// <summary>The frame kind that carries a sample.</summary>
        public const string FrameKind = "SAMPLE";

        public static string KswapdStateName(KswapdState s) => s == KswapdState.Sleeping ? "sleeping" : s == KswapdState.Running ? "running" : "napping";

        /// <summary>Writes the payload for the machine <paramref name="vm"/> at clock tick <paramref name="tick"/>, then empties <paramref name="kills"/>.</summary>
        public static void Write(ITextSink o, Vm vm, ulong tick, uint hz, TraceKills kills)
        {
            PageAllocator pa = vm.Pa;
            TextFormat.Dec(o, tick); o.Write('/'); TextFormat.Dec(o, hz);
            o.Write('\t');
            bool first = true;
            for (int i = 0; i < pa.ZoneCount; i++)
            {
                ref Zone z = ref pa.ZoneAt(i);
                if (z.ManagedPages == 0) continue;
                if (!first) o.Write(';');
                first = false;
                TextFormat.Dec(o, (ulong)z.Nid); o.Write(' ');
                o.Write(z.Name); o.Write(' ');
                TextFormat.Signed(o, z.NrFree); o.Write(' ');
                TextFormat.Signed(o, z.WatermarkMin); o.Write(' ');
                TextFormat.Signed(o, z.WatermarkLow); o.Write(' ');
                TextFormat.Signed(o, z.WatermarkHigh); o.Write(' ');
                TextFormat.Dec(o, z.ManagedPages); o.Write(' ');
                TextFormat.Signed(o, z.Pcp.Count);
            }
            o.Write('\t');
            for (int n = 0; n < pa.NodeCount; n++)
            {
                if (n > 0) o.Write(';');
                TextFormat.Dec(o, (ulong)n); o.Write(' ');
                o.Write(KswapdStateName(vm.Nodes[n].Kswapd.State));
            }
            o.Write('\t');
            VmStat s = pa.Stat;
            TextFormat.Dec(o, s.PgscanKswapd); o.Write(' ');
            TextFormat.Dec(o, s.PgscanDirect); o.Write(' ');
            TextFormat.Dec(o, s.PgstealKswapd); o.Write(' ');
            TextFormat.Dec(o, s.PgstealDirect); o.Write(' ');
            TextFormat.Dec(o, s.Allocstall); o.Write(' ');
            TextFormat.Dec(o, s.OomKill); o.Write(' ');
            ulong swapUsed = vm.Swap == null ? 0 : vm.Swap.Slots - 1 - vm.Swap.FreeSlots;
            TextFormat.Dec(o, swapUsed); o.Write(' ');
            TextFormat.Dec(o, vm.Kswapd.Wakes);
            o.Write('\t');
            first = true;
            for (int slot = 0; slot < vm.Procs.Capacity; slot++)
            {
                ref Process t = ref vm.Procs.At(slot);
                if (t.State == ProcessState.Unused || t.Pid == ProcessTable.InitPid || (t.Flags & TaskFlags.KernelThread) != 0) continue;
                if (!first) o.Write(';');
                first = false;
                TextFormat.Dec(o, (ulong)t.Pid); o.Write(' ');
                WriteWord(o, t.Comm); o.Write(' ');
                TextFormat.Dec(o, (t.RssAnon + t.RssFile) * 4); o.Write(' ');
                TextFormat.Dec(o, t.SwapEnts * 4);
            }
            o.Write('\t');
            for (int i = 0; kills != null && i < kills.Count; i++)
            {
                if (i > 0) o.Write(';');
                TextFormat.Dec(o, kills.TickAt(i)); o.Write(' ');
                TextFormat.Dec(o, (ulong)kills.PidAt(i)); o.Write(' ');
                WriteWord(o, kills.CommAt(i));
            }
            if (kills != null) kills.Clear();
        }

        /// <summary>A name as one word: letters, digits, '_', '-' and '.' as they are, anything else as '_' ("?" when empty).</summary>
        private static void WriteWord(ITextSink o, string s)
        {
            if (s == null || s.Length == 0) { o.Write('?'); return; }
            for (int i = 0; i < s.Length; i++)
            {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                o.Write(ok ? c : '_');
            }
        }
    }
}
