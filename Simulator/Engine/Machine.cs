using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Swap;
using MemoryManager.Workloads;

namespace Simulator.Engine
{
    /// <summary>Text sink that collects whole lines and hands them on with a timestamp.</summary>
    public sealed class LineSink : ITextSink
    {
        private readonly StringBuilder _line = new();
        private readonly Action<string> _onLine;
        public LineSink(Action<string> onLine) { _onLine = onLine; }
        public void Write(string s) { foreach (char c in s) Write(c); }
        public void Write(char c)
        {
            if (c == '\n') { _onLine(_line.ToString()); _line.Clear(); }
            else _line.Append(c);
        }
        public void Flush() { if (_line.Length > 0) Write('\n'); }
    }

    /// <summary>Collects text into a string (for the allocator's /proc writers).</summary>
    public sealed class StringSink : ITextSink
    {
        public readonly StringBuilder Text = new();
        public void Write(string s) => Text.Append(s);
        public void Write(char c) => Text.Append(c);
    }

    public sealed class SimClock : IClock
    {
        public ulong Ticks { get; set; }
        public uint Hz { get; set; } = 100;
    }

    /// <summary>
    /// A kswapd transition the memory manager reported (IMmEvents), on the simulated clock, with
    /// the zone's free pages and watermarks at that moment. Woken: BelowLow says no eligible
    /// zone passed its low watermark; stopped: Balanced says the node passed pgdat_balanced at
    /// the high watermark.
    /// </summary>
    public readonly record struct KswapdEvent(ulong Tick, bool Woken, int Nid, ZoneType Zone, long Free, long Low, long High, bool Balanced, bool BelowLow);

    /// <summary>An allocation that entered direct reclaim (IMmEvents.AllocStalled), on the simulated clock.</summary>
    public readonly record struct AllocStallEvent(ulong Tick, int Pid, int Order);

    /// <summary>A simulated process and its behaviour's state.</summary>
    public sealed class SimProcess
    {
        public string Name = "";
        public int Pid;
        /// <summary>Its behaviour (MemoryManager/Workloads: the same code the kernel's workload programs run).</summary>
        public Workload Work;
        public bool Gone;
    }

    /// <summary>
    /// A whole simulated machine: native memory behind the pages, the page allocator, reclaim
    /// (Vm), RAM swap, files, processes with behaviours, and a clock. Deterministic: the same
    /// scenario always gives the same output.
    /// </summary>
    public sealed unsafe class Machine : IDisposable, ICongestionWait, IMmEvents
    {
        public readonly Scenario Scenario;
        public readonly SimClock Clock = new();
        public PageAllocator Pa { get; private set; }
        public Vm Vm { get; private set; }
        public readonly List<SimProcess> Processes = new();
        public readonly List<KswapdEvent> KswapdEvents = new();
        public readonly List<string> OomLog = new();
        public readonly List<string> CensusFailures = new();
        /// <summary>The OOM killer's victims, in the order it killed them.</summary>
        public readonly List<int> OomVictims = new();
        /// <summary>Allocations that entered direct reclaim.</summary>
        public readonly List<AllocStallEvent> AllocStalls = new();
        /// <summary>Pages whose bytes were not what their process last wrote (must stay 0), over all processes.</summary>
        public ulong Corruptions { get { ulong n = 0; foreach (SimProcess p in Processes) n += p.Work.Corruptions; return n; } }
        /// <summary>Swapped-out pages that came back in and were checked, over all processes.</summary>
        public ulong SwapIns { get { ulong n = 0; foreach (SimProcess p in Processes) n += p.Work.SwapIns; return n; } }
        public bool Panicked => Vm != null && Vm.Oom.Panicked;

        private readonly Action<string> _out;
        private byte* _memmap, _phys, _swapStorage, _fileStorage;
        private readonly List<int> _fileIds = new();
        private readonly Dictionary<string, int> _fileByName = new();
        private readonly LineSink _log;
        private bool _inWait;

