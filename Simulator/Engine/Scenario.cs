using System;
using System.Collections.Generic;
using System.Globalization;
using MemoryManager.Workloads;

namespace Simulator.Engine
{
    /// <summary>What a simulated process does each tick.</summary>
    public sealed class FileSpec
    {
        public string Name = "";
        public int Pages;
        public int Line;
    }

    /// <summary>One timed line of a scenario: "at T verb args..." (or a periodic "every N print what").</summary>
    public sealed class ScenarioEvent
    {
        public ulong Tick;
        public ulong Every;            // 0 = once
        public string Verb = "";
        public string Name = "";       // process or file name, or what to print
        public WorkloadKind Kind;
        public int Pages, Rate = 1, Adj, Value;
        /// <summary>The process's home node (spawn node=N).</summary>
        public int Node;
        public string File = "";
        public bool RealTime;
        public int Line;
    }

    /// <summary>A parsed scenario file: the machine, the files, the timed events and the run length.</summary>
    public sealed class Scenario
    {
        public ulong MemoryBytes = 64UL << 20;
        public int Nodes = 1;
        public ulong SwapBytes;
        public uint Hz = 100;
        public bool PerCpuLists = true;
        public bool ModernWatermarks;
        public bool PreLinux48Balance;
        public bool PanicOnOom;
        public bool OomKillAllocatingTask;
        public bool OomReaper = true;
        public int KswapdBatch = MemoryManager.Reclaim.Vmscan.SwapClusterMax;
        public int MaxProcesses = 64;
        public int VpagesPerProcess = 8192;
        public bool Check;
        /// <summary>The fair zone allocation pass (option fair_zone_alloc, default on as in the allocator).</summary>
        public bool FairZoneAllocation = true;
        /// <summary>vm.zone_reclaim_mode (option zone_reclaim_mode 0..7).</summary>
        public int ZoneReclaimMode;
        /// <summary>numa_zonelist_order (option zonelist_order node|zone).</summary>
        public MemoryManager.Allocator.ZonelistOrder ZonelistOrder;
        /// <summary>SLIT distances the scenario declares ("distance A B D", both ways); 0 = the default (10 / 20).</summary>
        public readonly int[,] Distances = new int[4, 4];
        public ulong RunTicks;
        public readonly List<FileSpec> Files = new();
        public readonly List<ScenarioEvent> Events = new();

        /// <summary>Parses scenario text; on a bad line returns false and "line N: what is wrong".</summary>
        public static bool TryParse(string text, out Scenario scenario, out string error)
        {
            scenario = new Scenario();
            error = null;
            string[] lines = text.Replace("\r\n", "\n").Split('\n');
            bool sawRun = false;
            for (int i = 0; i < lines.Length; i++)
            {
                int lineNo = i + 1;
                string line = lines[i];
                int hash = line.IndexOf('#');
                if (hash >= 0) line = line.Substring(0, hash);
                string[] w = line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
                if (w.Length == 0) continue;
                if (sawRun) { error = $"line {lineNo}: nothing may follow 'run'"; return false; }
                string err = scenario.ParseLine(w, lineNo, ref sawRun);
                if (err != null) { error = $"line {lineNo}: {err}"; return false; }
            }
            if (!sawRun) { error = $"line {lines.Length}: the scenario must end with 'run <ticks>'"; return false; }
            return true;
        }

