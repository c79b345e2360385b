namespace MemoryManager.Core
{
    /// <summary>The clock, in ticks (HZ ticks per second), supplied from outside.</summary>
    public interface IClock
    {
        ulong Ticks { get; }
        /// <summary>Ticks per second (Linux's HZ).</summary>
        uint Hz { get; }
    }
}
