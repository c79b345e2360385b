using System.Runtime.CompilerServices;

namespace MemoryManager.Gc
{
    /// <summary>
    /// One bit per granule (2^GranuleShift bytes) of an address range, in memory the caller
    /// sets aside (the collector's mark bits; the kernel's "this block is a managed object"
    /// bits). Plain data: copying it copies the view, not the bits. Allocates nothing.
    /// </summary>
    public unsafe struct GcBitmap
    {
        /// <summary>The bits: bit (a - Base) &gt;&gt; GranuleShift of word / 64.</summary>
        public ulong* Words;
        /// <summary>Words of <see cref="Words"/>.</summary>
        public ulong WordCount;
        /// <summary>First address covered (granule-aligned).</summary>
        public ulong Base;
        /// <summary>Address just past the covered range.</summary>
        public ulong End;
        public int GranuleShift;

        /// <summary>Bytes of bitmap that cover <paramref name="spanBytes"/> bytes at one bit per 2^granuleShift bytes (whole 64-bit words).</summary>
        public static ulong BytesFor(ulong spanBytes, int granuleShift)
        {
            ulong bits = (spanBytes + (1UL << granuleShift) - 1) >> granuleShift;
            return (bits + 63) / 64 * 8;
        }

        /// <summary>
        /// A bitmap over [<paramref name="start"/>, <paramref name="end"/>) in
        /// <paramref name="bytes"/> bytes at <paramref name="words"/>; false (and an empty
        /// view) when the memory is too small, the range empty or misaligned, or the granule
        /// outside 3 .. 12. The bits are cleared.
        /// </summary>
        public static bool Create(ulong start, ulong end, int granuleShift, ulong* words, ulong bytes, out GcBitmap map)
        {
            map = default;
            if (words == null || end <= start || granuleShift < 3 || granuleShift > 12) return false;
            if ((start & ((1UL << granuleShift) - 1)) != 0) return false;
            if (bytes < BytesFor(end - start, granuleShift)) return false;
            map.Words = words;
            map.WordCount = BytesFor(end - start, granuleShift) / 8;
            map.Base = start;
            map.End = end;
            map.GranuleShift = granuleShift;
            map.ClearAll();
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Covers(ulong a) => a >= Base && a < End;

        /// <summary>Is the bit of <paramref name="a"/> set? False outside the range.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Test(ulong a)
        {
            if (a < Base || a >= End) return false;
            ulong bit = (a - Base) >> GranuleShift;
            return (Words[bit >> 6] & (1UL << (int)(bit & 63))) != 0;
        }

        /// <summary>Sets the bit of <paramref name="a"/>; returns whether it was set before (true outside the range: nothing to set).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TestAndSet(ulong a)
        {
            if (a < Base || a >= End) return true;
            ulong bit = (a - Base) >> GranuleShift;
            ulong* w = Words + (bit >> 6);
            ulong m = 1UL << (int)(bit & 63);
            if ((*w & m) != 0) return true;
            *w |= m;
            return false;
        }

        /// <summary>Clears the bit of <paramref name="a"/>; returns whether it was set.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TestAndClear(ulong a)
        {
            if (a < Base || a >= End) return false;
            ulong bit = (a - Base) >> GranuleShift;
            ulong* w = Words + (bit >> 6);
            ulong m = 1UL << (int)(bit & 63);
            if ((*w & m) == 0) return false;
            *w &= ~m;
            return true;
        }

        /// <summary>The address of the first set bit's granule at or above <paramref name="from"/>, or 0 when none.</summary>
        public ulong NextSet(ulong from)
        {
            if (from < Base) from = Base;
            if (from >= End) return 0;
            ulong bit = (from - Base) >> GranuleShift;
            ulong w = bit >> 6;
            ulong word = Words[w] & (~0UL << (int)(bit & 63));
            while (true)
            {
                if (word != 0)
                {
                    ulong a = Base + (((w << 6) + (ulong)LowestBit(word)) << GranuleShift);
                    return a < End ? a : 0;
                }
                if (++w >= WordCount) return 0;
                word = Words[w];
            }
        }

        /// <summary>Clears every bit.</summary>
        public void ClearAll()
        {
            for (ulong i = 0; i < WordCount; i++) Words[i] = 0;
        }

        /// <summary>Clears the words that hold the bits of [<paramref name="lo"/>, <paramref name="hi"/>] (whole words: neighbours' bits too).</summary>
        public void ClearRange(ulong lo, ulong hi)
        {
            if (hi < lo || hi < Base || lo >= End) return;
            if (lo < Base) lo = Base;
            if (hi >= End) hi = End - 1;
            ulong first = ((lo - Base) >> GranuleShift) >> 6, last = ((hi - Base) >> GranuleShift) >> 6;
            for (ulong i = first; i <= last; i++) Words[i] = 0;
        }

        /// <summary>Set bits in the whole map.</summary>
        public ulong Count()
        {
            ulong n = 0;
            for (ulong i = 0; i < WordCount; i++) n += (ulong)PopCount(Words[i]);
            return n;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int LowestBit(ulong v)
        {
            int n = 0;
            if ((v & 0xFFFFFFFFUL) == 0) { n += 32; v >>= 32; }
            if ((v & 0xFFFFUL) == 0) { n += 16; v >>= 16; }
            if ((v & 0xFFUL) == 0) { n += 8; v >>= 8; }
            if ((v & 0xFUL) == 0) { n += 4; v >>= 4; }
            if ((v & 0x3UL) == 0) { n += 2; v >>= 2; }
            if ((v & 0x1UL) == 0) n += 1;
            return n;
        }

        private static int PopCount(ulong v)
        {
            v = v - ((v >> 1) & 0x5555555555555555UL);
            v = (v & 0x3333333333333333UL) + ((v >> 2) & 0x3333333333333333UL);
            v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FUL;
            return (int)((v * 0x0101010101010101UL) >> 56);
        }
    }
}
