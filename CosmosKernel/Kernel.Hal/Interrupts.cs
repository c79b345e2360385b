using System.Runtime;
using System.Runtime.CompilerServices;
using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>
    /// Hardware interrupts through the two 8259 PICs (master 0x20/0x21, slave 0xA0/0xA1),
    /// remapped so IRQ 0..15 arrive at vectors 0x20..0x2F, above the CPU exceptions.
    /// The stubs (Kernel/boot/irq.asm) do all the work in assembly: IRQ0 counts jiffies
    /// (<see cref="Timer.Jiffies"/>), spurious IRQ7/IRQ15 are recognised by the in-service
    /// register and counted, every other line stays masked. COM1 and the keyboard stay polled.
    /// </summary>
    public static unsafe class Interrupts
    {
        public const int FirstVector = 0x20;
        public const int LineCount = 16;
        private const ushort MasterCommand = 0x20, MasterData = 0x21, SlaveCommand = 0xA0, SlaveData = 0xA1;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_irq_table")]
        private static extern ulong* StubTable();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_irq_count")]
        private static extern ulong IrqCount(int irq);
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_spurious_irqs")]
        private static extern ulong SpuriousIrqs();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_sti")]
        private static extern void Sti();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_cli")]
        private static extern void Cli();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_idle_halt")]
        private static extern void StiHlt();
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_read_rflags")]
        private static extern ulong ReadFlags();

        private static bool s_initialised;

        /// <summary>True once <see cref="Init"/> remapped the PICs and installed the IRQ gates.</summary>
        public static bool Initialised => s_initialised;

        /// <summary>
        /// Installs the 16 IRQ gates, remaps the PICs to 0x20/0x28 and masks every line.
        /// Interrupts stay disabled (IF clear) until <see cref="Enable"/>.
        /// </summary>
        public static void Init()
        {
            Cpu.InstallIrqHandlers(StubTable(), FirstVector);
            Native.OutByte(MasterCommand, 0x11); Wait();      // ICW1: initialise, ICW4 follows
            Native.OutByte(SlaveCommand, 0x11); Wait();
            Native.OutByte(MasterData, FirstVector); Wait();  // ICW2: vector offsets
            Native.OutByte(SlaveData, FirstVector + 8); Wait();
            Native.OutByte(MasterData, 0x04); Wait();         // ICW3: a slave on IRQ2
            Native.OutByte(SlaveData, 0x02); Wait();          //       the slave's cascade identity
            Native.OutByte(MasterData, 0x01); Wait();         // ICW4: 8086 mode, normal EOI
            Native.OutByte(SlaveData, 0x01); Wait();
            Native.OutByte(MasterData, 0xFF);                 // everything masked
            Native.OutByte(SlaveData, 0xFF);
            s_initialised = true;
        }

        /// <summary>A write to the POST port: the old PICs want a moment between initialisation words.</summary>
        private static void Wait() => Native.OutByte(0x80, 0);

        /// <summary>Lets <paramref name="irq"/> through its PIC (a slave line also needs the cascade, IRQ2).</summary>
        public static void Unmask(int irq)
        {
            if (irq < 8) Native.OutByte(MasterData, (byte)(Native.InByte(MasterData) & ~(1 << irq)));
            else
            {
                Native.OutByte(SlaveData, (byte)(Native.InByte(SlaveData) & ~(1 << (irq - 8))));
                Native.OutByte(MasterData, (byte)(Native.InByte(MasterData) & ~(1 << 2)));
            }
        }

        public static void Mask(int irq)
        {
            if (irq < 8) Native.OutByte(MasterData, (byte)(Native.InByte(MasterData) | (1 << irq)));
            else Native.OutByte(SlaveData, (byte)(Native.InByte(SlaveData) | (1 << (irq - 8))));
        }

        /// <summary>The master PIC's interrupt mask register (bit n set: IRQ n masked).</summary>
        public static byte MasterMask => Native.InByte(MasterData);
        /// <summary>The slave PIC's interrupt mask register (bit n set: IRQ 8+n masked).</summary>
        public static byte SlaveMask => Native.InByte(SlaveData);

        /// <summary>Interrupts handled on line <paramref name="irq"/> (spurious ones excluded).</summary>
        public static ulong Count(int irq) => IrqCount(irq);

        /// <summary>Spurious IRQ7 and IRQ15 seen (no EOI for IRQ7; master EOI only for IRQ15).</summary>
        public static ulong SpuriousCount => SpuriousIrqs();

        /// <summary>sti. Call once the PICs are remapped and the gates installed.</summary>
        public static void Enable() => Sti();

        public static void Disable() => Cli();

        /// <summary>Is IF set?</summary>
        public static bool Enabled => (ReadFlags() & 0x200) != 0;

        /// <summary>`sti; hlt`: sleeps until the next interrupt (the idle task's loop).</summary>
        public static void WaitForInterrupt() => StiHlt();
    }
}
