using System.Globalization;
using System.Text;

namespace TestRunner.Protocol;

/// <summary>
/// Decodes one serial line into a frame. A line is a frame candidate when it starts with
/// the magic <c>#KT1 </c>; a candidate that breaks the contract (unknown kind, LEN that is
/// not the payload's byte length, bad escape, wrong field count, a number that is not a
/// number) is refused with a message that names what is wrong.
/// </summary>
public static class FrameParser
{
    /// <summary>The magic prefix that opens every frame, with its one space.</summary>
    public const string Magic = "#KT1 ";

    static readonly byte[] MagicBytes = Encoding.ASCII.GetBytes(Magic);

    static readonly Dictionary<string, FrameKind> Kinds = new(StringComparer.Ordinal)
    {
        ["READY"] = FrameKind.Ready,
        ["SUITE"] = FrameKind.Suite,
        ["TEST"] = FrameKind.Test,
        ["PASS"] = FrameKind.Pass,
        ["FAIL"] = FrameKind.Fail,
        ["SKIP"] = FrameKind.Skip,
        ["ENDSUITE"] = FrameKind.EndSuite,
        ["METRIC"] = FrameKind.Metric,
        ["PANIC"] = FrameKind.Panic,
        ["END"] = FrameKind.End,
        ["NOSUITE"] = FrameKind.NoSuite,
        ["PLAN"] = FrameKind.Plan,
        [MemoryTrace.Sample.FrameKind] = FrameKind.Sample,
    };

    /// <summary>Returns the contract's word for a kind (READY, ENDSUITE, ...).</summary>
    public static string KindWord(FrameKind kind) => kind.ToString().ToUpperInvariant();

    /// <summary>Returns the index where a frame starts inside a raw line, or -1 when it holds none.</summary>
    public static int IndexOfMagic(ReadOnlySpan<byte> line) => line.IndexOf(MagicBytes);

    /// <summary>Returns true when the text line is a frame candidate (starts with the magic).</summary>
    public static bool IsFrameLine(string line) => line.StartsWith(Magic, StringComparison.Ordinal);

    /// <summary>Parses a frame from a text line (no newline); see <see cref="Parse(ReadOnlySpan{byte})"/>.</summary>
    public static FrameParseResult Parse(string line) => Parse(Encoding.UTF8.GetBytes(line));

    /// <summary>
    /// Parses one raw line (its trailing \n or \r\n may be present and is ignored) that starts
    /// with the magic; LEN is checked against the payload's length in bytes as received.
    /// </summary>
    public static FrameParseResult Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\n') line = line[..^1];
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        string shown = Encoding.UTF8.GetString(line);
        if (!line.StartsWith(MagicBytes))
            return FrameParseResult.Error($"not a frame (does not start with '{Magic}')", shown);

        var rest = line[MagicBytes.Length..];
        int kindEnd = rest.IndexOf((byte)' ');
        if (kindEnd <= 0)
            return FrameParseResult.Error("missing KIND or LEN after the magic", shown);
        string kindWord = Encoding.ASCII.GetString(rest[..kindEnd]);
        if (!Kinds.TryGetValue(kindWord, out var kind))
            return FrameParseResult.Error($"unknown frame kind '{kindWord}'", shown);

        rest = rest[(kindEnd + 1)..];
        int lenEnd = rest.IndexOf((byte)' ');
        var lenText = lenEnd < 0 ? rest : rest[..lenEnd];
        if (lenText.Length == 0 || lenText.Length > 9 || !AllDigits(lenText))
            return FrameParseResult.Error($"LEN '{Encoding.UTF8.GetString(lenText)}' is not a decimal byte count", shown);
        int len = int.Parse(Encoding.ASCII.GetString(lenText), NumberStyles.None, CultureInfo.InvariantCulture);
        var payload = lenEnd < 0 ? ReadOnlySpan<byte>.Empty : rest[(lenEnd + 1)..];
        if (lenEnd < 0 && len != 0)
            return FrameParseResult.Error($"LEN says {len} bytes but the frame has no payload", shown);
        if (payload.Length != len)
            return FrameParseResult.Error($"LEN mismatch: LEN says {len} bytes but the payload has {payload.Length}", shown);

        string text;
        try { text = new UTF8Encoding(false, true).GetString(payload); }
        catch (DecoderFallbackException) { return FrameParseResult.Error("payload is not valid UTF-8", shown); }

