using System.Text;

namespace TestRunner.Protocol;

/// <summary>
/// Turns the raw bytes of COM1, in whatever pieces the pipe delivers them, into serial events.
/// Lines end at \n (a \r before it is dropped). A frame may arrive split across any number of
/// reads; it is decoded once its newline arrives. Console text printed without a newline
/// right before a frame (a prompt, say) is reported as its own console line.
/// </summary>
public sealed class SerialDecoder
{
    /// <summary>Lines longer than this are cut and reported as console text, so garbage cannot grow without bound.</summary>
    public const int MaxLineBytes = 64 * 1024;

    readonly List<byte> pending = new();

    /// <summary>Feeds received bytes and returns the events of every line they complete.</summary>
    public IReadOnlyList<SerialEvent> Feed(ReadOnlySpan<byte> bytes)
    {
        var events = new List<SerialEvent>();
        foreach (byte b in bytes)
        {
            if (b == (byte)'\n')
            {
                EmitLine(events);
                continue;
            }
            pending.Add(b);
            if (pending.Count >= MaxLineBytes) EmitLine(events);
        }
        return events;
    }

    /// <summary>Reports what is left when the stream ends: a last line without its newline.</summary>
    public IReadOnlyList<SerialEvent> Flush()
    {
        var events = new List<SerialEvent>();
        if (pending.Count > 0) EmitLine(events);
        return events;
    }

    /// <summary>The bytes received since the last newline, as text (a prompt waiting for input, say).</summary>
    public string PendingText => Encoding.UTF8.GetString(pending.ToArray());

    void EmitLine(List<SerialEvent> events)
    {
        var line = pending.ToArray().AsSpan();
        pending.Clear();
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];

        int magic = FrameParser.IndexOfMagic(line);
        if (magic < 0)
        {
            events.Add(new ConsoleLine(Encoding.UTF8.GetString(line)));
            return;
        }
        if (magic > 0)
            events.Add(new ConsoleLine(Encoding.UTF8.GetString(line[..magic])));
        var result = FrameParser.Parse(line[magic..]);
        events.Add(result.IsOk
            ? new FrameReceived(result.Frame!)
            : new CorruptFrame(result.ErrorMessage!, result.Line));
    }
}
