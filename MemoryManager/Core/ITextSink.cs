namespace MemoryManager.Core
{
    /// <summary>Where text goes: the kernel's console, a test's buffer, the simulator's stdout.</summary>
    public interface ITextSink
    {
        void Write(string s);
        void Write(char c);
    }
}