        var fields = SplitAndUnescape(text, FieldCount(kind), out string? escapeError);
        if (escapeError != null)
            return FrameParseResult.Error($"malformed {kindWord} payload: {escapeError}", shown);
        string? fieldError = CheckFields(kind, fields);
        if (fieldError != null)
            return FrameParseResult.Error($"malformed {kindWord} payload: {fieldError}", shown);
        return FrameParseResult.Ok(new Frame(kind, fields));
    }

    /// <summary>Escapes a payload field the way the kernel does: \ as \\ and newline as \n.</summary>
    public static string Escape(string text) => text.Replace("\\", "\\\\").Replace("\n", "\\n");

    /// <summary>Formats a frame line exactly as the kernel writes it (without the newline).</summary>
    public static string Format(FrameKind kind, params string[] fields)
    {
        string payload = string.Join('\t', fields.Select(Escape));
        return $"{Magic}{KindWord(kind)} {Encoding.UTF8.GetByteCount(payload)} {payload}";
    }

    static int FieldCount(FrameKind kind) => kind switch
    {
        FrameKind.Ready or FrameKind.Suite or FrameKind.Panic => 1,
        FrameKind.Test or FrameKind.NoSuite or FrameKind.Plan => 2,
        FrameKind.Sample => MemoryTrace.Sample.FieldCount,
        _ => 3,
    };

    static List<string> SplitAndUnescape(string payload, int count, out string? error)
    {
        error = null;
        // TAB is never escaped, so splitting first is safe; the last field keeps any further TABs.
        var raw = count == 1 ? new[] { payload } : payload.Split('\t', count);
        var fields = new List<string>(raw.Length);
        foreach (var field in raw)
        {
            var sb = new StringBuilder(field.Length);
            for (int i = 0; i < field.Length; i++)
            {
                char c = field[i];
                if (c != '\\') { sb.Append(c); continue; }
                if (i + 1 == field.Length) { error = "payload ends in a lone backslash"; return fields; }
                char next = field[++i];
                if (next == '\\') sb.Append('\\');
                else if (next == 'n') sb.Append('\n');
                else { error = $"unknown escape '\\{next}' (only \\\\ and \\n exist)"; return fields; }
            }
            fields.Add(sb.ToString());
        }
        return fields;
    }

    static string? CheckFields(FrameKind kind, List<string> f)
    {
        int expected = FieldCount(kind);
        if (f.Count != expected)
            return $"expected {expected} TAB-separated fields but found {f.Count}";
        switch (kind)
        {
            case FrameKind.Suite:
                if (f[0].Length == 0) return "empty suite name";
                break;
            case FrameKind.Test:
            case FrameKind.Fail:
            case FrameKind.Skip:
                if (f[0].Length == 0 || f[1].Length == 0) return "empty suite or test name";
                break;
            case FrameKind.Pass:
                if (f[0].Length == 0 || f[1].Length == 0) return "empty suite or test name";
                if (!IsCount(f[2])) return $"cycles '{f[2]}' is not an unsigned decimal number";
                break;
            case FrameKind.EndSuite:
                if (f[0].Length == 0) return "empty suite name";
                if (!IsCount(f[1]) || !IsCount(f[2])) return $"counts '{f[1]}', '{f[2]}' are not unsigned decimal numbers";
                break;
            case FrameKind.End:
                if (!IsCount(f[0]) || !IsCount(f[1]) || !IsCount(f[2]))
                    return $"counts '{f[0]}', '{f[1]}', '{f[2]}' are not unsigned decimal numbers";
                break;
            case FrameKind.NoSuite:
                if (f[0].Length == 0) return "empty suite name";
                if (f[1].Length == 0) return "empty suite list";
                if (f[1].Split(' ').Any(name => name.Length == 0))
                    return $"suite list '{f[1]}' is not names separated by single spaces";
                break;
            case FrameKind.Plan:
                if (f[0].Length == 0) return "empty suite name";
                if (f[1].Length > 0 && f[1].Split(' ').Any(name => name.Length == 0))
                    return $"test list '{f[1]}' is not names separated by single spaces";
                break;
            case FrameKind.Sample:
                if (MemoryTrace.Sample.Parse(f, out var sampleError) == null) return sampleError;
                break;
            case FrameKind.Metric:
                if (f[0].Length == 0) return "empty metric name";
                if (!double.TryParse(f[1], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    return $"metric value '{f[1]}' is not a number";
                break;
        }
        return null;
    }

    static bool IsCount(string s) =>
        s.Length > 0 && ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    static bool AllDigits(ReadOnlySpan<byte> s)
    {
        foreach (var b in s) if (b < (byte)'0' || b > (byte)'9') return false;
        return true;
    }
}

/// <summary>The result of parsing one frame line: a frame, or an error with the offending line.</summary>
public readonly record struct FrameParseResult(Frame? Frame, string? ErrorMessage, string Line)
{
    public bool IsOk => Frame != null;
    public static FrameParseResult Ok(Frame frame) => new(frame, null, "");
    public static FrameParseResult Error(string message, string line) => new(null, message, line);
}
