using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>The PS/2 keyboard, polled; scancode set 1 (what the controller translates to) to ASCII.</summary>
    public static class Keyboard
    {
        private const ushort DataPort = 0x60, StatusPort = 0x64;
        private static bool s_shift, s_extended;

        // Scancode set 1, make codes 0x00..0x39, unshifted and shifted.
        private const string Normal =
            "\0\x1b" + "1234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
        private const string Shifted =
            "\0\x1b" + "!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";

        /// <summary>Drains anything the controller holds from before boot.</summary>
        public static void Init()
        {
            for (int i = 0; i < 64 && (Native.InByte(StatusPort) & 0x01) != 0; i++) Native.InByte(DataPort);
        }

        /// <summary>A typed character, if a key press is waiting (mouse bytes are dropped).</summary>
        public static bool TryRead(out char c)
        {
            c = '\0';
            byte status = Native.InByte(StatusPort);
            if ((status & 0x01) == 0) return false;
            byte code = Native.InByte(DataPort);
            if ((status & 0x20) != 0) return false; // from the mouse
            return Translate(code, out c);
        }

        /// <summary>Feeds one scancode; true when it completes a character.</summary>
        public static bool Translate(byte code, out char c)
        {
            c = '\0';
            if (code == 0xE0) { s_extended = true; return false; }
            bool extended = s_extended;
            s_extended = false;
            bool release = (code & 0x80) != 0;
            byte make = (byte)(code & 0x7F);
            if (make == 0x2A || make == 0x36) { s_shift = !release; return false; }
            if (extended)
            {
                if (release || make != 0x1C) return false; // only keypad Enter is translated
                c = '\n';
                return true;
            }
            if (release) return false;
            if (make >= Normal.Length) return false;
            c = s_shift ? Shifted[make] : Normal[make];
            return c != '\0';
        }
    }
}