        /// <summary>The machine for a scenario; output lines go to <paramref name="output"/>.</summary>
        public Machine(Scenario s, Action<string> output)
        {
            Scenario = s;
            _out = output ?? (_ => { });
            _log = new LineSink(l =>
            {
                string line = $"[{Stamp()}] {l}";
                if (l.Contains("Killed process") || l.Contains("oom-killer") || l.Contains("oom_reaper") || l.Contains("panic")) OomLog.Add(l);
                _out(line);
            });
        }

        private string Stamp() => $"{Clock.Ticks / Clock.Hz,5}.{Clock.Ticks % Clock.Hz * 1000 / Clock.Hz:D3}";

        /// <summary>Builds the allocator, swap, reclaim and files; false with a message on failure.</summary>
        public bool Boot(out string error)
        {
            error = null;
            Scenario s = Scenario;
            Clock.Hz = s.Hz;
            var map = new MemoryMap();
            ulong perNode = s.MemoryBytes / (ulong)s.Nodes & ~0xFFFFFUL;
            // Firmware keeps the first MiB, as on a PC.
            for (int n = 0; n < s.Nodes; n++)
            {
                ulong start = n == 0 ? 1UL << 20 : perNode * (ulong)n;
                ulong end = perNode * (ulong)(n + 1);
                MmResult ar = map.Add(start, end - start, n);
                if (ar != MmResult.Ok) { error = $"memory map refused a range: {ar}"; return false; }
            }
            for (int a = 0; a < s.Nodes; a++)
                for (int b = 0; b < s.Nodes; b++)
                    if (s.Distances[a, b] != 0 && map.SetDistance(a, b, s.Distances[a, b]) != MmResult.Ok)
                    { error = $"memory map refused the distance {a} -> {b}"; return false; }
            ulong memmapBytes = PageAllocator.MemmapBytes(map);
            _memmap = (byte*)NativeMemory.AllocZeroed((nuint)memmapBytes);
            _phys = (byte*)NativeMemory.AllocZeroed((nuint)(perNode * (ulong)s.Nodes));
            var o = AllocatorOptions.Default;
            o.PerCpuLists = s.PerCpuLists;
            o.ModernWatermarks = s.ModernWatermarks;
            o.FairZoneAllocation = s.FairZoneAllocation;
            o.ZonelistOrder = s.ZonelistOrder;
            MmResult r = PageAllocator.Create(map, (Page*)_memmap, _phys, o, out PageAllocator pa);
            if (r != MmResult.Ok) { error = $"page allocator set-up failed: {r}"; return false; }
            Pa = pa;
            pa.ZoneReclaimMode = s.ZoneReclaimMode;
            pa.Clock = Clock;
            pa.Log = _log;
            ISwapDevice swap = null;
            ulong slots = s.SwapBytes / MmConstants.PageSize;
            if (slots >= 2)
            {
                _swapStorage = (byte*)NativeMemory.AllocZeroed((nuint)RamSwapDevice.StorageBytes(slots));
                RamSwapDevice.Create(_swapStorage, slots, out RamSwapDevice dev);
                swap = dev;
            }
            var vo = VmOptions.Default;
            vo.MaxProcesses = s.MaxProcesses;
            vo.VpagesPerProcess = s.VpagesPerProcess;
            vo.PreLinux48Balance = s.PreLinux48Balance;
            vo.PanicOnOom = s.PanicOnOom;
            vo.OomKillAllocatingTask = s.OomKillAllocatingTask;
            vo.OomReaper = s.OomReaper;
            vo.KswapdBatch = s.KswapdBatch;
            int filePages = 0;
            foreach (FileSpec f in s.Files) filePages += f.Pages;
            vo.MaxFiles = Math.Max(1, s.Files.Count);
            vo.MaxFilePages = Math.Max(1, filePages);
            r = Vm.Create(pa, swap, vo, out Vm vm);
            if (r != MmResult.Ok) { error = $"reclaim set-up failed: {r}"; return false; }
            Vm = vm;
            pa.Events = this;          // kswapd wakes and stops, OOM kills, allocation stalls
            pa.Congestion = this;
            if (filePages > 0) _fileStorage = (byte*)NativeMemory.AllocZeroed((nuint)((ulong)filePages * MmConstants.PageSize));
            ulong offset = 0;
            foreach (FileSpec f in s.Files)
            {
                byte* backing = _fileStorage + offset;
                offset += (ulong)f.Pages * MmConstants.PageSize;
                ProcResult fr = vm.PageCache.CreateFile(f.Name, f.Pages, backing, out int id);
                if (fr != ProcResult.Ok) { error = $"line {f.Line}: file refused: {fr}"; return false; }
                for (int i = 0; i < f.Pages; i++) Workload.Fill(backing + (ulong)i * MmConstants.PageSize, Workload.FileSeed(id, i));
                _fileIds.Add(id);
                _fileByName[f.Name] = id;
            }
            return true;
        }


