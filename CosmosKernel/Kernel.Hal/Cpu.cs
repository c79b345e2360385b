using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kernel.Core;
using Kernel.Core.Runtime;
using Kernel.Core.Text;

namespace Kernel.Hal
{
    /// <summary>What the exception stubs (runtime.asm) save: general registers, vector, error code, then the CPU's frame.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExceptionFrame
    {
        public ulong R15, R14, R13, R12, R11, R10, R9, R8, Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
        public ulong Vector, ErrorCode;
        public ulong Rip, Cs, Rflags, Rsp, Ss;
    }

    /// <summary>
    /// The IDT: the 32 CPU exceptions, each reported as a panic instead of a triple fault, and
    /// the 16 PIC interrupt lines at vectors 0x20..0x2F (stubs in boot/irq.asm, see <see cref="Interrupts"/>).
    /// </summary>
    public static unsafe class Cpu
    {
        [StructLayout(LayoutKind.Sequential, Pack = 1)]
        private struct IdtDescriptor
        {
            public ushort Limit;
            public ulong Base;
        }

        /// <summary>Gates in the IDT: 32 exceptions + 16 IRQs. A vector above them (an `int n`) is a #GP.</summary>
        public const int GateCount = 48;

        private struct IdtTable { public fixed ulong Entries[GateCount * 2]; } // 16 bytes per gate

        private static IdtTable s_idt;
        private static IdtDescriptor s_descriptor;
        private static ExceptionFrame s_lastFrame;
        private static bool s_haveFrame;

        /// <summary>The registers of the exception being reported, if a CPU exception started the panic.</summary>
        public static bool TryGetExceptionFrame(out ExceptionFrame frame)
        {
            frame = s_lastFrame;
            return s_haveFrame;
        }

        /// <summary>Fills the 32 exception gates (64-bit interrupt gates, kernel code selector 0x08) and loads the IDT.</summary>
        public static void InstallExceptionHandlers()
        {
            ulong* stubs = Native.ExceptionStubTable();
            for (int v = 0; v < 32; v++) SetGate(v, stubs[v], v == 8 ? 1 : 0); // a double fault runs on its own stack (TSS IST1)
            Load(32);
        }

        /// <summary>
        /// Fills gates 0x20..0x2F with the IRQ stubs (<paramref name="stubs"/>[0..15]) and reloads the
        /// IDT with all 48 gates. Interrupt gates clear IF on entry; the stubs run on the current stack.
        /// </summary>
        public static void InstallIrqHandlers(ulong* stubs, int firstVector)
        {
            for (int i = 0; i < 16; i++) SetGate(firstVector + i, stubs[i], 0);
            Load(firstVector + 16);
        }

        private static void SetGate(int vector, ulong handler, int ist)
        {
            ulong low = (handler & 0xFFFF)
                      | (0x08UL << 16)                        // code segment selector
                      | ((ulong)ist << 32)
                      | (0x8EUL << 40)                        // present, DPL 0, 64-bit interrupt gate
                      | (((handler >> 16) & 0xFFFF) << 48);
            fixed (ulong* idt = s_idt.Entries)
            {
                idt[2 * vector] = low;
                idt[2 * vector + 1] = handler >> 32;
            }
        }

        private static void Load(int gates)
        {
            fixed (ulong* idt = s_idt.Entries)
            {
                s_descriptor.Limit = (ushort)(gates * 16 - 1);
                s_descriptor.Base = (ulong)idt;
            }
            fixed (IdtDescriptor* d = &s_descriptor) Native.LoadIdt(d);
        }

        /// <summary>Mnemonic of an exception vector ("#PF").</summary>
        public static string Mnemonic(ulong vector) => vector switch
        {
            0 => "#DE", 1 => "#DB", 2 => "NMI", 3 => "#BP", 4 => "#OF", 5 => "#BR", 6 => "#UD", 7 => "#NM",
            8 => "#DF", 10 => "#TS", 11 => "#NP", 12 => "#SS", 13 => "#GP", 14 => "#PF", 16 => "#MF",
            17 => "#AC", 18 => "#MC", 19 => "#XM", 20 => "#VE", 21 => "#CP", 29 => "#VC", 30 => "#SX",
            _ => "reserved",
        };

