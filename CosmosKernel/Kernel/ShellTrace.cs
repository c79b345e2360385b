using Kernel.Hal;
using Kernel.Proc;

namespace Kernel
{
    public static unsafe partial class Shell
    {
        /// <summary>
        /// `trace &lt;ticks&gt;`: SAMPLE frames of the memory manager's state every that many ticks
        /// (docs/memory-trace.md); `trace off` stops them; `trace` says what the samples cost so far.
        /// </summary>
        private static void TraceCommand()
        {
            if (s_tokens == 2 && Is(1, "off"))
            {
                TraceSampler.Stop();
                Console.WriteLine("trace: off");
                TraceStatus();
                return;
            }
            if (s_tokens == 2)
            {
                NumberResult r = Number(1, 1, (long)TraceSampler.MaxTicks, out long ticks);
                if (r != NumberResult.Ok)
                {
                    Console.Write("trace: '"); WriteToken(1); Console.WriteLine("' is not a number of ticks in 1..6000 (or off)");
                    return;
                }
                string error = TraceSampler.Start((ulong)ticks);
                if (error != null) { Console.Write("trace: "); Console.WriteLine(error); return; }
                Console.Write("trace: a SAMPLE frame every "); Console.WriteDecimal((ulong)ticks);
                Console.Write(" tick(s) of "); Console.WriteDecimal(Timer.TickHz);
                Console.WriteLine(" Hz");
                return;
            }
            if (s_tokens != 1) { Console.WriteLine("usage: trace [<ticks 1..6000> | off]"); return; }
            TraceStatus();
        }

        private static void TraceStatus()
        {
            Console.Write("trace: ");
            if (TraceSampler.IsOn) { Console.Write("every "); Console.WriteDecimal(TraceSampler.Every); Console.Write(" tick(s), "); }
            else Console.Write("off, ");
            Console.WriteDecimal(TraceSampler.Samples); Console.Write(" sample(s) (");
            Console.WriteDecimal(TraceSampler.Missed); Console.Write(" missed, ");
            Console.WriteDecimal(TraceSampler.Dropped); Console.Write(" dropped), ");
            Console.WriteDecimal(TraceSampler.BytesSent); Console.WriteLine(" bytes sent");
            Console.Write("trace: cost "); Console.WriteDecimal(TraceSampler.SampleCycles);
            Console.Write(" cycles sampling, "); Console.WriteDecimal(TraceSampler.SendCycles);
            Console.Write(" cycles sending");
            if (TraceSampler.Samples > 0)
            {
                Console.Write(" ("); Console.WriteDecimal((TraceSampler.SampleCycles + TraceSampler.SendCycles) / TraceSampler.Samples);
                Console.Write(" per sample, "); Console.WriteDecimal(TraceSampler.BytesSent / TraceSampler.Samples);
                Console.Write(" bytes per sample)");
            }
            Console.WriteLine();
        }
    }
}
