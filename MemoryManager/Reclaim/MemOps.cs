using MemoryManager.Common;

namespace MemoryManager
{
    /// <summary>Page-sized memory helpers and number output for reclaim, within the kernel subset.</summary>
    internal static unsafe class MemOps
    {
        /// <summary>Copies one 4 KiB page from <paramref name="src"/> to <paramref name="dst"/>.</summary>
        public static void CopyPage(byte* dst, byte* src)
        {
            ulong* d = (ulong*)dst, s = (ulong*)src;
            for (int i = 0; i < (int)(MmConstants.PageSize / 8); i++) d[i] = s[i];
        }

        /// <summary>Fills one 4 KiB page with zeroes.</summary>
        public static void ZeroPage(byte* dst)
        {
            ulong* d = (ulong*)dst;
            for (int i = 0; i < (int)(MmConstants.PageSize / 8); i++) d[i] = 0;
        }

        /// <summary>Writes an unsigned decimal number, digit by digit (no ToString in the kernel subset).</summary>
        public static void WriteDec(ITextSink o, ulong v)
        {
            if (o == null) return;
            char* buf = stackalloc char[20];
            int n = 0;
            do { buf[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v != 0);
            while (n > 0) o.Write(buf[--n]);
        }

        /// <summary>Writes a signed decimal number.</summary>
        public static void WriteDec(ITextSink o, long v)
        {
            if (o == null) return;
            if (v < 0) { o.Write('-'); WriteDec(o, (ulong)(-(v + 1)) + 1); }
            else WriteDec(o, (ulong)v);
        }

        /// <summary>Writes an unsigned number in lower-case hex without leading zeroes.</summary>
        public static void WriteHex(ITextSink o, ulong v)
        {
            if (o == null) return;
            char* buf = stackalloc char[16];
            int n = 0;
            do { int d = (int)(v & 15); buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10); v >>= 4; } while (v != 0);
            while (n > 0) o.Write(buf[--n]);
        }

        /// <summary>Writes a string literal when a sink is present.</summary>
        public static void Write(ITextSink o, string s) { if (o != null) o.Write(s); }
    }
}
