using MemoryManager;
using MemoryManager.Core;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>ratelimit_state / ___ratelimit(): the rule every rate-limited kernel message keeps.</summary>
    public sealed class RateLimitTests
    {
        private sealed class StepClock : IClock
        {
            public ulong Ticks { get; set; }
            public uint Hz => 100;
        }

        [Fact]
        public void The_default_is_Linuxs_ten_messages_per_five_seconds()
        {
            RateLimit rl = RateLimit.Default;
            Assert.Equal(10, rl.Burst);
            Assert.Equal(5u, rl.IntervalSeconds);
        }

        [Fact]
        public void Within_one_interval_only_the_burst_passes_and_the_rest_are_counted_as_missed()
        {
            var clock = new StepClock { Ticks = 1000 };
            var log = new StringSink();
            RateLimit rl = new RateLimit { IntervalSeconds = 5, Burst = 3 };
            int allowed = 0;
            for (int i = 0; i < 8; i++) if (rl.Allow(clock, log, "f")) allowed++;
            Assert.Equal(3, allowed);
            Assert.Equal(5UL, rl.Missed);
            Assert.Equal(5UL, rl.TotalMissed);
            Assert.Equal("", log.ToString());
        }

        [Fact]
        public void The_first_message_after_the_interval_reports_the_misses_under_the_callers_name_once()
        {
            var clock = new StepClock();
            var log = new StringSink();
            RateLimit rl = new RateLimit { IntervalSeconds = 1, Burst = 1 };
            rl.Allow(clock, log, "warn_alloc");
            rl.Allow(clock, log, "warn_alloc");
            rl.Allow(clock, log, "warn_alloc");
            clock.Ticks = 101;
            Assert.True(rl.Allow(clock, log, "warn_alloc"));
            Assert.Equal("warn_alloc: 2 callbacks suppressed\n", log.ToString());
            Assert.Equal(0UL, rl.Missed);
            Assert.Equal(2UL, rl.TotalMissed);
            clock.Ticks = 300;
            Assert.True(rl.Allow(clock, log, "warn_alloc"));            // nothing missed in between: no line
            Assert.Equal("warn_alloc: 2 callbacks suppressed\n", log.ToString());
        }

        [Fact]
        public void A_zero_interval_lets_everything_through()
        {
            RateLimit rl = new RateLimit { IntervalSeconds = 0, Burst = 1 };
            for (int i = 0; i < 100; i++) Assert.True(rl.Allow(null, null, "f"));
            Assert.Equal(0UL, rl.TotalMissed);
        }

        [Fact]
        public void Without_a_clock_the_interval_never_ends_and_only_the_burst_passes()
        {
            RateLimit rl = new RateLimit { IntervalSeconds = 5, Burst = 2 };
            int allowed = 0;
            for (int i = 0; i < 50; i++) if (rl.Allow(null, null, "f")) allowed++;
            Assert.Equal(2, allowed);
        }
    }
}
