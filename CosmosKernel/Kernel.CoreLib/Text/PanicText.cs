using System;
using Kernel.Core.Runtime;

namespace Kernel.Core.Text
{
    /// <summary>
    /// Builds one message without touching the heap, for paths where the heap may be exhausted
    /// or broken (out of memory, CPU exceptions). The text lives in a static buffer laid out
    /// like a string object; the string returned by <see cref="Finish"/> is valid until the
    /// next <see cref="Begin"/>.
    /// </summary>
    public static unsafe class PanicText
    {
        public const int Capacity = 240;

        // [MethodTable*: 4 chars][int length: 2 chars][Capacity chars][NUL]
        private struct Buffer { public fixed char Chars[Capacity + 8]; }
        private static Buffer s_buffer;
        private static int s_length;

        public static void Begin() => s_length = 0;

        public static void Append(string s)
        {
            if ((object)s == null) return;
            for (int i = 0; i < s.Length; i++) Append(s[i]);
        }

        public static void Append(char c)
        {
            if (s_length >= Capacity) return;
            fixed (char* b = s_buffer.Chars) b[6 + s_length] = c;
            s_length++;
        }

        public static void AppendDecimal(ulong v)
        {
            char* tmp = stackalloc char[24];
            int n = Number.WriteDigits(v, tmp + 24);
            for (int i = 24 - n; i < 24; i++) Append(tmp[i]);
        }

        public static void AppendHex(ulong v)
        {
            Append('0'); Append('x');
            bool started = false;
            for (int shift = 60; shift >= 0; shift -= 4)
            {
                int d = (int)((v >> shift) & 0xF);
                if (d != 0 || started || shift == 0)
                {
                    started = true;
                    Append((char)(d < 10 ? '0' + d : 'a' + d - 10));
                }
            }
        }

        /// <summary>The text appended since <see cref="Begin"/>, as a string.</summary>
        public static string Finish()
        {
            fixed (char* b = s_buffer.Chars)
            {
                *(Internal.Runtime.MethodTable**)b = ObjectModel.MethodTableOf("");
                *(int*)(b + 4) = s_length;
                b[6 + s_length] = '\0';
                return (string)ObjectModel.FromAddress(b);
            }
        }
    }
}