        private static string Description(ulong vector) => vector switch
        {
            0 => "divide error", 1 => "debug", 2 => "non-maskable interrupt", 3 => "breakpoint", 4 => "overflow",
            5 => "bound range exceeded", 6 => "invalid opcode", 7 => "device not available", 8 => "double fault",
            10 => "invalid TSS", 11 => "segment not present", 12 => "stack-segment fault", 13 => "general protection fault",
            14 => "page fault", 16 => "x87 floating-point error", 17 => "alignment check", 18 => "machine check",
            19 => "SIMD floating-point error", _ => "exception",
        };

        private static bool s_inFault;

        /// <summary>CPU faults turned into exceptions since boot (#PF at a null-ish address, #DE).</summary>
        public static ulong FaultsRaised { get; private set; }

        /// <summary>
        /// A #PF below 4 KiB (a null reference: page 0 is never mapped) or a #DE in managed kernel
        /// code becomes a NullReferenceException / DivideByZeroException thrown at the faulting
        /// instruction. Not in the memory manager, the kernel heap or the collector, not in
        /// assembly, not while a panic or another fault is handled: those stay panics.
        /// </summary>
        private static void TryRaise(ExceptionFrame* frame, ulong cr2)
        {
            bool nullRef = frame->Vector == 14 && cr2 < 4096;
            bool divide = frame->Vector == 0;
            if (!nullRef && !divide) return;
            if (s_inFault || Panic.InProgress || ExceptionDispatch.StackBounds == null) return;
            if (!Unwinder.FindMethod(frame->Rip, out _) || Symbols.IsNoThrowCode(frame->Rip)) return;
            EhContext ctx;
            ctx.Rip = frame->Rip; ctx.Rsp = frame->Rsp; ctx.Rbx = frame->Rbx; ctx.Rbp = frame->Rbp;
            ctx.R12 = frame->R12; ctx.R13 = frame->R13; ctx.R14 = frame->R14; ctx.R15 = frame->R15;
            s_inFault = true;
            System.Exception ex = nullRef ? new System.NullReferenceException() : new System.DivideByZeroException();
            s_inFault = false;
            FaultsRaised++;
            // The dispatcher resumes a catching frame and never comes back here: the iretq that
            // would have restored IF does not run, so interrupts come back on as they were.
            if ((frame->Rflags & 0x200) != 0) Interrupts.Enable();
            ExceptionDispatch.Dispatch(ex, ExceptionDispatch.KindHardware, &ctx);
        }

        /// <summary>Called by the assembly stubs with the saved registers: a fault that becomes an exception (<see cref="TryRaise"/>), else a panic.</summary>
        [RuntimeExport("kernel_on_exception")]
        private static void OnException(ExceptionFrame* frame)
        {
            TryRaise(frame, Native.ReadCr2());
            s_lastFrame = *frame;
            s_haveFrame = true;
            ulong cr2 = Native.ReadCr2();
            PanicText.Begin();
            PanicText.Append("CPU exception ");
            PanicText.AppendDecimal(frame->Vector);
            PanicText.Append(" (");
            PanicText.Append(Mnemonic(frame->Vector));
            PanicText.Append(") ");
            PanicText.Append(Description(frame->Vector));
            if (frame->Vector == 14)
            {
                PanicText.Append(cr2 < 4096 ? " (null reference)" : "");
                PanicText.Append(" at address ");
                PanicText.AppendHex(cr2);
                PanicText.Append((frame->ErrorCode & 2) != 0 ? " (write" : " (read");
                PanicText.Append((frame->ErrorCode & 1) != 0 ? ", protection)" : ", not present)");
            }
            if ((frame->Vector == 8 || frame->Vector == 14) && KernelStack.IsOverflow(frame->Rsp, cr2))
                PanicText.Append(" - kernel stack overflow");
            PanicText.Append(", error code ");
            PanicText.AppendHex(frame->ErrorCode);
            PanicText.Append(", RIP ");
            PanicText.AppendHex(frame->Rip);
            Panic.Fail(PanicText.Finish());
        }
    }

    /// <summary>The kernel stack (boot.asm) and the unmapped guard page below it.</summary>
    public static unsafe class KernelStack
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_stack_bounds")]
        private static extern void StackBounds(ulong* bounds);

        public static ulong Bottom { get { ulong* b = stackalloc ulong[2]; StackBounds(b); return b[0]; } }
        public static ulong Top { get { ulong* b = stackalloc ulong[2]; StackBounds(b); return b[1]; } }
        /// <summary>The page just below the stack, unmapped at boot so that an overflow faults.</summary>
        public static ulong GuardPage => Bottom - 4096;

