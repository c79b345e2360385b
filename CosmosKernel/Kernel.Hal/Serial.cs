using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>COM1 (0x3F8), 115200 baud 8N1, polled: the host's console and the test protocol's wire.</summary>
    public static class Serial
    {
        public const ushort Com1 = 0x3F8;
        private const ushort Data = Com1, InterruptEnable = Com1 + 1, LineControl = Com1 + 3, ModemControl = Com1 + 4, LineStatus = Com1 + 5;

        private const ushort Scratch = Com1 + 7;

        /// <summary>False when no UART answers at 0x3F8 (a VM without a serial port): then nothing is sent or read.</summary>
        public static bool Present { get; private set; }

        public static void Init()
        {
            // A missing UART reads as 0xFF everywhere; a present one keeps what is written to its scratch register.
            Native.OutByte(Scratch, 0x5A);
            Present = Native.InByte(Scratch) == 0x5A && Native.InByte(LineStatus) != 0xFF;
            if (!Present) return;
            Native.OutByte(InterruptEnable, 0x00);
            Native.OutByte(LineControl, 0x80);   // DLAB: the next two bytes are the divisor
            Native.OutByte(Data, 0x01);          // 115200 / 1
            Native.OutByte(InterruptEnable, 0x00);
            Native.OutByte(LineControl, 0x03);   // 8 bits, no parity, one stop bit
            // The FIFO control register is left as the loader left it: switching the FIFO on or
            // clearing it drops characters typed ahead during boot (polled I/O needs no FIFO).
            Native.OutByte(ModemControl, 0x03);  // DTR | RTS
        }

        public static void WriteByte(byte b)
        {
            if (!Present) return;
            for (int spin = 0; spin < 1000000 && (Native.InByte(LineStatus) & 0x20) == 0; spin++) { }
            Native.OutByte(Data, b);
            s_atLineStart = b == (byte)'\n';
        }

        private static bool s_atLineStart = true;

        /// <summary>The last byte sent ended a line (or nothing was sent yet): a frame written now starts a line of its own.</summary>
        public static bool AtLineStart => s_atLineStart;

        /// <summary>Waits until the UART has sent its last bit (transmitter empty), so nothing is cut off by a power-off.</summary>
        public static void Flush()
        {
            if (!Present) return;
            for (int spin = 0; spin < 1000000 && (Native.InByte(LineStatus) & 0x40) == 0; spin++) { }
        }

        /// <summary>Writes text; '\n' goes out as CR LF so a terminal in raw mode shows lines.</summary>
        public static void Write(string s)
        {
            for (int i = 0; i < s.Length; i++) WriteChar(s[i]);
        }

        public static void WriteChar(char c)
        {
            if (c == '\n') WriteByte((byte)'\r');
            WriteByte(c < 0x80 ? (byte)c : (byte)'?');
        }

        /// <summary>Writes text exactly as given (protocol frames: no CR insertion).</summary>
        public static void WriteRaw(string s)
        {
            for (int i = 0; i < s.Length; i++) WriteByte(s[i] < 0x80 ? (byte)s[i] : (byte)'?');
        }

        /// <summary>A received byte, if one is waiting.</summary>
        public static bool TryRead(out byte b)
        {
            if (!Present) { b = 0; return false; }
            if ((Native.InByte(LineStatus) & 0x01) == 0) { b = 0; return false; }
            b = Native.InByte(Data);
            return true;
        }
    }
}
