using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>
    /// Switching the machine off (the shell's `halt`): QEMU's isa-debug-exit first (status 33),
    /// then ACPI S5 (soft off, what VMware Player and a plain QEMU answer), and if the machine is
    /// still running after that, a halted CPU with interrupts off and a line that says so.
    /// </summary>
    public static class Power
    {
        /// <summary>How long the machine may take to go off after the S5 write before the kernel gives up.</summary>
        public const ulong PowerOffWaitMicroseconds = 1000000;
        /// <summary>How long to wait for SCI_EN after writing ACPI_ENABLE to SMI_CMD.</summary>
        public const ulong AcpiModeWaitMicroseconds = 300000;

        /// <summary>Never returns.</summary>
        public static void Off()
        {
            Serial.Flush();
            DebugExit.Exit(DebugExit.Success); // QEMU with -device isa-debug-exit ends here
            Console.WriteLine("halt: still running after isa-debug-exit (no such device: not QEMU, or QEMU without it)");
            Interrupts.Disable();
            AcpiError error = Acpi.SleepError;
            if (error != AcpiError.None)
            {
                Console.Write("halt: no ACPI poweroff: ");
                Console.WriteLine(Acpi.Describe(error));
            }
            else
            {
                AcpiModeSwitch mode = Acpi.EnableAcpiMode(AcpiModeWaitMicroseconds);
                if (mode == AcpiModeSwitch.SwitchedOn) Console.WriteLine("halt: ACPI mode on (ACPI_ENABLE written to SMI_CMD)");
                else if (mode == AcpiModeSwitch.DidNotSwitch) Console.WriteLine("halt: ACPI_ENABLE written to SMI_CMD but SCI_EN stayed clear; trying S5 anyway");
                else if (mode == AcpiModeSwitch.NoSmiCommand) Console.WriteLine("halt: SCI_EN is clear and the FADT has no SMI_CMD; trying S5 anyway");
                ref AcpiInfo info = ref Acpi.Info;
                Console.Write("halt: ACPI S5 poweroff: SLP_TYPa "); Console.WriteDecimal(info.SlpTypA);
                Console.Write(" | SLP_EN into PM1a_CNT "); Acpi.PrintRegister(info.Pm1aControl);
                if (info.Pm1bControl.Present)
                {
                    Console.Write(", SLP_TYPb "); Console.WriteDecimal(info.SlpTypB);
                    Console.Write(" | SLP_EN into PM1b_CNT "); Acpi.PrintRegister(info.Pm1bControl);
                }
                Console.WriteLine();
                Serial.Flush();
                Acpi.EnterS5();
                Timer.SpinMicroseconds(PowerOffWaitMicroseconds);
                Console.WriteLine("halt: still running 1 s after the S5 write");
            }
            Console.WriteLine("halt: the machine could not be powered off; the CPU is halted with interrupts off (switch it off)");
            Serial.Flush();
            Native.HaltForever();
        }
    }
}