        private static ulong s_currentBottom, s_currentTop;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_clear_dead_stack")]
        private static extern void ClearBelowStackPointer(ulong bytes);

        /// <summary>
        /// Zeroes up to <paramref name="bytes"/> of the dead stack below the caller (never the
        /// lowest page of the stack in use). Stale words there (locals of returned calls, the
        /// scheduler's task pointers from a switch) would otherwise reappear in the unwritten
        /// slots of the next frames and keep garbage alive under conservative scanning (docs/gc.md).
        /// </summary>
        public static void ClearDeadStack(ulong bytes)
        {
            CurrentBounds(out ulong bottom, out ulong _);
            ulong sp = Native.ReadStackPointer();
            ulong lowest = bottom + 4096;
            if (sp <= lowest + 256) return;
            ulong room = sp - lowest - 256;   // this call's own frame and the helper's return address lie below sp
            ClearBelowStackPointer(bytes < room ? bytes : room);
        }

        /// <summary>
        /// The stack the CPU runs on now, when it is not the boot stack (a scheduler task's heap
        /// stack): backtraces walk frames inside it. (0, 0) means the boot stack.
        /// </summary>
        public static void SetCurrent(ulong bottom, ulong top) { s_currentBottom = bottom; s_currentTop = top; }

        /// <summary>Bounds of the stack in use: the task stack set with <see cref="SetCurrent"/>, else the boot stack and its guard page.</summary>
        public static void CurrentBounds(out ulong bottom, out ulong top)
        {
            if (s_currentTop != 0) { bottom = s_currentBottom; top = s_currentTop; }
            else { bottom = GuardPage; top = Top; }
        }

        /// <summary>Does a fault with stack pointer <paramref name="rsp"/> (and address <paramref name="cr2"/>) look like an overflow?</summary>
        public static bool IsOverflow(ulong rsp, ulong cr2)
        {
            ulong guard = GuardPage;
            return (rsp >= guard - 4096 && rsp < guard + 8192) || (cr2 >= guard && cr2 < guard + 4096);
        }
    }

    /// <summary>The full panic report on every console, then the PANIC frame and exit 0x12.</summary>
    public static unsafe class PanicReport
    {
        /// <summary>Makes this the reporter <see cref="Panic.Fail"/> calls.</summary>
        public static void Install() => Panic.SetReporter(&Report);

        private static void Report(string summary)
        {
            Vga.SetColor(15, 4); // white on red: impossible to miss in a VM window
            Console.WriteLine();
            Console.WriteLine("================ KERNEL PANIC ================");
            Console.WriteLine(summary);
            if (Cpu.TryGetExceptionFrame(out ExceptionFrame f))
            {
                Console.Write("vector "); Console.WriteDecimal(f.Vector);
                Console.Write(" ("); Console.Write(Cpu.Mnemonic(f.Vector)); Console.Write(")  error code "); Console.WriteHex(f.ErrorCode); Console.WriteLine();
                Reg("RIP", f.Rip); Reg("RSP", f.Rsp); Reg("RFLAGS", f.Rflags); Console.WriteLine();
                Reg("CR2", Native.ReadCr2()); Reg("CR3", Native.ReadCr3()); Reg("CS", f.Cs); Console.WriteLine();
                Reg("RAX", f.Rax); Reg("RBX", f.Rbx); Reg("RCX", f.Rcx); Console.WriteLine();
                Reg("RDX", f.Rdx); Reg("RSI", f.Rsi); Reg("RDI", f.Rdi); Console.WriteLine();
                Reg("RBP", f.Rbp); Reg("R8", f.R8); Reg("R9", f.R9); Console.WriteLine();
                Reg("R10", f.R10); Reg("R11", f.R11); Reg("R12", f.R12); Console.WriteLine();
                Reg("R13", f.R13); Reg("R14", f.R14); Reg("R15", f.R15); Console.WriteLine();
                Backtrace.Print(f);
            }
            else
            {
                Console.Write("raised by kernel code; stack near "); Console.WriteHex(Native.ReadStackPointer()); Console.WriteLine();
                Backtrace.PrintCurrent();
            }
            Console.WriteLine("==============================================");
            Panic.SendFrameAndStop(summary); // the PANIC frame, isa-debug-exit 0x12, halt
        }

        private static void Reg(string name, ulong value)
        {
            Console.Write(name);
            for (int i = name.Length; i < 7; i++) Console.Write(' ');
            Console.WriteHex(value);
            Console.Write("  ");
        }
    }
}
