using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Sched;
using MemoryManager;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Trace;
using KTask = Kernel.Sched.KTask;

namespace Kernel.Proc
{
    /// <summary>
    /// Memory over time (docs/memory-trace.md): the shell's <c>trace &lt;ticks&gt;</c> starts a kernel task that,
    /// every that many timer ticks, writes one sample of the memory manager's state (MemoryManager/Trace:
    /// per zone free/min/low/high/managed/pcp, kswapd's state, reclaim counters, swap used, each process's rss and
    /// swap, the OOM kills since the last sample) as a <c>SAMPLE</c> frame. Frames are kept in a buffer
    /// and sent only where a line starts on COM1 (<see cref="Serial.AtLineStart"/>): by the sampler right
    /// after it samples, and by the shell before each READY and before it halts, so a frame never cuts
    /// a console line in two. The task is driven by the tick alone, so under --deterministic the samples
    /// are the same on every run. What it costs (TSC cycles: instructions under --deterministic, and
    /// bytes on the wire) is counted and printed by <c>trace</c>.
    /// </summary>
    public sealed unsafe class TraceSampler : ITaskBody
    {
        public const ulong MaxTicks = 6000;
        /// <summary>Pending frames are kept in this many pages (64 KiB); a sample that does not fit is dropped and counted.</summary>
        public const ulong BufferPages = 16;
        private const int ScratchBytes = 4096;

        private static TraceSampler s_sampler;
        private static KTask s_task;
        private static byte* s_buffer;
        private static int s_used;
        private static int s_capacity;
        private static TraceKills s_kills;
        private static BufferSink s_scratch;

        /// <summary>Ticks between samples (0: off).</summary>
        public static ulong Every;
        public static ulong Samples, Missed, Dropped, FramesSent, BytesSent, SampleCycles, SendCycles;

        public static bool IsOn => s_task != null;

        /// <summary>
        /// Starts sampling every <paramref name="ticks"/> ticks (or changes the period). Null, or why not:
        /// no process layer, no memory for the buffer, no task slot.
        /// </summary>
        public static string Start(ulong ticks)
        {
            Vm vm = Processes.Vm;
            if (vm == null) return Processes.UnavailableReason;
            if (s_buffer == null)
            {
                byte* buffer = (byte*)Heap.AllocPages(BufferPages);
                byte* scratch = buffer == null ? null : (byte*)Heap.AllocPages(1);
                if (scratch == null)
                {
                    if (buffer != null) Heap.FreePages(buffer);
                    return "no memory for the trace buffers (64 KiB and 4 KiB)";
                }
                s_scratch = new BufferSink();
                s_scratch.Data = scratch;
                s_scratch.Capacity = ScratchBytes;
                s_kills = new TraceKills();
                s_capacity = (int)(BufferPages * MmConstants.PageSize);
                s_buffer = buffer;
            }
            Every = ticks;
            if (s_task != null) return null;
            s_sampler ??= new TraceSampler();
            s_task = Scheduler.Spawn("trace", s_sampler, 16 * 1024);
            if (s_task == null) { Every = 0; return "the scheduler's task table is full"; }
            return null;
        }

        /// <summary>Stops sampling; pending frames are sent first where a line starts.</summary>
        public static void Stop()
        {
            if (s_task != null) Scheduler.Kill(s_task);
            s_task = null;
            Every = 0;
            Flush();
        }

        /// <summary>The OOM killer chose <paramref name="e"/> (called from the kernel's IMmEvents hook; allocates nothing).</summary>
        public static void OomKilled(OomKill e)
        {
            if (s_kills != null && s_task != null) s_kills.Record(Timer.Jiffies, e.Pid, e.Comm);
        }

        /// <summary>Sends the pending frames if COM1 is at the start of a line (else they wait for the next chance).</summary>
        public static void Flush()
        {
            if (s_used == 0 || !Serial.AtLineStart) return;
            ulong start = Timer.Cycles;
            for (int i = 0; i < s_used; i++) Serial.WriteByte(s_buffer[i]);
            BytesSent += (ulong)s_used;
            s_used = 0;
            SendCycles += Timer.Cycles - start;
        }

        /// <summary>Frames written into the buffer and not sent yet.</summary>
        public static int PendingBytes => s_used;

        public void Run(KTask self)
        {
            ulong next = Timer.Jiffies;
            while (!self.ShouldExit && Every != 0)
            {
                ulong now = Timer.Jiffies;
                if (now < next)
                {
                    if (!Scheduler.Sleep(next - now)) break;
                    continue;
                }
                Sample(now);
                Flush();
                next += Every;
                while (next <= now) { next += Every; Missed++; }
            }
        }

        /// <summary>Formats one sample into the scratch page and appends it, framed, to the buffer.</summary>
        private static void Sample(ulong tick)
        {
            ulong start = Timer.Cycles;
            Vm vm = Processes.Vm;
            s_scratch.Length = 0;
            s_scratch.Overflowed = false;
            TraceSample.Write(s_scratch, vm, tick, Timer.TickHz == 0 ? Timer.DefaultTickHz : Timer.TickHz, s_kills);
            int payload = s_scratch.Length;
            // "#KT1 SAMPLE " + LEN + " " + payload + "\n"
            int lenDigits = payload < 10 ? 1 : payload < 100 ? 2 : payload < 1000 ? 3 : 4;
            int frame = 5 + TraceSample.FrameKind.Length + 1 + lenDigits + 1 + payload + 1;
            if (s_scratch.Overflowed || s_used + frame > s_capacity) { Dropped++; SampleCycles += Timer.Cycles - start; return; }
            Put(HostProtocol.Magic);
            Put(TraceSample.FrameKind);
            s_buffer[s_used++] = (byte)' ';
            PutDecimal((ulong)payload);
            s_buffer[s_used++] = (byte)' ';
            for (int i = 0; i < payload; i++) s_buffer[s_used++] = s_scratch.Data[i];
            s_buffer[s_used++] = (byte)'\n';
            Samples++;
            FramesSent++;
            SampleCycles += Timer.Cycles - start;
        }

        private static void Put(string s)
        {
            for (int i = 0; i < s.Length; i++) s_buffer[s_used++] = (byte)s[i];
        }

        private static void PutDecimal(ulong v)
        {
            char* buf = stackalloc char[24];
            int n = System.Number.WriteDigits(v, buf + 24);
            for (int i = 24 - n; i < 24; i++) s_buffer[s_used++] = (byte)buf[i];
        }

        /// <summary>An ITextSink into raw memory: printable ASCII and TAB as they are, anything else as '?'; text past the capacity sets <see cref="Overflowed"/>.</summary>
        private sealed class BufferSink : ITextSink
        {
            public byte* Data;
            public int Capacity, Length;
            public bool Overflowed;

            public void Write(string s)
            {
                for (int i = 0; i < s.Length; i++) Write(s[i]);
            }

            public void Write(char c)
            {
                if (Length >= Capacity) { Overflowed = true; return; }
                Data[Length++] = (c >= ' ' && c <= '~') || c == '\t' ? (byte)c : (byte)'?';
            }
        }
    }
}