        // IMmEvents: the memory manager's kswapd wakes and stops, OOM kills and allocation stalls, on the simulated clock.
        void IMmEvents.KswapdWoken(KswapdWake e) =>
            KswapdEvents.Add(new KswapdEvent(Clock.Ticks, true, e.Nid, e.Zone, e.Free, e.Low, e.High, false, e.BelowLow));

        void IMmEvents.KswapdStopped(KswapdStop e) =>
            KswapdEvents.Add(new KswapdEvent(Clock.Ticks, false, e.Nid, e.Zone, e.Free, e.Low, e.High, e.Balanced, false));

        void IMmEvents.OomKilled(OomKill e)
        {
            OomVictims.Add(e.Pid);
            _traceKills?.Record(Clock.Ticks, e.Pid, e.Comm);
        }

        // --trace (docs/memory-trace.md): a SAMPLE payload every TraceEvery ticks of the main loop, as the kernel's sampler writes it.
        private MemoryManager.Trace.TraceKills _traceKills;
        private ulong _traceEvery, _nextSample;
        /// <summary>The SAMPLE payloads taken so far (with --trace), in order.</summary>
        public readonly List<string> TraceSamples = new();

        /// <summary>Samples the machine every <paramref name="ticks"/> ticks from now on (the kernel's 'trace &lt;ticks&gt;').</summary>
        public void StartTrace(ulong ticks)
        {
            _traceEvery = ticks;
            _nextSample = Clock.Ticks;
            _traceKills ??= new MemoryManager.Trace.TraceKills();
        }

        private void SampleIfDue()
        {
            if (_traceEvery == 0 || Clock.Ticks < _nextSample) return;
            var sink = new StringSink();
            MemoryManager.Trace.TraceSample.Write(sink, Vm, Clock.Ticks, Clock.Hz, _traceKills);
            TraceSamples.Add(sink.Text.ToString());
            while (_nextSample <= Clock.Ticks) _nextSample += _traceEvery;
        }

        /// <summary>A /proc-style view as text (what Print writes, without the header line).</summary>
        public string ProcText(string what)
        {
            var sink = new StringSink();
            switch (what)
            {
                case "vmstat": Vm.Nodes.UpdateStat(); Pa.WriteVmStat(sink); break;
                case "buddyinfo": Pa.WriteBuddyInfo(sink); break;
                case "zoneinfo": Pa.WriteZoneInfo(sink); break;
                case "meminfo": Vm.Nodes.UpdateStat(); Pa.WriteMemInfo(sink); break;
                case "ps": WritePs(sink); break;
                case "kswapd": WriteKswapd(sink); break;
                case "numastat": Pa.WriteNumaStat(sink); break;
            }
            return sink.Text.ToString().TrimEnd('\n');
        }

        void IMmEvents.AllocStalled(AllocStall e) => AllocStalls.Add(new AllocStallEvent(Clock.Ticks, e.Pid, e.Order));

