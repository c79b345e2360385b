// Strings for ordinary kernel code (docs/kernel-csharp-subset.md): string.Format with
// {index[,alignment][:format]} holes, interpolation (csc lowers $"..." to string.Format /
// string.Concat), number formats (D, X, N), StringBuilder. The memory manager uses none of it.
using Kernel.Core.Runtime;

namespace System
{
    public interface IFormatProvider { object GetFormat(Type formatType); }

    /// <summary>A value that formats itself with a format string ("X8", "D4", "N0").</summary>
    public interface IFormattable { string ToString(string format, IFormatProvider formatProvider); }

    public sealed unsafe partial class String
    {
        public static string Format(string format, object arg0) => FormatCore(format, arg0, null, null, null, 1);
        public static string Format(string format, object arg0, object arg1) => FormatCore(format, arg0, arg1, null, null, 2);
        public static string Format(string format, object arg0, object arg1, object arg2) => FormatCore(format, arg0, arg1, arg2, null, 3);
        public static string Format(string format, params object[] args) => FormatCore(format, null, null, null, args, args == null ? 0 : args.Length);

        private static string FormatCore(string format, object a0, object a1, object a2, object[] args, int count)
        {
            if ((object)format == null) throw new ArgumentNullException("format");
            var sb = new Text.StringBuilder(format.Length + 16);
            int i = 0, n = format.Length;
            while (i < n)
            {
                char c = format[i];
                if (c == '{')
                {
                    if (i + 1 < n && format[i + 1] == '{') { sb.Append('{'); i += 2; continue; }
                    i++;
                    int index = 0, digits = 0;
                    while (i < n && format[i] >= '0' && format[i] <= '9') { index = index * 10 + (format[i] - '0'); i++; digits++; }
                    if (digits == 0) throw new FormatException("Input string was not in a correct format: a hole without an index.");
                    int alignment = 0;
                    bool left = false;
                    if (i < n && format[i] == ',')
                    {
                        i++;
                        if (i < n && format[i] == '-') { left = true; i++; }
                        while (i < n && format[i] >= '0' && format[i] <= '9') { alignment = alignment * 10 + (format[i] - '0'); i++; }
                    }
                    string spec = null;
                    if (i < n && format[i] == ':')
                    {
                        int start = ++i;
                        while (i < n && format[i] != '}') i++;
                        spec = format.Substring(start, i - start);
                    }
                    if (i >= n || format[i] != '}') throw new FormatException("Input string was not in a correct format: a hole is not closed.");
                    i++;
                    if (index >= count) throw new FormatException("Index (zero based) must be greater than or equal to zero and less than the size of the argument list.");
                    object arg = args != null ? args[index] : index == 0 ? a0 : index == 1 ? a1 : a2;
                    string text = arg == null ? "" : (object)spec != null && arg is IFormattable f ? f.ToString(spec, null) : arg.ToString();
                    text ??= "";
                    if (!left) for (int p = text.Length; p < alignment; p++) sb.Append(' ');
                    sb.Append(text);
                    if (left) for (int p = text.Length; p < alignment; p++) sb.Append(' ');
                    continue;
                }
                if (c == '}')
                {
                    if (i + 1 < n && format[i + 1] == '}') { sb.Append('}'); i += 2; continue; }
                    throw new FormatException("Input string was not in a correct format: a lone '}'.");
                }
                sb.Append(c);
                i++;
            }
            return sb.ToString();
        }

        public static string Join(string separator, string[] values)
        {
            var sb = new Text.StringBuilder();
            for (int i = 0; i < values.Length; i++) { if (i > 0) sb.Append(separator); sb.Append(values[i]); }
            return sb.ToString();
        }

        public bool Contains(string value) => IndexOf(value) >= 0;

        public int IndexOf(string value)
        {
            for (int i = 0; i + value.Length <= Length; i++)
            {
                int k = 0;
                while (k < value.Length && this[i + k] == value[k]) k++;
                if (k == value.Length) return i;
            }
            return -1;
        }

