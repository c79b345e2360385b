using System;

namespace Kernel.Hal
{
    /// <summary>Where console text goes.</summary>
    [Flags]
    public enum ConsoleTargets : byte
    {
        None = 0,
        Serial = 1,
        Screen = 2,
        Both = Serial | Screen,
    }

    /// <summary>The kernel console: text to COM1 and the VGA screen; lines from COM1 or the keyboard.</summary>
    public static unsafe class Console
    {
        private static ConsoleTargets s_targets = ConsoleTargets.Serial;
        private static bool s_lastWasCr; // a CR LF pair may straddle two ReadLine calls
        private static delegate*<void> s_inputWait;

        /// <summary>
        /// What <see cref="ReadLine"/> calls while no character is waiting (the scheduler installs
        /// its yield so other tasks run). Null, as in early boot, means a `pause` spin.
        /// </summary>
        public static void SetInputWaitHook(delegate*<void> hook) => s_inputWait = hook;

        /// <summary>Turns the screen on once VGA is set up.</summary>
        public static void EnableScreen() => s_targets |= ConsoleTargets.Screen;

        public static void Write(string s)
        {
            if ((s_targets & ConsoleTargets.Serial) != 0) Serial.Write(s);
            if ((s_targets & ConsoleTargets.Screen) != 0) Vga.Write(s);
        }

        public static void Write(char c)
        {
            if ((s_targets & ConsoleTargets.Serial) != 0) Serial.WriteChar(c);
            if ((s_targets & ConsoleTargets.Screen) != 0) Vga.WriteChar(c);
        }

        public static void WriteLine(string s) { Write(s); Write('\n'); }
        public static void WriteLine() => Write('\n');

        /// <summary>Decimal, without allocating.</summary>
        public static void WriteDecimal(ulong v)
        {
            char* buf = stackalloc char[24];
            int n = Number.WriteDigits(v, buf + 24);
            for (int i = 24 - n; i < 24; i++) Write(buf[i]);
        }

        /// <summary>"0x" and 16 hex digits, without allocating.</summary>
        public static void WriteHex(ulong v) => WriteHex(v, 16);

        /// <summary>"0x" and at least <paramref name="digits"/> hex digits (more if the value needs them).</summary>
        public static void WriteHex(ulong v, int digits)
        {
            Write('0'); Write('x');
            int needed = 1;
            while (needed < 16 && (v >> (4 * needed)) != 0) needed++;
            if (digits < needed) digits = needed;
            for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
            {
                int d = (int)((v >> shift) & 0xF);
                Write((char)(d < 10 ? '0' + d : 'a' + d - 10));
            }
        }

        /// <summary>A size in the largest whole unit (B, KiB, MiB, GiB).</summary>
        public static void WriteSize(ulong bytes)
        {
            if (bytes >= 1UL << 30 && bytes % (1UL << 20) == 0 && bytes / (1UL << 20) % 1024 == 0) { WriteDecimal(bytes >> 30); Write(" GiB"); }
            else if (bytes >= 1UL << 20) { WriteDecimal(bytes >> 20); Write(" MiB"); }
            else if (bytes >= 1UL << 10) { WriteDecimal(bytes >> 10); Write(" KiB"); }
            else { WriteDecimal(bytes); Write(" B"); }
        }