        // ICongestionWait: time passes; kswapd runs and killed processes exit.
        void ICongestionWait.CongestionWait(ref TaskContext current, uint ticks)
        {
            if (_inWait) return;
            _inWait = true;
            for (uint i = 0; i < ticks; i++)
            {
                ReapExiting();
                StepKswapd();
                Clock.Ticks++;
            }
            _inWait = false;
        }

        /// <summary>Runs the scenario to its end (or a panic); returns false if the census ever failed.</summary>
        public bool Run()
        {
            var once = new List<ScenarioEvent>();
            var periodic = new List<ScenarioEvent>();
            foreach (ScenarioEvent e in Scenario.Events) (e.Every == 0 ? once : periodic).Add(e);
            once.Sort((a, b) => a.Tick != b.Tick ? a.Tick.CompareTo(b.Tick) : a.Line.CompareTo(b.Line));
            int next = 0;
            ulong lastPeriodic = ulong.MaxValue;
            while (Clock.Ticks <= Scenario.RunTicks && !Panicked)
            {
                ulong now = Clock.Ticks;
                while (next < once.Count && once[next].Tick <= now) Apply(once[next++]);
                foreach (SimProcess p in Processes) if (!Panicked) RunProcess(p);
                ReapExiting();
                StepKswapd();
                SampleIfDue();
                if (Scenario.Check) CheckCensus();
                if (now != lastPeriodic)
                    foreach (ScenarioEvent e in periodic) if (now % e.Every == 0) Print(e.Name);
                lastPeriodic = now;
                Clock.Ticks++;
            }
            while (next < once.Count && !Panicked) Apply(once[next++]);
            if (Panicked) _out($"[{Stamp()}] simulation stopped: the kernel panicked");
            _log.Flush();
            return CensusFailures.Count == 0;
        }

        private void CheckCensus()
        {
            var sink = new StringSink();
            bool ok = Vm.Census.CheckNoPageLost(sink) & Pa.CheckInvariants(sink);
            if (!ok)
            {
                string msg = $"t={Clock.Ticks}: {sink.Text.ToString().Trim()}";
                CensusFailures.Add(msg);
                _out($"[{Stamp()}] CENSUS FAILED {msg}");
            }
        }

        private void StepKswapd()
        {
            for (int n = 0; n < Pa.NodeCount; n++) Vm.Kswapd.Step(n);
        }

        private void ReapExiting()
        {
            foreach (SimProcess p in Processes)
            {
                if (p.Gone || !Vm.Procs.Exists(p.Pid)) continue;
                ref Process t = ref Vm.Procs.Get(p.Pid);
                if (t.State != ProcessState.Exiting) continue;
                bool killed = (t.Flags & TaskFlags.MemDie) != 0;
                Vm.Memory.ExitProcess(p.Pid);
                p.Gone = true;
                _out($"[{Stamp()}] {p.Name} (pid {p.Pid}) exited{(killed ? " after the OOM kill; its memory is reaped" : "")}");
            }
        }

        private SimProcess Find(string name) => Processes.Find(p => p.Name == name && !p.Gone);

