using Kernel.Hal;
using MemoryManager.Core;

namespace Kernel.Mm
{
    /// <summary>
    /// The memory manager's text output on the kernel console (COM1 and the screen). It also
    /// keeps the last <see cref="CaptureSize"/> characters in a static buffer, so a test can look
    /// for the message a refused free printed. Allocates nothing: the failure report of an
    /// exhausted heap goes through it.
    /// </summary>
    public sealed unsafe class ConsoleSink : ITextSink
    {
        public const int CaptureSize = 2048;
        private struct Buffer { public fixed char Chars[CaptureSize]; }
        private static Buffer s_buffer;
        private static int s_length;
        /// <summary>When true, text is only captured, not shown (default false: everything is shown).</summary>
        public static bool Quiet;

        public void Write(string s)
        {
            for (int i = 0; i < s.Length; i++) Write(s[i]);
        }

        public void Write(char c)
        {
            if (!Quiet) Console.Write(c);
            if (s_length == CaptureSize)
            {
                // Keep the newer half.
                for (int i = 0; i < CaptureSize / 2; i++) s_buffer.Chars[i] = s_buffer.Chars[i + CaptureSize / 2];
                s_length = CaptureSize / 2;
            }
            s_buffer.Chars[s_length++] = c;
        }

        /// <summary>Forgets the captured text.</summary>
        public static void ClearCapture() => s_length = 0;

        /// <summary>Did the text captured since <see cref="ClearCapture"/> contain <paramref name="what"/>?</summary>
        public static bool Captured(string what)
        {
            for (int i = 0; i + what.Length <= s_length; i++)
            {
                int k = 0;
                while (k < what.Length && s_buffer.Chars[i + k] == what[k]) k++;
                if (k == what.Length) return true;
            }
            return false;
        }
    }
}
