using System.Globalization;

namespace MemoryTrace;

/// <summary>One populated zone of one node at a sample: pages.</summary>
public sealed record ZoneSample(int Node, string Zone, long Free, long Min, long Low, long High, long Managed, long Pcp)
{
    /// <summary>The zone's key in CSV column names and plot titles: node0_DMA32.</summary>
    public string Key => $"node{Node}_{Zone}";
}

/// <summary>One process (not init, not a kernel thread) at a sample, in the kernel's ps units.</summary>
public sealed record ProcessSample(int Pid, string Comm, long RssKb, long SwapKb);

/// <summary>An OOM kill: when (clock tick, at <paramref name="Hz"/> ticks a second), and its victim.</summary>
public sealed record OomKillEvent(long Tick, int Pid, string Comm, int Hz)
{
    public double Seconds => (double)Tick / Hz;
}

/// <summary>
/// One SAMPLE frame (docs/memory-trace.md), as the kernel and the simulator write it with
/// MemoryManager/Trace/TraceSample.cs. Counters are cumulative since boot; SwapUsed (pages) is a level.
/// </summary>
public sealed record Sample(
    long Tick, int Hz,
    IReadOnlyList<ZoneSample> Zones,
    IReadOnlyList<(int Node, string Kswapd)> Nodes,
    long PgscanKswapd, long PgscanDirect, long PgstealKswapd, long PgstealDirect,
    long Allocstall, long OomKill, long SwapUsed, long KswapdWakes,
    IReadOnlyList<ProcessSample> Processes,
    IReadOnlyList<OomKillEvent> Kills)
{
    /// <summary>Seconds since boot.</summary>
    public double Seconds => (double)Tick / Hz;

    /// <summary>The frame kind that carries a sample.</summary>
    public const string FrameKind = "SAMPLE";

    /// <summary>Fields of a SAMPLE payload, separated by TAB.</summary>
    public const int FieldCount = 6;

    static readonly string[] KswapdStates = ["sleeping", "running", "napping"];

    /// <summary>Parses a SAMPLE frame's payload (its <see cref="FieldCount"/> TAB-separated fields); null and what is wrong when it is malformed.</summary>
    public static Sample? Parse(string payload, out string? error) => Parse(payload.Split('\t'), out error);

    /// <summary>Parses a SAMPLE frame's fields; null and what is wrong when they are malformed.</summary>
    public static Sample? Parse(IReadOnlyList<string> f, out string? error)
    {
        error = null;
        if (f.Count != FieldCount) { error = $"expected {FieldCount} TAB-separated fields but found {f.Count}"; return null; }
        var clock = f[0].Split('/');
        if (clock.Length != 2 || !Count(clock[0], out long tick) || !Count(clock[1], out long hz) || hz == 0 || hz > 100000)
        { error = $"clock '{f[0]}' is not tick/hz"; return null; }

        var zones = new List<ZoneSample>();
        foreach (var entry in Entries(f[1]))
        {
            var w = entry.Split(' ');
            if (w.Length != 8 || !Count(w[0], out long nid) || !IsWord(w[1]) || !Signed(w[2], out long free) || !Signed(w[3], out long min)
                || !Signed(w[4], out long low) || !Signed(w[5], out long high) || !Count(w[6], out long managed) || !Signed(w[7], out long pcp))
            { error = $"zone '{entry}' is not 'nid zone free min low high managed pcp'"; return null; }
            zones.Add(new ZoneSample((int)nid, w[1], free, min, low, high, managed, pcp));
        }
        if (zones.Count == 0) { error = "a sample has no zones"; return null; }

        var nodes = new List<(int, string)>();
        foreach (var entry in Entries(f[2]))
        {
            var w = entry.Split(' ');
            if (w.Length != 2 || !Count(w[0], out long nid) || !KswapdStates.Contains(w[1]))
            { error = $"node '{entry}' is not 'nid sleeping|running|napping'"; return null; }
            nodes.Add(((int)nid, w[1]));
        }
        if (nodes.Count == 0) { error = "a sample has no nodes"; return null; }

        var c = f[3].Split(' ');
        var counters = new long[8];
        if (c.Length != 8 || c.Select((text, i) => Count(text, out counters[i])).Any(ok => !ok))
        { error = $"counters '{f[3]}' are not 8 unsigned numbers (pgscan_kswapd pgscan_direct pgsteal_kswapd pgsteal_direct allocstall oom_kill swap_used kswapd_wakes)"; return null; }

        var processes = new List<ProcessSample>();
        foreach (var entry in Entries(f[4]))
        {
            var w = entry.Split(' ');
            if (w.Length != 4 || !Count(w[0], out long pid) || !IsWord(w[1]) || !Count(w[2], out long rss) || !Count(w[3], out long swap))
            { error = $"process '{entry}' is not 'pid comm rss_kb swap_kb'"; return null; }
            processes.Add(new ProcessSample((int)pid, w[1], rss, swap));
        }

        var kills = new List<OomKillEvent>();
        foreach (var entry in Entries(f[5]))
        {
            var w = entry.Split(' ');
            if (w.Length != 3 || !Count(w[0], out long at) || !Count(w[1], out long pid) || !IsWord(w[2]))
            { error = $"kill '{entry}' is not 'tick pid comm'"; return null; }
            kills.Add(new OomKillEvent(at, (int)pid, w[2], (int)hz));
        }

        return new Sample(tick, (int)hz, zones, nodes, counters[0], counters[1], counters[2], counters[3],
            counters[4], counters[5], counters[6], counters[7], processes, kills);
    }

    static IEnumerable<string> Entries(string field) => field.Length == 0 ? [] : field.Split(';');

    static bool Count(string s, out long v) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);

    static bool Signed(string s, out long v) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);

    /// <summary>A name as the writer makes it: letters, digits, '_', '-', '.', or a lone '?'.</summary>
    static bool IsWord(string s) =>
        s == "?" || (s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.'));
}