        private void Apply(ScenarioEvent e)
        {
            switch (e.Verb)
            {
                case "print": Print(e.Name); break;
                case "spawn":
                {
                    if (Find(e.Name) != null) { _out($"[{Stamp()}] line {e.Line}: spawn refused: a process named '{e.Name}' is running"); break; }
                    TaskFlags f = e.RealTime ? TaskFlags.RealTime : TaskFlags.None;
                    ProcResult r = Vm.Procs.Spawn(e.Name, f, e.Adj, out int pid);
                    if (r != ProcResult.Ok) { _out($"[{Stamp()}] line {e.Line}: spawn refused: {Describe(r)}"); break; }
                    Vm.Procs.SetHomeNode(pid, e.Node, Pa.NodeCount);
                    int fileId = e.Kind == WorkloadKind.Reader || e.Kind == WorkloadKind.Writer ? _fileByName[e.File] : -1;
                    var p = new SimProcess { Name = e.Name, Pid = pid, Work = Workload.Create(e.Kind, pid, e.Pages, e.Rate, fileId) };
                    Processes.Add(p);
                    _out($"[{Stamp()}] spawned {e.Name} (pid {pid}) {e.Kind.ToString().ToLowerInvariant()} oom_score_adj={e.Adj}{(Pa.NodeCount > 1 ? $" node={e.Node}" : "")}");
                    break;
                }
                case "exit":
                {
                    SimProcess p = Find(e.Name);
                    if (p == null) { _out($"[{Stamp()}] line {e.Line}: exit: no running process named '{e.Name}'"); break; }
                    Vm.Memory.BeginExit(p.Pid);
                    break;
                }
                case "adj":
                {
                    SimProcess p = Find(e.Name);
                    ProcResult r = p == null ? ProcResult.NoSuchProcess : Vm.Procs.SetOomScoreAdj(p.Pid, e.Value);
                    if (r != ProcResult.Ok) _out($"[{Stamp()}] line {e.Line}: adj refused: {Describe(r)}");
                    break;
                }
                case "sync":
                {
                    ulong n = Vm.PageCache.WritebackFile(_fileByName[e.Name]);
                    _out($"[{Stamp()}] sync {e.Name}: {n} pages written back");
                    break;
                }
            }
        }

        /// <summary>A clear message for a refused process-table operation.</summary>
        public static string Describe(ProcResult r) => r switch
        {
            ProcResult.TableFull => "the process table is full",
            ProcResult.OomScoreAdjOutOfRange => "oom_score_adj must be in -1000..1000",
            ProcResult.BadName => "a process needs a name",
            ProcResult.NoSuchProcess => "no such process",
            _ => r.ToString(),
        };

        /// <summary>One tick of a process's behaviour (a Killed status is handled by ReapExiting, which sees the task Exiting).</summary>
        private void RunProcess(SimProcess p)
        {
            if (p.Gone || !Vm.Procs.Exists(p.Pid) || Vm.Procs.Get(p.Pid).State != ProcessState.Running) return;
            p.Work.Step(Vm);
        }

        /// <summary>Prints one /proc-style view.</summary>
        public void Print(string what)
        {
            string text = ProcText(what);
            _out($"[{Stamp()}] --- {what} ---");
            foreach (string l in text.Split('\n')) _out(l);
        }

        /// <summary>
        /// ps as the kernel's shell prints it (MemoryManager.Processes.PsText: rss and swap in kB); a kswapd thread's
        /// state is its kswapd state. TASK is '-': the simulator has no scheduler tasks.
        /// </summary>
        private void WritePs(StringSink o)
        {
            o.Write(PsText.Header); o.Write('\n');
            for (int s = 0; s < Vm.Procs.Capacity; s++)
            {
                ref Process t = ref Vm.Procs.At(s);
                if (t.State == ProcessState.Unused) continue;
                string state = PsText.StateName(t.State);
                for (int n = 0; n < Pa.NodeCount; n++)
                    if ((t.Flags & TaskFlags.KernelThread) != 0 && Vm.Nodes[n].Kswapd.Pid == t.Pid) state = MemoryManager.Trace.TraceSample.KswapdStateName(Vm.Nodes[n].Kswapd.State);
                PsText.Row(o, ref t, state, "-", Vm.Oom.OomScore(t.Pid));
                o.Write('\n');
            }
        }

        private void WriteKswapd(StringSink o)
        {
            for (int n = 0; n < Pa.NodeCount; n++)
            {
                KswapdNode k = Vm.Nodes[n].Kswapd;
                o.Write($"kswapd{n}: {k.State} order={k.Order} failures={k.Failures}{(Vm.Kswapd.NodeUnreclaimable(n) ? " node_unreclaimable" : "")}\n");
            }
        }

        public void Dispose()
        {
            NativeMemory.Free(_memmap); _memmap = null;
            NativeMemory.Free(_phys); _phys = null;
            NativeMemory.Free(_swapStorage); _swapStorage = null;
            NativeMemory.Free(_fileStorage); _fileStorage = null;
        }
    }
}
