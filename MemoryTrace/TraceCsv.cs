using System.Globalization;
using System.Text;

namespace MemoryTrace;

/// <summary>
/// trace.csv (docs/memory-trace.md): one row per sample, columns per node and zone so that a
/// machine with more nodes gets more columns and nothing else changes:
/// <c>tick, seconds, node&lt;N&gt;_&lt;zone&gt;_{free,min,low,high,managed,pcp}</c> for each zone,
/// <c>node&lt;N&gt;_kswapd</c> for each node, the counters, <c>oom_kills</c> (the victims killed
/// since the previous row, <c>pid:comm</c> separated by spaces), then
/// <c>pid&lt;P&gt;_&lt;comm&gt;_{rss_kb,swap_kb}</c> for every process the trace saw (empty where it did
/// not exist). Zones, nodes and processes are in the order they first appear. LF line ends,
/// invariant culture: the same samples give the same bytes.
/// </summary>
public static class TraceCsv
{
    public const string FileName = "trace.csv";

    static readonly string[] ZoneFields = ["free", "min", "low", "high", "managed", "pcp"];
    static readonly string[] Counters = ["pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "allocstall", "oom_kill", "swap_used_pages", "kswapd_wakes"];

    public static string Write(IReadOnlyList<Sample> samples)
    {
        var zones = samples.SelectMany(s => s.Zones.Select(z => z.Key)).Distinct().ToList();
        var nodes = samples.SelectMany(s => s.Nodes.Select(n => n.Node)).Distinct().ToList();
        var processes = samples.SelectMany(s => s.Processes.Select(p => (p.Pid, p.Comm))).Distinct().ToList();

        var header = new List<string> { "tick", "seconds" };
        foreach (var z in zones) header.AddRange(ZoneFields.Select(f => $"{z}_{f}"));
        header.AddRange(nodes.Select(n => $"node{n}_kswapd"));
        header.AddRange(Counters);
        header.Add("oom_kills");
        foreach (var (pid, comm) in processes) { header.Add($"pid{pid}_{comm}_rss_kb"); header.Add($"pid{pid}_{comm}_swap_kb"); }

        var csv = new StringBuilder();
        csv.Append(string.Join(',', header)).Append('\n');
        foreach (var s in samples)
        {
            var row = new List<string> { N(s.Tick), s.Seconds.ToString("0.000", CultureInfo.InvariantCulture) };
            foreach (var key in zones)
            {
                var z = s.Zones.FirstOrDefault(z => z.Key == key);
                row.AddRange(z == null ? ZoneFields.Select(_ => "") : [N(z.Free), N(z.Min), N(z.Low), N(z.High), N(z.Managed), N(z.Pcp)]);
            }
            foreach (var n in nodes) row.Add(s.Nodes.FirstOrDefault(x => x.Node == n).Kswapd ?? "");
            row.AddRange([N(s.PgscanKswapd), N(s.PgscanDirect), N(s.PgstealKswapd), N(s.PgstealDirect), N(s.Allocstall), N(s.OomKill), N(s.SwapUsed), N(s.KswapdWakes)]);
            row.Add(string.Join(' ', s.Kills.Select(k => $"{k.Pid}:{k.Comm}")));
            foreach (var (pid, comm) in processes)
            {
                var p = s.Processes.FirstOrDefault(p => p.Pid == pid && p.Comm == comm);
                row.Add(p == null ? "" : N(p.RssKb));
                row.Add(p == null ? "" : N(p.SwapKb));
            }
            csv.Append(string.Join(',', row)).Append('\n');
        }
        return csv.ToString();
    }

    static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
