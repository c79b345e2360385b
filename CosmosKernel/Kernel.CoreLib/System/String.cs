using System.Runtime.CompilerServices;
using Kernel.Core.Runtime;

namespace System
{
    /// <summary>Immutable UTF-16 text. Layout contract with ILC: [MethodTable*][int length][chars...][0].</summary>
    public sealed unsafe partial class String
    {
        private int _stringLength;
        private char _firstChar;

        public static readonly string Empty = "";

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_stringLength) Panic.IndexOutOfRange(index, _stringLength);
                fixed (char* p = &_firstChar) return p[index];
            }
        }

        /// <summary>Lets `fixed (char* p = s)` pin the first character.</summary>
        public ref char GetPinnableReference() => ref _firstChar;

        /// <summary>A new string of <paramref name="length"/> NUL characters, to be filled by the caller.</summary>
        internal static string Allocate(int length) => Allocator.NewString(length);

        /// <summary>A string made of the <paramref name="count"/> characters at <paramref name="chars"/>.</summary>
        public static string FromChars(char* chars, int count)
        {
            if (count == 0) return "";
            string s = Allocate(count);
            fixed (char* d = &s._firstChar)
                for (int i = 0; i < count; i++) d[i] = chars[i];
            return s;
        }

        /// <summary>A string made of the ASCII bytes at <paramref name="bytes"/> (Latin-1).</summary>
        public static string FromAscii(byte* bytes, int count)
        {
            if (count == 0) return "";
            string s = Allocate(count);
            fixed (char* d = &s._firstChar)
                for (int i = 0; i < count; i++) d[i] = (char)bytes[i];
            return s;
        }

        public static string FromChar(char c) => FromChars(&c, 1);

        /// <summary><paramref name="count"/> copies of <paramref name="c"/> (csc calls this constructor's factory, Ctor).</summary>
        public extern String(char c, int count);

        private static string Ctor(char c, int count)
        {
            if (count < 0) throw new ArgumentOutOfRangeException("count");
            if (count == 0) return "";
            string s = Allocate(count);
            fixed (char* d = &s._firstChar) for (int i = 0; i < count; i++) d[i] = c;
            return s;
        }

        public extern String(char[] value);

        private static string Ctor(char[] value)
        {
            if (value == null || value.Length == 0) return "";
            fixed (char* p = value) return FromChars(p, value.Length);
        }

        public static string Concat(string a, string b)
        {
            a ??= ""; b ??= "";
            if (a.Length == 0) return b;
            if (b.Length == 0) return a;
            string s = Allocate(a.Length + b.Length);
            fixed (char* d = &s._firstChar)
            {
                Copy(d, a);
                Copy(d + a.Length, b);
            }
            return s;
        }

        public static string Concat(string a, string b, string c) => Concat(Concat(a, b), c);

        public static string Concat(string a, string b, string c, string d) => Concat(Concat(a, b), Concat(c, d));

        public static string Concat(params string[] parts)
        {
            int total = 0;
            for (int i = 0; i < parts.Length; i++) if (parts[i] != null) total += parts[i].Length;
            if (total == 0) return "";
            string s = Allocate(total);
            fixed (char* d = &s._firstChar)
            {
                int at = 0;
                for (int i = 0; i < parts.Length; i++)
                {
                    if (parts[i] == null) continue;
                    Copy(d + at, parts[i]);
                    at += parts[i].Length;
                }
            }
            return s;
        }

        public static string Concat(object a, object b) => Concat(a?.ToString(), b?.ToString());
        public static string Concat(object a, object b, object c) => Concat(a?.ToString(), b?.ToString(), c?.ToString());

        private static void Copy(char* destination, string source)
        {
            fixed (char* s = &source._firstChar)
                for (int i = 0; i < source._stringLength; i++) destination[i] = s[i];
        }

        public static bool Equals(string a, string b)
        {
            if ((object)a == (object)b) return true;
            if ((object)a == null || (object)b == null || a._stringLength != b._stringLength) return false;
            fixed (char* pa = &a._firstChar) fixed (char* pb = &b._firstChar)
                for (int i = 0; i < a._stringLength; i++) if (pa[i] != pb[i]) return false;
            return true;
        }

        public static bool operator ==(string a, string b) => Equals(a, b);
        public static bool operator !=(string a, string b) => !Equals(a, b);
        public override bool Equals(object obj) => obj is string s && Equals(this, s);

        public override int GetHashCode()
        {
            uint h = 2166136261;
            fixed (char* p = &_firstChar)
                for (int i = 0; i < _stringLength; i++) h = (h ^ p[i]) * 16777619;
            return (int)h;
        }

        public bool StartsWith(string prefix)
        {
            if (prefix.Length > _stringLength) return false;
            for (int i = 0; i < prefix.Length; i++) if (this[i] != prefix[i]) return false;
            return true;
        }

        public string Substring(int start, int length)
        {
            if (start < 0 || length < 0 || start + length > _stringLength) Panic.IndexOutOfRange(start + length, _stringLength);
            fixed (char* p = &_firstChar) return FromChars(p + start, length);
        }

        public string Substring(int start) => Substring(start, _stringLength - start);

        public int IndexOf(char c)
        {
            for (int i = 0; i < _stringLength; i++) if (this[i] == c) return i;
            return -1;
        }

        /// <summary>This string without leading and trailing spaces, tabs, CR and LF.</summary>
        public string Trim()
        {
            int start = 0, end = _stringLength;
            while (start < end && char.IsWhiteSpace(this[start])) start++;
            while (end > start && char.IsWhiteSpace(this[end - 1])) end--;
            return start == 0 && end == _stringLength ? this : Substring(start, end - start);
        }

        public override string ToString() => this;
    }
}
