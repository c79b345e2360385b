namespace Kernel.Core.Memory
{
    /// <summary>
    /// Drops what the emulator still remembers of the code that ran before the kernel.
    ///
    /// Under QEMU TCG every guest page the firmware or the boot loader executed code from keeps
    /// its translated blocks after the kernel takes over: nothing ever overwrites those bytes.
    /// QEMU write-protects such a page in its soft TLB, so EVERY store into it goes through the
    /// self-modifying-code check (notdirty_write: page lock, code bitmap), about 1 800 TSC cycles
    /// per store here, even when the store misses the old code and invalidates nothing. GRUB runs
    /// its modules from the top of the largest usable region, which is exactly where the buddy's
    /// first small blocks (and so the per-cpu list's hot page and the first slab pages) come
    /// from: an order-0 page pair cost 5x, a 48-byte kmalloc pair up to 50x what it costs on any
    /// other page (docs/performance.md, "In the kernel").
    ///
    /// <see cref="Rewrite"/> runs once at boot, before the heap hands out the range: it looks at
    /// each page (one word per 64 bytes) and, when the page holds anything, stores every non-zero
    /// word back unchanged. A store over a translated block's bytes makes QEMU invalidate that
    /// block, and a page with no blocks left is writable at full speed again. Contents do not
    /// change, so this is harmless on real hardware (a read of the range, a few stores).
    /// Never-written RAM reads as zero and is left alone (no host memory is committed for it).
    /// Only memory below 4 GiB can hold such code (BIOS and GRUB i386-pc run in 32-bit mode).
    /// </summary>
    public static unsafe class LoaderCode
    {
        /// <summary>Above this no code ran before the kernel.</summary>
        public const ulong Limit = 0x1_0000_0000UL;

        /// <summary>Pages looked at, and pages found holding something (rewritten), since boot.</summary>
        public static ulong PagesScanned, PagesRewritten;

        /// <summary>Rewrites the non-zero words of every page in [start, end) (page-aligned inwards, clipped at 4 GiB) that is not all zero.</summary>
        public static void Rewrite(ulong start, ulong end)
        {
            const ulong page = 4096;
            start = (start + page - 1) & ~(page - 1);
            if (end > Limit) end = Limit;
            end &= ~(page - 1);
            for (ulong a = start; a < end; a += page)
            {
                ulong* w = (ulong*)a;
                PagesScanned++;
                ulong seen = 0;
                // One word per 64 bytes: translated code is never that sparse.
                for (int i = 0; i < 512 && seen == 0; i += 64)
                    seen = w[i] | w[i + 8] | w[i + 16] | w[i + 24] | w[i + 32] | w[i + 40] | w[i + 48] | w[i + 56];
                if (seen == 0) continue;
                PagesRewritten++;
                for (int i = 0; i < 512; i++)
                {
                    ulong v = w[i];
                    if (v != 0) Volatile(w + i, v);
                }
            }
        }

        // A store the compiler may not drop (it would see "store of the value just loaded").
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void Volatile(ulong* p, ulong v) => *p = v;
    }
}
