using System.Runtime;
using System.Runtime.CompilerServices;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// Names code addresses with the symbol table the build links into the image
    /// (Kernel/boot/gen-symbols.sh: every global function of the kernel's objects, address and
    /// name). Funclets and local labels have no symbol of their own: they are named as an offset
    /// into the function before them. Allocation-free except <see cref="NameOf"/>: panics and
    /// exception reports use it.
    /// </summary>
    public static unsafe class Symbols
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_symbols")]
        private static extern ulong* SymbolTable();

        /// <summary>Number of symbols in the table.</summary>
        public static int Count => (int)SymbolTable()[0];

        /// <summary>The function containing <paramref name="address"/>: its name (a NUL-terminated ASCII string) and the offset into it.</summary>
        public static bool Lookup(ulong address, out byte* name, out ulong offset)
        {
            ulong* table = SymbolTable();
            ulong count = table[0];
            ulong best = 0;
            name = null;
            for (ulong i = 0; i < count; i++)
            {
                ulong start = table[1 + 2 * i];
                if (start <= address && start >= best) { best = start; name = (byte*)table[2 + 2 * i]; }
            }
            offset = address - best;
            return name != null && offset < 1024 * 1024;
        }

        /// <summary>The name of the function containing <paramref name="address"/>, or "?" (allocates: not for panics).</summary>
        public static string NameOf(ulong address)
        {
            if (!Lookup(address, out byte* name, out _)) return "?";
            int n = 0;
            while (name[n] != 0) n++;
            return string.FromAscii(name, n);
        }

        /// <summary>
        /// Is <paramref name="address"/> in code that must never see an exception: the memory
        /// manager ("MemoryManager_*") and the kernel's heap and collector ("Kernel_Mm_*")? A fault
        /// or a throw there is a panic: their state is not exception-safe (docs/kernel-csharp-subset.md).
        /// </summary>
        public static bool IsNoThrowCode(ulong address)
        {
            if (!s_rangesKnown) FindNoThrowRanges();
            if (s_rangesContiguous)
                return (address >= s_mmStart && address < s_mmEnd) || (address >= s_kmStart && address < s_kmEnd);
            if (!Lookup(address, out byte* name, out _)) return false;
            return StartsWith(name, "MemoryManager_") || StartsWith(name, "Kernel_Mm_");
        }

        private static ulong s_mmStart, s_mmEnd, s_kmStart, s_kmEnd;
        private static bool s_rangesKnown, s_rangesContiguous;

        /// <summary>
        /// ilc lays each assembly's methods out together: the two groups are found once as address
        /// ranges (each ends where the next foreign symbol starts). If some foreign symbol lies
        /// inside a range, every check looks the name up instead.
        /// </summary>
        private static void FindNoThrowRanges()
        {
            Range("MemoryManager_", out s_mmStart, out s_mmEnd, out bool mmOk);
            Range("Kernel_Mm_", out s_kmStart, out s_kmEnd, out bool kmOk);
            s_rangesContiguous = mmOk && kmOk;
            s_rangesKnown = true;
        }

        private static void Range(string prefix, out ulong start, out ulong end, out bool contiguous)
        {
            ulong* table = SymbolTable();
            ulong count = table[0];
            ulong lo = ulong.MaxValue, hi = 0;
            for (ulong i = 0; i < count; i++)
            {
                if (!StartsWith((byte*)table[2 + 2 * i], prefix)) continue;
                ulong a = table[1 + 2 * i];
                if (a < lo) lo = a;
                if (a > hi) hi = a;
            }
            contiguous = true;
            ulong next = ulong.MaxValue;
            for (ulong i = 0; i < count; i++)
            {
                ulong a = table[1 + 2 * i];
                bool mine = StartsWith((byte*)table[2 + 2 * i], prefix);
                if (!mine && a >= lo && a <= hi) contiguous = false;
                if (a > hi && a < next) next = a;
            }
            start = lo;
            end = hi == 0 ? 0 : next;
        }

        private static bool StartsWith(byte* name, string prefix)
        {
            for (int i = 0; i < prefix.Length; i++) if (name[i] != (byte)prefix[i]) return false;
            return true;
        }
    }
}