        public bool EndsWith(string suffix)
        {
            if (suffix.Length > Length) return false;
            for (int i = 0; i < suffix.Length; i++) if (this[Length - suffix.Length + i] != suffix[i]) return false;
            return true;
        }

        public string PadLeft(int width) => Length >= width ? this : Concat(new string(' ', width - Length), this);
        public string PadRight(int width) => Length >= width ? this : Concat(this, new string(' ', width - Length));

        public string ToUpperInvariant()
        {
            string s = Allocate(Length);
            fixed (char* d = &s._firstChar) for (int i = 0; i < Length; i++) { char c = this[i]; d[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }
            return s;
        }

        public static bool IsNullOrEmpty(string value) => (object)value == null || value.Length == 0;
    }
}

namespace System.Text
{
    /// <summary>A growable buffer of characters: Append, AppendLine, Insert, Length, Clear, ToString.</summary>
    public sealed unsafe class StringBuilder
    {
        private char[] _chars;
        private int _length;

        public StringBuilder() : this(16) { }
        public StringBuilder(int capacity) { _chars = new char[capacity < 1 ? 1 : capacity]; }
        public StringBuilder(string value) : this(value == null ? 16 : value.Length + 16) { Append(value); }

        public int Length
        {
            get => _length;
            set
            {
                if (value < 0) throw new ArgumentOutOfRangeException("value");
                Grow(value);
                for (int i = _length; i < value; i++) _chars[i] = '\0';
                _length = value;
            }
        }

        public char this[int index]
        {
            get { if ((uint)index >= (uint)_length) throw new IndexOutOfRangeException(); return _chars[index]; }
            set { if ((uint)index >= (uint)_length) throw new IndexOutOfRangeException(); _chars[index] = value; }
        }

        private void Grow(int needed)
        {
            if (needed <= _chars.Length) return;
            int size = _chars.Length * 2;
            if (size < needed) size = needed;
            var bigger = new char[size];
            for (int i = 0; i < _length; i++) bigger[i] = _chars[i];
            _chars = bigger;
        }

        public StringBuilder Append(char c)
        {
            Grow(_length + 1);
            _chars[_length++] = c;
            return this;
        }

        public StringBuilder Append(char c, int repeatCount)
        {
            for (int i = 0; i < repeatCount; i++) Append(c);
            return this;
        }

        public StringBuilder Append(string s)
        {
            if ((object)s == null) return this;
            Grow(_length + s.Length);
            for (int i = 0; i < s.Length; i++) _chars[_length + i] = s[i];
            _length += s.Length;
            return this;
        }

        public StringBuilder Append(int v) => Append(v.ToString());
        public StringBuilder Append(long v) => Append(v.ToString());
        public StringBuilder Append(uint v) => Append(v.ToString());
        public StringBuilder Append(ulong v) => Append(v.ToString());
        public StringBuilder Append(bool v) => Append(v ? "True" : "False");
        public StringBuilder Append(object o) => o == null ? this : Append(o.ToString());
        public StringBuilder AppendLine() => Append('\n');
        public StringBuilder AppendLine(string s) => Append(s).Append('\n');
        public StringBuilder AppendFormat(string format, object arg0) => Append(string.Format(format, arg0));
        public StringBuilder AppendFormat(string format, object arg0, object arg1) => Append(string.Format(format, arg0, arg1));
        public StringBuilder AppendFormat(string format, params object[] args) => Append(string.Format(format, args));

        public StringBuilder Insert(int index, string s)
        {
            if ((uint)index > (uint)_length) throw new ArgumentOutOfRangeException("index");
            if ((object)s == null || s.Length == 0) return this;
            Grow(_length + s.Length);
            for (int i = _length - 1; i >= index; i--) _chars[i + s.Length] = _chars[i];
            for (int i = 0; i < s.Length; i++) _chars[index + i] = s[i];
            _length += s.Length;
            return this;
        }

        public StringBuilder Clear() { _length = 0; return this; }

        public override string ToString()
        {
            fixed (char* p = _chars) return string.FromChars(p, _length);
        }
    }
}