        private string ParseLine(string[] w, int line, ref bool sawRun)
        {
            switch (w[0])
            {
                case "memory":
                    if (w.Length != 2 || !TrySize(w[1], out MemoryBytes)) return "usage: memory <size>  (e.g. 64M)";
                    if (MemoryBytes < (8UL << 20) || MemoryBytes > (16UL << 30)) return "memory must be between 8M and 16G";
                    return null;
                case "nodes":
                    if (w.Length != 2 || !int.TryParse(w[1], out Nodes) || Nodes < 1 || Nodes > 4) return "usage: nodes <1..4>";
                    return null;
                case "distance":
                {
                    if (w.Length != 4 || !int.TryParse(w[1], out int a) || !int.TryParse(w[2], out int b) || !int.TryParse(w[3], out int d))
                        return "usage: distance <node> <node> <11..254>";
                    if (a < 0 || b < 0 || a >= Nodes || b >= Nodes) return $"distance: nodes are 0..{Nodes - 1} (declare 'nodes' first)";
                    if (a == b) return "distance: a node is 10 from itself";
                    if (d <= 10 || d > 254) return "distance: between two nodes it is 11..254";
                    Distances[a, b] = d;
                    Distances[b, a] = d;
                    return null;
                }
                case "swap":
                    if (w.Length != 2 || !TrySize(w[1], out SwapBytes)) return "usage: swap <size>  (0 for none)";
                    if (SwapBytes > (4UL << 30)) return "swap must be at most 4G";
                    return null;
                case "hz":
                    if (w.Length != 2 || !uint.TryParse(w[1], out Hz) || Hz < 10 || Hz > 1000) return "usage: hz <10..1000>";
                    return null;
                case "option": return ParseOption(w);
                case "file":
                {
                    if (w.Length != 3 || !TrySize(w[2], out ulong bytes) || bytes == 0) return "usage: file <name> <size>";
                    foreach (FileSpec f in Files) if (f.Name == w[1]) return $"file '{w[1]}' is defined twice";
                    Files.Add(new FileSpec { Name = w[1], Pages = (int)((bytes + 4095) / 4096), Line = line });
                    return null;
                }
                case "at":
                {
                    if (w.Length < 3 || !ulong.TryParse(w[1], out ulong tick)) return "usage: at <tick> <command> ...";
                    return ParseCommand(w, 2, tick, 0, line);
                }
                case "every":
                {
                    if (w.Length < 3 || !ulong.TryParse(w[1], out ulong n) || n == 0) return "usage: every <ticks> print <what>";
                    if (w[2] != "print") return "only 'print' may repeat with 'every'";
                    return ParseCommand(w, 2, n, n, line);
                }
                case "run":
                    if (w.Length != 2 || !ulong.TryParse(w[1], out RunTicks) || RunTicks == 0 || RunTicks > 1_000_000)
                        return "usage: run <ticks>  (1..1000000)";
                    sawRun = true;
                    return null;
                default:
                    return $"unknown command '{w[0]}' (expected memory, nodes, distance, swap, hz, option, file, at, every or run)";
            }
        }

        private string ParseOption(string[] w)
        {
            if (w.Length != 3) return "usage: option <name> <value>";
            string v = w[2];
            bool b = v == "1" || v == "on" || v == "true";
            bool isBool = b || v == "0" || v == "off" || v == "false";
            switch (w[1])
            {
                case "kswapd_balance":
                    if (v != "4.8" && v != "pre-4.8") return "kswapd_balance is '4.8' or 'pre-4.8'";
                    PreLinux48Balance = v == "pre-4.8";
                    return null;
                case "panic_on_oom": if (!isBool) return "panic_on_oom is 0 or 1"; PanicOnOom = b; return null;
                case "oom_kill_allocating_task": if (!isBool) return "oom_kill_allocating_task is 0 or 1"; OomKillAllocatingTask = b; return null;
                case "oom_reaper": if (!isBool) return "oom_reaper is 0 or 1"; OomReaper = b; return null;
                case "pcp": if (!isBool) return "pcp is on or off"; PerCpuLists = b; return null;
                case "watermarks":
                    if (v != "classic" && v != "scale_factor") return "watermarks is 'classic' or 'scale_factor'";
                    ModernWatermarks = v == "scale_factor";
                    return null;
                case "check": if (!isBool) return "check is 0 or 1"; Check = b; return null;
                case "fair_zone_alloc": if (!isBool) return "fair_zone_alloc is 0 or 1"; FairZoneAllocation = b; return null;
                case "zone_reclaim_mode":
                    if (!int.TryParse(v, out ZoneReclaimMode) || ZoneReclaimMode < 0 || ZoneReclaimMode > 7) return "zone_reclaim_mode is 0..7";
                    return null;
                case "zonelist_order":
                    if (v != "node" && v != "zone") return "zonelist_order is 'node' or 'zone'";
                    ZonelistOrder = v == "zone" ? MemoryManager.Allocator.ZonelistOrder.Zone : MemoryManager.Allocator.ZonelistOrder.Node;
                    return null;
                case "kswapd_batch":
                    if (!int.TryParse(v, out KswapdBatch) || KswapdBatch < 1 || KswapdBatch > 65536) return "kswapd_batch is 1..65536 pages";
                    return null;
                case "max_processes":
                    if (!int.TryParse(v, out MaxProcesses) || MaxProcesses < 8 || MaxProcesses > 100000) return "max_processes is 8..100000";
                    return null;
                case "process_pages":
                    if (!int.TryParse(v, out VpagesPerProcess) || VpagesPerProcess < 1 || VpagesPerProcess > 1 << 20) return "process_pages is 1..1048576";
                    return null;
                default:
                    return $"unknown option '{w[1]}'";
            }
        }

