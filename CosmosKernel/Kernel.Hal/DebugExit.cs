using Kernel.Core;

namespace Kernel.Hal
{
    /// <summary>Exit codes written to QEMU's isa-debug-exit device (port 0xF4; QEMU exits with (code &lt;&lt; 1) | 1).</summary>
    public static class DebugExit
    {
        public const ushort Port = 0xF4;
        /// <summary>All requested tests passed, or a clean halt (QEMU status 33).</summary>
        public const byte Success = 0x10;
        /// <summary>At least one test failed (QEMU status 35).</summary>
        public const byte TestsFailed = 0x11;
        /// <summary>Kernel panic (QEMU status 37).</summary>
        public const byte Panic = 0x12;
        /// <summary>kmain returned (QEMU status 39).</summary>
        public const byte KernelReturned = 0x13;

        /// <summary>
        /// Ends the virtual machine with <paramref name="code"/>. Without the device (real hardware,
        /// VMware) the write does nothing and this returns.
        /// </summary>
        public static void Exit(byte code) => Native.OutByte(Port, code);
    }
}
