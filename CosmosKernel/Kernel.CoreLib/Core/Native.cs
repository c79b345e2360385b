using System.Runtime;
using System.Runtime.CompilerServices;

namespace Kernel.Core
{
    /// <summary>
    /// The few CPU operations C# cannot express, implemented in assembly (Kernel/boot/runtime.asm).
    /// RuntimeImport makes them direct calls without a transition frame.
    /// </summary>
    public static unsafe class Native
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_outb")]
        public static extern void OutByte(ushort port, byte value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_inb")]
        public static extern byte InByte(ushort port);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_outw")]
        public static extern void OutWord(ushort port, ushort value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_inw")]
        public static extern ushort InWord(ushort port);
        /// <summary>Disables interrupts and halts forever.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_halt")]
        public static extern void HaltForever();
        /// <summary>One `pause` instruction: a polite spin.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_pause")]
        public static extern void Pause();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_rdtsc")]
        public static extern ulong ReadTimeStampCounter();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_cr0")]
        public static extern ulong ReadCr0();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_cr2")]
        public static extern ulong ReadCr2();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_cr3")]
        public static extern ulong ReadCr3();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_write_cr3")]
        public static extern void WriteCr3(ulong value);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_cr4")]
        public static extern ulong ReadCr4();
        /// <summary>cpuid(leaf, subleaf): writes eax, ebx, ecx, edx to <paramref name="regs"/>[0..3].</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_cpuid")]
        public static extern void CpuId(uint leaf, uint subleaf, uint* regs);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_lidt")]
        public static extern void LoadIdt(void* descriptor);
        /// <summary>The table of the 32 exception entry stubs (one code address per vector).</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_isr_table")]
        public static extern ulong* ExceptionStubTable();
        /// <summary>The interface dispatch cache the assembly fast path probes.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_dispatch_cache")]
        public static extern ulong* DispatchCache();
        /// <summary>Number of interface calls the assembly fast path answered from the cache.</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_dispatch_hits")]
        public static extern ulong DispatchHits();
        /// <summary>The current stack pointer (approximately: the caller's frame).</summary>
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_rsp")]
        public static extern ulong ReadStackPointer();
    }
}