        private string ParseCommand(string[] w, int at, ulong tick, ulong every, int line)
        {
            var e = new ScenarioEvent { Tick = tick, Every = every, Verb = w[at], Line = line };
            int rest = at + 1;
            switch (e.Verb)
            {
                case "print":
                    if (w.Length != rest + 1) return "usage: print <vmstat|buddyinfo|zoneinfo|meminfo|ps|kswapd|numastat>";
                    e.Name = w[rest];
                    if (Array.IndexOf(new[] { "vmstat", "buddyinfo", "zoneinfo", "meminfo", "ps", "kswapd", "numastat" }, e.Name) < 0)
                        return $"cannot print '{e.Name}' (vmstat, buddyinfo, zoneinfo, meminfo, ps, kswapd or numastat)";
                    break;
                case "spawn":
                {
                    if (w.Length < rest + 2) return "usage: spawn <name> <memhog|idle|reader|writer|leaker> [pages=N] [rate=N] [adj=N] [file=NAME] [node=N] [rt]";
                    e.Name = w[rest];
                    switch (w[rest + 1])
                    {
                        case "memhog": e.Kind = WorkloadKind.Memhog; break;
                        case "idle": e.Kind = WorkloadKind.Idle; break;
                        case "reader": e.Kind = WorkloadKind.Reader; break;
                        case "writer": e.Kind = WorkloadKind.Writer; break;
                        case "leaker": e.Kind = WorkloadKind.Leaker; break;
                        default: return $"unknown process kind '{w[rest + 1]}' (memhog, idle, reader, writer or leaker)";
                    }
                    for (int i = rest + 2; i < w.Length; i++)
                    {
                        string a = w[i];
                        if (a == "rt") { e.RealTime = true; continue; }
                        int eq = a.IndexOf('=');
                        if (eq <= 0) return $"expected key=value, got '{a}'";
                        string k = a.Substring(0, eq), v = a.Substring(eq + 1);
                        switch (k)
                        {
                            case "pages": if (!int.TryParse(v, out e.Pages) || e.Pages < 0) return "pages must be a count of pages"; break;
                            case "rate": if (!int.TryParse(v, out e.Rate) || e.Rate < 1) return "rate must be at least 1 page per tick"; break;
                            case "adj": if (!int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out e.Adj)) return "adj must be a number"; break;
                            case "file": e.File = v; break;
                            case "node":
                                if (!int.TryParse(v, out e.Node) || e.Node < 0 || e.Node >= Nodes) return $"node must be 0..{Nodes - 1} (declare 'nodes' first)";
                                break;
                            default: return $"unknown spawn parameter '{k}'";
                        }
                    }
                    if ((e.Kind == WorkloadKind.Reader || e.Kind == WorkloadKind.Writer) && !Files.Exists(f => f.Name == e.File))
                        return $"{w[rest + 1]} needs file=NAME of a file defined above";
                    if ((e.Kind == WorkloadKind.Memhog || e.Kind == WorkloadKind.Idle || e.Kind == WorkloadKind.Leaker) && e.Pages > VpagesPerProcess)
                        return $"pages={e.Pages} exceeds process_pages ({VpagesPerProcess})";
                    break;
                }
                case "exit":
                    if (w.Length != rest + 1) return "usage: exit <process>";
                    e.Name = w[rest];
                    break;
                case "adj":
                    if (w.Length != rest + 2 || !int.TryParse(w[rest + 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out e.Value))
                        return "usage: adj <process> <oom_score_adj>";
                    e.Name = w[rest];
                    break;
                case "sync":
                    if (w.Length != rest + 1) return "usage: sync <file>";
                    e.Name = w[rest];
                    if (!Files.Exists(f => f.Name == e.Name)) return $"no file named '{e.Name}'";
                    break;
                default:
                    return $"unknown action '{e.Verb}' (spawn, exit, adj, sync or print)";
            }
            Events.Add(e);
            return null;
        }

        /// <summary>Parses 4096, 512K, 64M, 1G (bytes; K/M/G are powers of 1024).</summary>
        public static bool TrySize(string s, out ulong bytes)
        {
            bytes = 0;
            if (string.IsNullOrEmpty(s)) return false;
            ulong mul = 1;
            char last = char.ToUpperInvariant(s[^1]);
            if (last == 'K') mul = 1UL << 10; else if (last == 'M') mul = 1UL << 20; else if (last == 'G') mul = 1UL << 30;
            string num = mul == 1 ? s : s.Substring(0, s.Length - 1);
            if (!ulong.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n)) return false;
            if (n > (1UL << 40) / mul) return false;
            bytes = n * mul;
            return true;
        }
    }
}
