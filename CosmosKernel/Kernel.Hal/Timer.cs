using System.Runtime;
using System.Runtime.CompilerServices;
using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>
    /// Time from the TSC, calibrated against PIT channel 2 (1.193182 MHz, polled), and the
    /// periodic tick: PIT channel 0 at <see cref="DefaultTickHz"/> raising IRQ0, counted in
    /// <see cref="Jiffies"/>. Under QEMU TCG all of them are emulated: compare times within one
    /// boot, not across boots.
    /// </summary>
    public static class Timer
    {
        /// <summary>The tick rate the kernel runs at (Linux's HZ=100): one jiffy is 10 ms.</summary>
        public const uint DefaultTickHz = 100;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_jiffies")]
        private static extern ulong ReadJiffies();

        private static uint s_tickHz;

        /// <summary>
        /// Programs PIT channel 0 as a rate generator (mode 2) at <paramref name="hz"/> and unmasks
        /// IRQ0. Needs <see cref="Interrupts.Init"/> first; ticks count once interrupts are enabled.
        /// </summary>
        public static void StartTick(uint hz)
        {
            uint divisor = (PitHz + hz / 2) / hz;
            if (divisor > 0xFFFF) divisor = 0xFFFF;
            if (divisor < 2) divisor = 2;
            Native.OutByte(0x43, 0x34);                            // channel 0, lo/hi byte, mode 2, binary
            Native.OutByte(0x40, (byte)(divisor & 0xFF));
            Native.OutByte(0x40, (byte)(divisor >> 8));
            s_tickHz = hz;
            Interrupts.Unmask(0);
        }

        /// <summary>IRQ0 ticks since boot (0 until the tick is started and interrupts enabled).</summary>
        public static ulong Jiffies => ReadJiffies();

        /// <summary>The tick rate set by <see cref="StartTick"/>, 0 before.</summary>
        public static uint TickHz => s_tickHz;

        /// <summary>Ticks covering at least <paramref name="ms"/> milliseconds (rounded up; 0 when the tick is off).</summary>
        public static ulong MillisecondsToTicks(ulong ms) => s_tickHz == 0 ? 0 : (ms * s_tickHz + 999) / 1000;

        public const uint PitHz = 1193182;
        /// <summary>PIT ticks in the calibration window (about 10 ms).</summary>
        public const ushort CalibrationTicks = 11932;

        private static ulong s_tscHz;
        private static ulong s_bootTsc;

        /// <summary>TSC cycles per second, once <see cref="Calibrate"/> ran (0 before).</summary>
        public static ulong TscHz => s_tscHz;

        /// <summary>The raw time-stamp counter.</summary>
        public static ulong Cycles => Native.ReadTimeStampCounter();

        /// <summary>Measures the TSC rate over a PIT window and remembers it.</summary>
        public static void Calibrate()
        {
            s_bootTsc = Cycles;
            ulong cycles = MeasurePitWindow(CalibrationTicks);
            s_tscHz = cycles * PitHz / CalibrationTicks;
            if (s_tscHz == 0) s_tscHz = 1;
        }

        /// <summary>
        /// TSC cycles that pass while PIT channel 2 counts down <paramref name="pitTicks"/>
        /// (mode 0, gate on, speaker off; OUT2 in port 0x61 bit 5 rises at zero).
        /// </summary>
        public static ulong MeasurePitWindow(ushort pitTicks)
        {
            byte control = Native.InByte(0x61);
            Native.OutByte(0x61, (byte)((control & 0xFC) | 0x01)); // gate on, speaker off
            Native.OutByte(0x43, 0xB0);                            // channel 2, lo/hi byte, mode 0, binary
            Native.OutByte(0x42, (byte)(pitTicks & 0xFF));
            Native.OutByte(0x42, (byte)(pitTicks >> 8));
            ulong start = Cycles;
            ulong spins = 0;
            while ((Native.InByte(0x61) & 0x20) == 0 && ++spins < 100_000_000) { }
            ulong end = Cycles;
            Native.OutByte(0x61, control);
            return end - start;
        }

        /// <summary>Microseconds that <paramref name="cycles"/> TSC cycles take.</summary>
        public static ulong CyclesToMicroseconds(ulong cycles) => s_tscHz == 0 ? 0 : cycles * 1000 / (s_tscHz / 1000);

        /// <summary>Microseconds since calibration (boot).</summary>
        public static ulong UptimeMicroseconds => CyclesToMicroseconds(Cycles - s_bootTsc);

        /// <summary>Spins for at least <paramref name="microseconds"/>.</summary>
        public static void SpinMicroseconds(ulong microseconds)
        {
            ulong target = Cycles + microseconds * (s_tscHz / 1000000);
            while (Cycles < target) Native.Pause();
        }
    }
}