        /// <summary>
        /// Reads one line from COM1 or the keyboard, whichever types, echoing it on the console.
        /// Accepts LF, CR or CR LF; backspace (0x08) and DEL (0x7F) erase the last character. The
        /// line excludes the terminator. Every other byte is kept as it came, one character per
        /// byte (COM1 bytes 0x80..0xFF included): judging it is the caller's business. Returns the
        /// line's whole length, which may exceed <paramref name="maxLength"/>: then only its first
        /// <paramref name="maxLength"/> characters are in <paramref name="buf"/>, but the line was
        /// still read to its end, so its rest never starts the next line. Erasing a too-long line
        /// back to <paramref name="maxLength"/> or less leaves exactly what is left of it in the buffer.
        /// The echo shows one column per character (a TAB as a space, any byte outside printable
        /// ASCII as '?'), so that an erase takes back exactly one column.
        /// Allocates nothing, so a long-running shell leaks nothing per line.
        /// </summary>
        public static int ReadLine(char* buf, int maxLength)
        {
            int n = 0;
            while (true)
            {
                char c;
                if (Serial.TryRead(out byte b)) c = (char)b;
                else if (Keyboard.TryRead(out char k)) c = k;
                else
                {
                    if (s_inputWait != null) s_inputWait();
                    else Kernel.Core.Native.Pause();
                    continue;
                }

                if (c == '\n' && s_lastWasCr) { s_lastWasCr = false; continue; } // the LF of a CR LF
                s_lastWasCr = c == '\r';
                if (c == '\r' || c == '\n') { Write('\n'); return n; }
                if (c == '\b' || c == (char)0x7F)
                {
                    if (n > 0) { n--; Write("\b \b"); }
                    continue;
                }
                if (n < maxLength) buf[n] = c;
                if (n < int.MaxValue) n++;
                Write(c >= ' ' && c <= '~' ? c : c == '\t' ? ' ' : '?');
            }
        }
    }

    /// <summary>
    /// The host protocol (docs/testing.md): one line per frame on COM1,
    /// `#KT1 KIND LEN PAYLOAD\n`, LEN the byte length of the escaped payload.
    /// </summary>
    public static class HostProtocol
    {
        public const string Magic = "#KT1 ";

        /// <summary>Sends a frame whose payload is <paramref name="payload"/> (fields already TAB-separated).</summary>
        public static void Frame(string kind, string payload)
        {
            payload ??= "";
            BeginFrame(kind, PayloadLength(payload));
            WritePayload(payload);
            EndFrame();
        }

        /// <summary>
        /// A frame written piece by piece, allocating nothing: <see cref="BeginFrame"/> with the sum of
        /// <see cref="PayloadLength"/> over the pieces, each piece with <see cref="WritePayload"/>, then <see cref="EndFrame"/>.
        /// </summary>
        public static void BeginFrame(string kind, int payloadLength)
        {
            Serial.WriteRaw(Magic);
            Serial.WriteRaw(kind);
            Serial.WriteByte((byte)' ');
            WriteDecimal((ulong)payloadLength);
            Serial.WriteByte((byte)' ');
        }

        /// <summary>The bytes <paramref name="piece"/> takes in a payload once escaped.</summary>
        public static int PayloadLength(string piece)
        {
            int length = 0;
            for (int i = 0; i < piece.Length; i++) length += piece[i] == '\\' || piece[i] == '\n' ? 2 : 1;
            return length;
        }

        /// <summary>Writes part of a payload, escaped (TAB separates fields and is sent as it is).</summary>
        public static void WritePayload(string piece)
        {
            for (int i = 0; i < piece.Length; i++)
            {
                char c = piece[i];
                if (c == '\\') { Serial.WriteByte((byte)'\\'); Serial.WriteByte((byte)'\\'); }
                else if (c == '\n') { Serial.WriteByte((byte)'\\'); Serial.WriteByte((byte)'n'); }
                else Serial.WriteByte(c >= 0x20 && c < 0x7F || c == '\t' ? (byte)c : (byte)'?');
            }
        }

        public static void EndFrame() => Serial.WriteByte((byte)'\n');

        public static void Frame(string kind, string field1, string field2) => Frame(kind, string.Concat(field1, "\t", field2));

        public static void Frame(string kind, string field1, string field2, string field3)
            => Frame(kind, string.Concat(new string[] { field1, "\t", field2, "\t", field3 }));

        private static unsafe void WriteDecimal(ulong v)
        {
            char* buf = stackalloc char[24];
            int n = Number.WriteDigits(v, buf + 24);
            for (int i = 24 - n; i < 24; i++) Serial.WriteByte((byte)buf[i]);
        }
    }
}
