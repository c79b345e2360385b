using System.Runtime;
using System.Runtime.CompilerServices;

namespace Kernel.Hal
{
    /// <summary>
    /// Names code addresses with the symbol table the build links into the image
    /// (Kernel/boot/gen-symbols.sh: every global function of the kernel's objects), and walks the
    /// frame-pointer chain for panic backtraces. Allocation-free: it runs inside panics.
    /// </summary>
    public static unsafe class Backtrace
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_symbols")]
        private static extern ulong* SymbolTable();

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_rbp")]
        private static extern ulong ReadFramePointer();

        public const int MaxFrames = 16;

        /// <summary>Number of symbols in the table.</summary>
        public static int SymbolCount => (int)SymbolTable()[0];

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

        /// <summary>Prints the frames of the current call chain (the caller first).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void PrintCurrent() => Print(0, ReadFramePointer());

        /// <summary>Prints <paramref name="rip"/> (if not 0) and then the return addresses up the rbp chain.</summary>
        public static void Print(ulong rip, ulong rbp)
        {
            Console.WriteLine("backtrace:");
            if (rip != 0) PrintFrame(rip);
            KernelStack.CurrentBounds(out ulong bottom, out ulong top);
            for (int i = 0; i < MaxFrames; i++)
            {
                if (rbp < bottom || rbp + 16 > top || (rbp & 7) != 0) break;
                ulong ret = *(ulong*)(rbp + 8);
                if (ret == 0) break;
                PrintFrame(ret);
                ulong next = *(ulong*)rbp;
                if (next <= rbp) break;
                rbp = next;
            }
        }

        private static void PrintFrame(ulong address)
        {
            Console.Write("  ");
            Console.WriteHex(address, 8);
            Console.Write("  ");
            if (Lookup(address, out byte* name, out ulong offset))
            {
                for (int i = 0; name[i] != 0 && i < 120; i++) Console.Write((char)name[i]);
                Console.Write("+");
                Console.WriteHex(offset, 1);
            }
            else Console.Write("?");
            Console.WriteLine();
        }
    }
}
