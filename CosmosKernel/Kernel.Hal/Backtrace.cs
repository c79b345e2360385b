using System.Runtime.CompilerServices;
using Kernel.Core.Runtime;

namespace Kernel.Hal
{
    /// <summary>
    /// Panic and exception backtraces with function names: frames are walked with the DWARF
    /// unwinder (<see cref="Unwinder"/>, ilc's .eh_frame) through managed code with or without a
    /// frame pointer, and by the rbp chain through assembly; each address is named by
    /// <see cref="Symbols"/> ("Kernel_Shell__Execute+0x2a"). Allocation-free: it runs inside panics.
    /// </summary>
    public static unsafe class Backtrace
    {
        public const int MaxFrames = 24;

        /// <summary>Number of symbols in the table.</summary>
        public static int SymbolCount => Symbols.Count;

        /// <summary>The function containing <paramref name="address"/>: its name (a NUL-terminated ASCII string) and the offset into it.</summary>
        public static bool Lookup(ulong address, out byte* name, out ulong offset) => Symbols.Lookup(address, out name, out offset);

        /// <summary>The name of the function containing <paramref name="address"/>, or "?" (allocates: not for panics).</summary>
        public static string NameOf(ulong address) => Symbols.NameOf(address);

        /// <summary>Prints the frames of the current call chain (the caller first).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void PrintCurrent()
        {
            EhContext ctx;
            Unwinder.CaptureContext(&ctx);
            Console.WriteLine("backtrace:");
            Walk(ctx, false);
        }

        /// <summary>Prints the frames from a CPU exception's registers: the faulting instruction first.</summary>
        public static void Print(in ExceptionFrame f)
        {
            EhContext ctx;
            ctx.Rip = f.Rip; ctx.Rsp = f.Rsp; ctx.Rbx = f.Rbx; ctx.Rbp = f.Rbp;
            ctx.R12 = f.R12; ctx.R13 = f.R13; ctx.R14 = f.R14; ctx.R15 = f.R15;
            Console.WriteLine("backtrace:");
            Walk(ctx, true);
        }

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

        /// <summary>Prints the addresses an exception recorded on its way (the throw site first).</summary>
        public static void Print(System.Exception e)
        {
            Console.WriteLine("backtrace:");
            for (int i = 0; i < e.StackFrameCount; i++) PrintFrame(e.StackFrame(i));
        }

        private static void Walk(EhContext ctx, bool exact)
        {
            KernelStack.CurrentBounds(out ulong bottom, out ulong top);
            for (int i = 0; i < MaxFrames; i++)
            {
                PrintFrame(ctx.Rip);
                if (!Unwinder.StepAny(ref ctx, exact, bottom, top)) break;
                exact = false;
            }
        }

        /// <summary>"  0000000000123456  Kernel_Shell__Execute+0x2a".</summary>
        public static void PrintFrame(ulong address)
        {
            Console.Write("  ");
            Console.WriteHex(address, 8);
            Console.Write("  ");
            if (Symbols.Lookup(address, out byte* name, out ulong offset))
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

namespace Kernel.Hal
{
    using System;

    /// <summary>
    /// Reports of exceptions: "Unhandled exception in task 3 'worker': System.X: message" and the
    /// frames the exception passed, named. Installs the dispatcher's stack bounds and the
    /// last resort for an exception no frame catches (outside any task: a panic).
    /// </summary>
    public static unsafe class ExceptionReport
    {
        /// <summary>Exceptions reported as uncaught (tasks ended, shell commands abandoned) since boot.</summary>
        public static ulong Reported { get; private set; }

        public static void Install()
        {
            ExceptionDispatch.StackBounds = &Bounds;
            ExceptionDispatch.UnhandledHandler = &Unhandled;
        }

        private static void Bounds(ulong* b)
        {
            KernelStack.CurrentBounds(out ulong bottom, out ulong top);
            b[0] = bottom; b[1] = top;
        }

        /// <summary>"&lt;where&gt;: Type: message", then the backtrace the exception recorded.</summary>
        public static void Print(string where, Exception e)
        {
            Reported++;
            Console.Write(where);
            Console.Write(": ");
            Console.Write(e.TypeName);
            string m = e.Message;
            if (m.Length != 0) { Console.Write(": "); Console.Write(m); }
            Console.WriteLine();
            Backtrace.Print(e);
        }

        private static void Unhandled(Exception e, EhContext* site)
        {
            Print("Unhandled exception (no frame catches it)", e);
            Core.Text.PanicText.Begin();
            Core.Text.PanicText.Append("unhandled exception ");
            Core.Text.PanicText.Append(e.TypeName);
            string m = e.Message;
            if (m.Length != 0) { Core.Text.PanicText.Append(": "); Core.Text.PanicText.Append(m); }
            Core.Runtime.Panic.Fail(Core.Text.PanicText.Finish());
        }
    }
}
