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
            if (!Lookup(address, out byte* name, out _)) return false;
            return StartsWith(name, "MemoryManager_") || StartsWith(name, "Kernel_Mm_");
        }

        private static bool StartsWith(byte* name, string prefix)
        {
            for (int i = 0; i < prefix.Length; i++) if (name[i] != (byte)prefix[i]) return false;
            return true;
        }
    }
}
