// Primitive value types. csc maps the C# keywords onto these; `this` inside them is the value.
namespace System
{
    public struct Boolean : IEquatable<bool>
    {
        public override string ToString() => this ? "True" : "False";
        public override bool Equals(object obj) => obj is bool other && other == this;
        public bool Equals(bool other) => other == this;
        public override int GetHashCode() => this ? 1 : 0;
    }

    public struct Char : IEquatable<char>
    {
        public const char MaxValue = (char)0xFFFF;
        public const char MinValue = (char)0;
        public override string ToString() => string.FromChar(this);
        public override bool Equals(object obj) => obj is char other && other == this;
        public bool Equals(char other) => other == this;
        public override int GetHashCode() => this;
        public static bool IsDigit(char c) => c >= '0' && c <= '9';
        public static bool IsWhiteSpace(char c) => c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    public struct SByte : IFormattable, IEquatable<sbyte>, IComparable<sbyte>
    {
        public const sbyte MaxValue = 127;
        public const sbyte MinValue = -128;
        public override string ToString() => Number.Format((long)this);
        public string ToString(string format) => Number.Format((long)this, format, 8);
        public string ToString(string format, IFormatProvider provider) => Number.Format((long)this, format, 8);
        public override bool Equals(object obj) => obj is sbyte other && other == this;
        public bool Equals(sbyte other) => other == this;
        public override int GetHashCode() => (int)(long)this ^ (int)((long)this >> 32);
        public int CompareTo(sbyte other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct Byte : IFormattable, IEquatable<byte>, IComparable<byte>
    {
        public const byte MaxValue = 255;
        public const byte MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
        public string ToString(string format) => Number.Format((ulong)this, format, 8);
        public string ToString(string format, IFormatProvider provider) => Number.Format((ulong)this, format, 8);
        public override bool Equals(object obj) => obj is byte other && other == this;
        public bool Equals(byte other) => other == this;
        public override int GetHashCode() => (int)(ulong)this ^ (int)((ulong)this >> 32);
        public int CompareTo(byte other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct Int16 : IFormattable, IEquatable<short>, IComparable<short>
    {
        public const short MaxValue = 32767;
        public const short MinValue = -32768;
        public override string ToString() => Number.Format((long)this);
        public string ToString(string format) => Number.Format((long)this, format, 16);
        public string ToString(string format, IFormatProvider provider) => Number.Format((long)this, format, 16);
        public override bool Equals(object obj) => obj is short other && other == this;
        public bool Equals(short other) => other == this;
        public override int GetHashCode() => (int)(long)this ^ (int)((long)this >> 32);
        public int CompareTo(short other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct UInt16 : IFormattable, IEquatable<ushort>, IComparable<ushort>
    {
        public const ushort MaxValue = 65535;
        public const ushort MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
        public string ToString(string format) => Number.Format((ulong)this, format, 16);
        public string ToString(string format, IFormatProvider provider) => Number.Format((ulong)this, format, 16);
        public override bool Equals(object obj) => obj is ushort other && other == this;
        public bool Equals(ushort other) => other == this;
        public override int GetHashCode() => (int)(ulong)this ^ (int)((ulong)this >> 32);
        public int CompareTo(ushort other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct Int32 : IFormattable, IEquatable<int>, IComparable<int>
    {
        public const int MaxValue = 0x7FFFFFFF;
        public const int MinValue = unchecked((int)0x80000000);
        public override string ToString() => Number.Format((long)this);
        public string ToString(string format) => Number.Format((long)this, format, 32);
        public string ToString(string format, IFormatProvider provider) => Number.Format((long)this, format, 32);
        public override bool Equals(object obj) => obj is int other && other == this;
        public bool Equals(int other) => other == this;
        public override int GetHashCode() => (int)(long)this ^ (int)((long)this >> 32);
        public int CompareTo(int other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct UInt32 : IFormattable, IEquatable<uint>, IComparable<uint>
    {
        public const uint MaxValue = 0xFFFFFFFF;
        public const uint MinValue = 0;
        public override string ToString() => Number.Format((ulong)this);
        public string ToString(string format) => Number.Format((ulong)this, format, 32);
        public string ToString(string format, IFormatProvider provider) => Number.Format((ulong)this, format, 32);
        public override bool Equals(object obj) => obj is uint other && other == this;
        public bool Equals(uint other) => other == this;
        public override int GetHashCode() => (int)(ulong)this ^ (int)((ulong)this >> 32);
        public int CompareTo(uint other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct Int64 : IFormattable, IEquatable<long>, IComparable<long>
    {
        public const long MaxValue = 0x7FFFFFFFFFFFFFFF;
        public const long MinValue = unchecked((long)0x8000000000000000);
        public override string ToString() => Number.Format(this);
        public string ToString(string format) => Number.Format((long)this, format, 64);
        public string ToString(string format, IFormatProvider provider) => Number.Format((long)this, format, 64);
        public override bool Equals(object obj) => obj is long other && other == this;
        public bool Equals(long other) => other == this;
        public override int GetHashCode() => (int)(long)this ^ (int)((long)this >> 32);
        public int CompareTo(long other) => this < other ? -1 : this > other ? 1 : 0;
    }

    public struct UInt64 : IFormattable, IEquatable<ulong>, IComparable<ulong>
    {
        public const ulong MaxValue = 0xFFFFFFFFFFFFFFFF;
        public const ulong MinValue = 0;
        public override string ToString() => Number.Format(this);
        public string ToString(string format) => Number.Format((ulong)this, format, 64);
        public string ToString(string format, IFormatProvider provider) => Number.Format((ulong)this, format, 64);
        public override bool Equals(object obj) => obj is ulong other && other == this;
        public bool Equals(ulong other) => other == this;
        public override int GetHashCode() => (int)(ulong)this ^ (int)((ulong)this >> 32);
        public int CompareTo(ulong other) => this < other ? -1 : this > other ? 1 : 0;
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

        /// <summary>
        /// Text of an integer by a .NET format string: null or "" or "G" (decimal), "D&lt;n&gt;"
        /// (at least n digits), "X&lt;n&gt;"/"x&lt;n&gt;" (hexadecimal of the <paramref name="bits"/>-bit
        /// two's complement, at least n digits), "N&lt;n&gt;" (thousands separated, n decimals of zeros).
        /// </summary>
        public static string Format(long value, string format, int bits)
        {
            if ((object)format == null || format.Length == 0) return Format(value);
            char kind = format[0];
            int width = Width(format);
            if (kind == 'X' || kind == 'x')
            {
                ulong u = bits == 64 ? (ulong)value : (ulong)value & ((1UL << bits) - 1);
                return Hex(u, width, kind == 'X');
            }
            bool negative = value < 0;
            ulong magnitude = negative ? (ulong)(-(value + 1)) + 1 : (ulong)value;
            return FormatMagnitude(negative, magnitude, kind, width);
        }

        public static string Format(ulong value, string format, int bits)
        {
            if ((object)format == null || format.Length == 0) return Format(value);
            char kind = format[0];
            int width = Width(format);
            if (kind == 'X' || kind == 'x') return Hex(value, width, kind == 'X');
            return FormatMagnitude(false, value, kind, width);
        }

        /// <summary>The digits after a format's letter ("D8": 8); anything else there is a FormatException.</summary>
        private static int Width(string format)
        {
            int width = 0;
            for (int i = 1; i < format.Length; i++)
            {
                char c = format[i];
                if (c < '0' || c > '9') throw new FormatException("Format specifier was invalid.");
                width = width * 10 + (c - '0');
            }
            return width;
        }

        private static string Hex(ulong u, int width, bool upper)
        {
            char* buf = stackalloc char[80];
            int n = 0;
            do { int d = (int)(u & 0xF); buf[79 - n] = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10); u >>= 4; n++; } while (u != 0);
            while (n < width && n < 64) { buf[79 - n] = '0'; n++; }
            return string.FromChars(buf + 80 - n, n);
        }

        private static string FormatMagnitude(bool negative, ulong magnitude, char kind, int width)
        {
            char* buf = stackalloc char[128];
            int end = 128, n;
            if (kind == 'D' || kind == 'd' || kind == 'G' || kind == 'g')
            {
                n = WriteDigits(magnitude, buf + end);
                while (n < width && n < 100) { buf[end - 1 - n] = '0'; n++; }
            }
            else if (kind == 'N' || kind == 'n')
            {
                int decimals = width > 20 ? 20 : width;
                int at = end;
                if (decimals > 0)
                {
                    for (int i = 0; i < decimals; i++) buf[--at] = '0';
                    buf[--at] = '.';
                }
                int digits = 0;
                do
                {
                    if (digits > 0 && digits % 3 == 0) buf[--at] = ',';
                    buf[--at] = (char)('0' + (int)(magnitude % 10));
                    magnitude /= 10;
                    digits++;
                } while (magnitude != 0);
                n = end - at;
            }
            else throw new FormatException("Format specifier was invalid.");
            if (negative) { buf[end - 1 - n] = '-'; n++; }
            return string.FromChars(buf + end - n, n);
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
