namespace QemuBoot.Tests;

/// <summary>
/// What the kernel shell makes of a line it is sent (docs/shell.md, "How a line is read"), for
/// checking its answers: backspace and DEL erase the last character; a line longer than
/// <see cref="MaxLine"/>, one holding a byte outside printable ASCII other than TAB, or one of
/// more than <see cref="MaxWords"/> words is refused whole; the rest is split at spaces and TABs.
/// Characters here are single bytes (the tests that use this send ASCII and control characters only).
/// </summary>
public static class ShellInput
{
    public const int MaxLine = 120, MaxWords = 8;

    public static string TooLong(int length) => $"line too long: {length} characters, the limit is {MaxLine}; nothing was run";

    public static string NotPrintable(int value, int column) => $"byte 0x{value:X2} at column {column} is not printable ASCII; nothing was run";

    public static string TooManyWords(int words) => $"too many words: {words}, the limit is {MaxWords} (a command and {MaxWords - 1} arguments); nothing was run";

    /// <summary>The shell's refusal of <paramref name="sent"/>, or null and the words it runs.</summary>
    public static string? Refusal(string sent, out string[] words)
    {
        words = [];
        var line = new List<char>();
        foreach (char c in sent)
        {
            if (c is '\b' or (char)0x7F) { if (line.Count > 0) line.RemoveAt(line.Count - 1); }
            else line.Add(c);
        }
        if (line.Count > MaxLine) return TooLong(line.Count);
        int bad = line.FindIndex(c => c is not ((>= ' ' and <= '~') or '\t'));
        if (bad >= 0) return NotPrintable(line[bad], bad + 1);
        words = new string(line.ToArray()).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > MaxWords) { int n = words.Length; words = []; return TooManyWords(n); }
        return null;
    }
}
