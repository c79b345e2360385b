namespace MemoryManager.Core
{
    /// <summary>
    /// ratelimit_state and ___ratelimit() (lib/ratelimit.c): at most <see cref="Burst"/> messages
    /// per <see cref="IntervalSeconds"/>; the rest are counted as missed. The first message let
    /// through once the interval has run out reports the misses first, as
    /// "&lt;func&gt;: N callbacks suppressed". A zero interval lets everything through.
    /// </summary>
    public struct RateLimit
    {
        /// <summary>DEFAULT_RATELIMIT_INTERVAL: 5 * HZ.</summary>
        public const uint DefaultIntervalSeconds = 5;
        /// <summary>DEFAULT_RATELIMIT_BURST.</summary>
        public const int DefaultBurst = 10;

        public uint IntervalSeconds;
        public int Burst;
        /// <summary>Messages let through in the current interval.</summary>
        public int Printed;
        /// <summary>Messages held back in the current interval (not yet reported).</summary>
        public ulong Missed;
        /// <summary>Messages held back since boot (for vmstat).</summary>
        public ulong TotalMissed;
        private ulong _begin;
        private bool _started;

        public static RateLimit Default => new RateLimit { IntervalSeconds = DefaultIntervalSeconds, Burst = DefaultBurst };

        /// <summary>
        /// True if the caller may print now. With no clock the interval never runs out (the
        /// burst is all there is). When an interval with misses has run out, writes
        /// "<paramref name="func"/>: N callbacks suppressed" to <paramref name="log"/> first.
        /// </summary>
        public bool Allow(IClock clock, ITextSink log, string func)
        {
            if (IntervalSeconds == 0) return true;
            ulong now = clock != null ? clock.Ticks : 0;
            ulong interval = (ulong)IntervalSeconds * (clock != null ? clock.Hz : 100);
            if (!_started) { _started = true; _begin = now; }
            if (now - _begin > interval)
            {
                if (Missed != 0 && log != null)
                {
                    log.Write(func);
                    log.Write(": ");
                    TextFormat.Dec(log, Missed);
                    log.Write(" callbacks suppressed\n");
                }
                Missed = 0;
                Printed = 0;
                _begin = now;
            }
            if (Burst > Printed) { Printed++; return true; }
            Missed++;
            TotalMissed++;
            return false;
        }
    }
}
