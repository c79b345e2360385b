namespace MemoryManager.Core
{
    /// <summary>Where text goes: the kernel's console, a test's buffer, the simulator's stdout.</summary>
    public interface ITextSink
    {
        void Write(string s);
        void Write(char c);
    }

    /// <summary>The clock, in ticks (HZ ticks per second), supplied from outside.</summary>
    public interface IClock
    {
        ulong Ticks { get; }
        /// <summary>Ticks per second (Linux's HZ).</summary>
        uint Hz { get; }
    }
}
