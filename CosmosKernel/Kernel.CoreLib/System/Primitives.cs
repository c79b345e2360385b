// Primitive value types. csc maps the C# keywords onto these; `this` inside them is the value.
namespace System
{
    public struct Boolean
    {
        public override string ToString() => this ? "True" : "False";
    }

    public struct Char
    {
        public const char MaxValue = (char)0xFFFF;
        public const char MinValue = (char)0;
        public override string ToString() => string.FromChar(this);
        public static bool IsDigit(char c) => c >= '0' && c <= '9';
        public static bool IsWhiteSpace(char c) => c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    public struct SByte
    {
        public const sbyte MaxValue = 127;
        public const sbyte MinValue = -128;
        public override string ToString() => Number.Format((long)this);
    }

    public struct Byte
    {
        public const byte MaxValue = 255;
        public const byte MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
    }

    public struct Int16
    {
        public const short MaxValue = 32767;
        public const short MinValue = -32768;
        public override string ToString() => Number.Format((long)this);
    }

    public struct UInt16
    {
        public const ushort MaxValue = 65535;
        public const ushort MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
    }

    public struct Int32
    {
        public const int MaxValue = 0x7FFFFFFF;
        public const int MinValue = unchecked((int)0x80000000);
        public override string ToString() => Number.Format((long)this);
    }

    public struct UInt32
    {
        public const uint MaxValue = 0xFFFFFFFF;
        public const uint MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
    }

    public struct Int64
    {
        public const long MaxValue = 0x7FFFFFFFFFFFFFFF;
        public const long MinValue = unchecked((long)0x8000000000000000);
        public override string ToString() => Number.Format(this);
    }

    public struct UInt64
    {
        public const ulong MaxValue = 0xFFFFFFFFFFFFFFFF;
        public const ulong MinValue = 0;
        public override string ToString() => Number.Format(this);
    }

    public struct IntPtr
    {
        public static readonly nint Zero;
        public override string ToString() => Number.Format((long)this);
    }

    public struct UIntPtr
    {
        public static readonly nuint Zero;
        public override string ToString() => Number.Format((ulong)this);
    }

    public struct Single { }
    public struct Double { }

    /// <summary>Integer formatting without any allocation but the result string.</summary>
    public static unsafe class Number
    {
        /// <summary>Decimal text of a signed value ("-42").</summary>
        public static string Format(long value)
        {
            if (value >= 0) return Format((ulong)value);
            // -(MinValue) overflows: format the magnitude as unsigned.
            ulong magnitude = (ulong)(-(value + 1)) + 1;
            char* buf = stackalloc char[24];
            int n = WriteDigits(magnitude, buf + 24);
            buf[23 - n] = '-';
            return string.FromChars(buf + 23 - n, n + 1);
        }

        /// <summary>Decimal text of an unsigned value.</summary>
        public static string Format(ulong value)
        {
            char* buf = stackalloc char[24];
            int n = WriteDigits(value, buf + 24);
            return string.FromChars(buf + 24 - n, n);
        }

        /// <summary>Hexadecimal text, "0x" and at least <paramref name="minDigits"/> digits.</summary>
        public static string FormatHex(ulong value, int minDigits)
        {
            char* buf = stackalloc char[20];
            int n = 0;
            do
            {
                int d = (int)(value & 0xF);
                buf[19 - n] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
                value >>= 4;
                n++;
            } while (value != 0 || n < minDigits);
            buf[19 - n] = 'x';
            buf[18 - n] = '0';
            return string.FromChars(buf + 18 - n, n + 2);
        }

        /// <summary>Writes the digits of <paramref name="value"/> backwards ending at <paramref name="end"/>; returns their count.</summary>
        public static int WriteDigits(ulong value, char* end)
        {
            int n = 0;
            do
            {
                *(end - 1 - n) = (char)('0' + (int)(value % 10));
                value /= 10;
                n++;
            } while (value != 0);
            return n;
        }
    }
}
