using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>The VGA text screen at 0xB8000 (80x25): what a VM window or a screendump shows.</summary>
    public static unsafe class Vga
    {
        public const int Columns = 80, Rows = 25;
        private static ushort* Buffer => (ushort*)0xB8000;
        private static int s_row, s_column;
        private static byte s_attribute = 0x07; // light grey on black

        public static int Row => s_row;
        public static int Column => s_column;

        /// <summary>Foreground and background colour (VGA palette indices 0..15).</summary>
        public static void SetColor(byte foreground, byte background) => s_attribute = (byte)((background << 4) | (foreground & 0x0F));

        public static void Clear()
        {
            for (int i = 0; i < Columns * Rows; i++) Buffer[i] = (ushort)(s_attribute << 8 | ' ');
            s_row = 0; s_column = 0;
            MoveCursor();
        }

        public static void Write(string s)
        {
            for (int i = 0; i < s.Length; i++) Put(s[i]);
            MoveCursor();
        }

        public static void WriteChar(char c)
        {
            Put(c);
            MoveCursor();
        }

        /// <summary>The character shown at (<paramref name="row"/>, <paramref name="column"/>).</summary>
        public static char CharAt(int row, int column) => (char)(Buffer[row * Columns + column] & 0xFF);

        private static void Put(char c)
        {
            if (c == '\n') { NewLine(); return; }
            if (c == '\r') { s_column = 0; return; }
            if (c == '\b')
            {
                // Back one cell; from column 0 to the end of the row above (an echoed line that
                // wrapped is erased across the wrap). The cell is blanked.
                if (s_column > 0) s_column--;
                else if (s_row > 0) { s_row--; s_column = Columns - 1; }
                else return;
                Buffer[s_row * Columns + s_column] = (ushort)(s_attribute << 8 | ' ');
                return;
            }
            if (c == '\t') { do Put(' '); while ((s_column & 7) != 0); return; }
            byte glyph = c >= 0x20 && c < 0x7F ? (byte)c : (byte)'?';
            Buffer[s_row * Columns + s_column] = (ushort)(s_attribute << 8 | glyph);
            if (++s_column == Columns) NewLine();
        }

        private static void NewLine()
        {
            s_column = 0;
            if (++s_row < Rows) return;
            for (int i = 0; i < Columns * (Rows - 1); i++) Buffer[i] = Buffer[i + Columns];
            for (int i = Columns * (Rows - 1); i < Columns * Rows; i++) Buffer[i] = (ushort)(s_attribute << 8 | ' ');
            s_row = Rows - 1;
        }

        private static void MoveCursor()
        {
            ushort pos = (ushort)(s_row * Columns + s_column);
            Native.OutByte(0x3D4, 0x0F);
            Native.OutByte(0x3D5, (byte)(pos & 0xFF));
            Native.OutByte(0x3D4, 0x0E);
            Native.OutByte(0x3D5, (byte)(pos >> 8));
        }
    }
}
