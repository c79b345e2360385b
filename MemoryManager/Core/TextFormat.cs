namespace MemoryManager.Core
{
    /// <summary>
    /// Number and column output for <see cref="ITextSink"/>, shared by every part of the memory
    /// manager (/proc files, slabinfo, failure reports, the OOM killer's log, checker reports):
    /// no strings are built, digits go out one by one. A null sink writes nothing, so a partner
    /// without a log (Log, Trace or a report left unset) needs no check at the call.
    /// </summary>
    public static unsafe class TextFormat
    {
        /// <summary>Writes <paramref name="s"/> when there is a sink.</summary>
        public static void Write(ITextSink o, string s)
        {
            if (o != null) o.Write(s);
        }

        /// <summary>Writes <paramref name="v"/> in decimal, right-aligned in <paramref name="width"/> columns.</summary>
        public static void Dec(ITextSink o, ulong v, int width = 0)
        {
            if (o == null) return;
            char* buf = stackalloc char[24];
            int n = 0;
            do { buf[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v != 0);
            for (int i = n; i < width; i++) o.Write(' ');
            while (n > 0) o.Write(buf[--n]);
        }

        /// <summary>Writes a signed decimal, right-aligned in <paramref name="width"/> columns.</summary>
        public static void Signed(ITextSink o, long v, int width = 0)
        {
            if (o == null) return;
            if (v >= 0) { Dec(o, (ulong)v, width); return; }
            ulong m = (ulong)(-(v + 1)) + 1;
            int digits = 1;
            for (ulong t = m; t >= 10; t /= 10) digits++;
            for (int i = digits + 1; i < width; i++) o.Write(' ');
            o.Write('-');
            Dec(o, m, 0);
        }

        /// <summary>Writes <paramref name="v"/> in lower-case hex without leading zeros, at least <paramref name="minDigits"/> digits.</summary>
        public static void Hex(ITextSink o, ulong v, int minDigits = 1)
        {
            if (o == null) return;
            char* buf = stackalloc char[16];
            int n = 0;
            do { int d = (int)(v & 0xF); buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10); v >>= 4; } while (v != 0);
            for (int i = n; i < minDigits; i++) o.Write('0');
            while (n > 0) o.Write(buf[--n]);
        }

        /// <summary>Writes <paramref name="s"/> right-aligned in <paramref name="width"/> columns (printf "%8s").</summary>
        public static void Right(ITextSink o, string s, int width)
        {
            if (o == null) return;
            for (int i = s.Length; i < width; i++) o.Write(' ');
            o.Write(s);
        }

        /// <summary>Writes <paramref name="s"/> left-aligned in <paramref name="width"/> columns (printf "%-16s").</summary>
        public static void Left(ITextSink o, string s, int width)
        {
            if (o == null) return;
            o.Write(s);
            for (int i = s.Length; i < width; i++) o.Write(' ');
        }
    }
}
