using MemoryManager.Common;

namespace MemoryManager.Core
{
    /// <summary>The bytes of one 4 KiB page: copy_page() and clear_page(), a word at a time (swap, the page cache, faults).</summary>
    public static unsafe class PageBytes
    {
        /// <summary>copy_page(): copies one page from <paramref name="src"/> to <paramref name="dst"/>.</summary>
        public static void Copy(byte* dst, byte* src)
        {
            ulong* d = (ulong*)dst, s = (ulong*)src;
            for (int i = 0; i < (int)(MmConstants.PageSize / 8); i++) d[i] = s[i];
        }

        /// <summary>clear_page(): fills one page with zeroes.</summary>
        public static void Clear(byte* dst)
        {
            ulong* d = (ulong*)dst;
            for (int i = 0; i < (int)(MmConstants.PageSize / 8); i++) d[i] = 0;
        }
    }
}
