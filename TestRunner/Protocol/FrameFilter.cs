namespace TestRunner.Protocol;

/// <summary>
/// What a person at the terminal of <c>TestRunner run</c> sees of COM1: everything but the protocol's frames. Bytes go
/// through as they arrive (a prompt without its newline shows at once), except a line that starts with
/// <c>#KT1 </c>, which is dropped with its newline: the <c>READY</c> frame before each prompt is for the runner, not for
/// people. The frame's first bytes are held back only until they can no longer be a frame's start.
/// </summary>
public sealed class FrameFilter
{
    static readonly byte[] Magic = System.Text.Encoding.ASCII.GetBytes(FrameParser.Magic);
    readonly List<byte> held = new();
    bool atLineStart = true, dropping;

    /// <summary>The bytes of <paramref name="input"/> a person should see, in order.</summary>
    public byte[] Feed(ReadOnlySpan<byte> input)
    {
        var shown = new List<byte>(input.Length);
        foreach (byte b in input)
        {
            if (dropping)
            {
                if (b == (byte)'\n') { dropping = false; atLineStart = true; }
                continue;
            }
            if (atLineStart || held.Count > 0)
            {
                held.Add(b);
                if (held.Count <= Magic.Length && held[^1] == Magic[held.Count - 1])
                {
                    if (held.Count == Magic.Length) { held.Clear(); dropping = true; atLineStart = false; }
                    continue;
                }
                shown.AddRange(held);
                held.Clear();
            }
            else shown.Add(b);
            atLineStart = b == (byte)'\n';
        }
        return shown.ToArray();
    }
}
