using System;
using System.Diagnostics.CodeAnalysis;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// The kernel's last word. The HAL installs a reporter that prints the full report on every
    /// console; until then (or if the reporter itself fails) a bare report goes to COM1.
    /// Either way QEMU exits through isa-debug-exit with 0x12 and the CPU halts.
    /// </summary>
    public static unsafe class Panic
    {
        /// <summary>isa-debug-exit port and the byte meaning "kernel panic" (QEMU status 37).</summary>
        public const ushort DebugExitPort = 0xF4;
        public const byte PanicExitCode = 0x12;

        private static delegate*<string, void> s_reporter;
        private static int s_depth;

        /// <summary>Installs the function that prints a panic report (it should not return).</summary>
        public static void SetReporter(delegate*<string, void> reporter) => s_reporter = reporter;

        /// <summary>True once a panic has started (a nested panic takes the bare path).</summary>
        public static bool InProgress => s_depth != 0;

        /// <summary>Stops the kernel with <paramref name="summary"/> as the one-line reason.</summary>
        [DoesNotReturn]
        public static void Fail(string summary)
        {
            s_depth++;
            if (s_depth == 1 && s_reporter != null) s_reporter(summary);
            BareReport(summary);
        }

        public static void IndexOutOfRange(int index, int length) => throw new IndexOutOfRangeException();

        /// <summary>Panic output that needs nothing but COM1: no heap, no console, no formatting.</summary>
        [DoesNotReturn]
        public static void BareReport(string summary)
        {
            EarlySerial.Write("\n*** KERNEL PANIC: ");
            EarlySerial.Write(summary);
            EarlySerial.Write("\n");
            SendFrameAndStop(summary);
        }

        /// <summary>Sends the PANIC frame on COM1, exits QEMU with 0x12 and halts.</summary>
        [DoesNotReturn]
        public static void SendFrameAndStop(string summary)
        {
            // The protocol frame: "#KT1 PANIC <len> <summary>" (summary is kept to printable ASCII).
            EarlySerial.Write("#KT1 PANIC ");
            int len = 0;
            for (int i = 0; i < summary.Length; i++) len += summary[i] == '\n' || summary[i] == '\\' ? 2 : 1;
            EarlySerial.WriteDecimal((ulong)len);
            EarlySerial.WriteChar(' ');
            for (int i = 0; i < summary.Length; i++)
            {
                char c = summary[i];
                if (c == '\n') { EarlySerial.WriteChar('\\'); EarlySerial.WriteChar('n'); }
                else if (c == '\\') { EarlySerial.WriteChar('\\'); EarlySerial.WriteChar('\\'); }
                else EarlySerial.WriteChar(c);
            }
            EarlySerial.WriteChar('\n');
            Native.OutByte(DebugExitPort, PanicExitCode);
            Native.HaltForever();
        }
    }

    /// <summary>Polled COM1 output needing nothing else: early boot and the bare panic path.</summary>
    public static unsafe class EarlySerial
    {
        public const ushort Com1 = 0x3F8;

        public static void WriteChar(char c)
        {
            for (int spin = 0; spin < 1000000 && (Native.InByte(Com1 + 5) & 0x20) == 0; spin++) { }
            Native.OutByte(Com1, c < 0x80 ? (byte)c : (byte)'?');
        }

        public static void Write(string s)
        {
            if ((object)s == null) return;
            for (int i = 0; i < s.Length; i++) WriteChar(s[i]);
        }

        public static void WriteDecimal(ulong v)
        {
            char* buf = stackalloc char[24];
            int n = Number.WriteDigits(v, buf + 24);
            for (int i = 24 - n; i < 24; i++) WriteChar(buf[i]);
        }
    }
}
