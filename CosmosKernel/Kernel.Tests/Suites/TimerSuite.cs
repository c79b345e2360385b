using Kernel.Hal;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>The TSC and its calibration against the PIT.</summary>
    public sealed unsafe class TimerSuite : TestSuite
    {
        public TimerSuite() : base("timer", AnyMemory, null)
        {
            Add("The_time_stamp_counter_only_moves_forward", &The_time_stamp_counter_only_moves_forward);
            Add("Calibration_found_a_plausible_TSC_rate", &Calibration_found_a_plausible_TSC_rate);
            Add("A_PIT_window_agrees_with_the_calibrated_rate", &A_PIT_window_agrees_with_the_calibrated_rate);
            Add("Cycles_convert_to_microseconds", &Cycles_convert_to_microseconds);
        }

        private static void The_time_stamp_counter_only_moves_forward(Assert a)
        {
            ulong previous = Timer.Cycles;
            bool forward = true;
            for (int i = 0; i < 1000; i++)
            {
                ulong now = Timer.Cycles;
                if (now < previous) forward = false;
                previous = now;
            }
            a.True(forward, "1000 successive reads never go back");
            a.True(Timer.Cycles > previous, "later read is larger");
        }

        private static void Calibration_found_a_plausible_TSC_rate(Assert a)
            => a.InRange(Timer.TscHz, 10_000_000UL, 100_000_000_000UL, "TSC Hz");

        private static void A_PIT_window_agrees_with_the_calibrated_rate(Assert a)
        {
            // A window of half the calibration length must take about half the calibrated cycles;
            // The bounds are a factor of 10 either way: under TCG both clocks follow the host's,
            // and a host busy with other work stalls the guest during calibration or during
            // this window (a factor of 3 failed on a loaded 2-core machine). A wrong unit or
            // scale in the calibration is still caught.
            ulong cycles = Timer.MeasurePitWindow(Timer.CalibrationTicks / 2);
            ulong expected = Timer.TscHz / 200; // 5 ms
            a.InRange(cycles, expected / 10, expected * 10, "TSC cycles in a 5 ms PIT window");
        }

        private static void Cycles_convert_to_microseconds(Assert a)
        {
            a.Equal(1_000_000UL, Timer.CyclesToMicroseconds(Timer.TscHz / 1000 * 1000), "one second of cycles");
            a.Equal(0UL, Timer.CyclesToMicroseconds(0), "zero");
        }
    }
}
