using Kernel.Core;
using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;
using MemoryManager;
using Kernel.Tests.Framework;
using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Workloads;
using ProcState = MemoryManager.Processes.ProcessState;

namespace Kernel
{
    /// <summary>
    /// The kernel shell, on COM1 and on the screen + keyboard at once (docs/shell.md). Each prompt
    /// is preceded by a READY frame so that the test runner knows when to send its command line.
    /// A command line is read into a static buffer and parsed in place: commands allocate nothing
    /// (numbers and text are written piece by piece), so a long session leaks nothing. A line runs
    /// exactly as it was typed or not at all: one longer than <see cref="MaxLine"/>, one with a byte
    /// outside printable ASCII (TAB is a space) or with more than <see cref="MaxTokens"/> words is
    /// refused whole, and a number outside its command's range is refused, never wrapped or cut.
    /// The shell acts on behalf of init (pid 1) in the process table.
    /// </summary>
    public static unsafe partial class Shell
    {
        public const int MaxLine = 120;
        private const int MaxTokens = 8;

        private struct LineBuffer { public fixed char Chars[MaxLine]; }
        private struct TokenTable { public fixed int Start[MaxTokens]; public fixed int Length[MaxTokens]; }
        private static LineBuffer s_line;
        private static int s_length;
        private static TokenTable s_tok;
        private static int s_tokens;
        /// <summary>Bytes of dead stack zeroed before each command (the deepest command path, `test all`, uses less than this above the collector's frame).</summary>
        private const ulong DeadStackClearBytes = 8192;

        /// <summary>Commands executed since boot.</summary>
        public static ulong Commands;

        public static void Run()
        {
            Console.WriteLine("type 'help' for commands");
            bool script = BootInfo.HasModule;
            if (script && BootInfo.ModuleLength > BootInfo.MaxModuleBytes)
            {
                Console.Write("script module: "); Console.WriteDecimal((ulong)BootInfo.ModuleLength);
                Console.Write(" bytes, the limit is "); Console.WriteDecimal(BootInfo.MaxModuleBytes);
                Console.WriteLine("; nothing of it was run");
                s_scriptAt = BootInfo.ModuleLength; // straight to the closing halt
            }
            while (true)
            {
                TraceSampler.Flush();
                HostProtocol.Frame("READY", Boot.Version);
                Console.Write("kernel> ");
                if (script) s_length = NextScriptLine();
                else fixed (char* buf = s_line.Chars) s_length = Console.ReadLine(buf, MaxLine);
                if (!Accept() || s_tokens == 0) continue;
                Commands++;
                // Each command starts on zeroed stack: what the last command or a task switch left
                // below here cannot keep its objects alive through the next frames' unwritten slots.
                KernelStack.ClearDeadStack(DeadStackClearBytes);
                // A command that throws is abandoned with a report; the shell prompts again.
                try { Execute(); }
                catch (System.Exception e) { ExceptionReport.Print("command failed with an unhandled exception", e); }
            }
        }

        /// <summary>Where the next line of the script module starts.</summary>
        private static int s_scriptAt;

        /// <summary>
        /// The script-from-module path (TestRunner's --deterministic, docs/test-runner.md): takes the
        /// next line of the boot module (LF-separated; a CR before the LF is dropped) into the line
        /// buffer in place of the keyboard and COM1, and echoes it after the prompt exactly as typing
        /// it would (one column per character, a TAB as a space, other bytes as '?'), so the
        /// transcript reads as a typed session. After the last line it gives <c>halt</c>. Nothing
        /// from the host is read, so when each command runs depends only on the guest.
        /// Returns the line's length, which may exceed <see cref="MaxLine"/> like a typed one.
        /// </summary>
        private static int NextScriptLine()
        {
            int end = BootInfo.ModuleLength;
            int n = 0;
            if (s_scriptAt >= end)
            {
                string halt = "halt";
                for (; n < halt.Length; n++) s_line.Chars[n] = halt[n];
            }
            else
            {
                while (s_scriptAt < end)
                {
                    char c = (char)BootInfo.ModuleByte(s_scriptAt++);
                    if (c == '\n') break;
                    if (c == '\r' && (s_scriptAt >= end || BootInfo.ModuleByte(s_scriptAt) == (byte)'\n')) continue;
                    if (n < MaxLine) s_line.Chars[n] = c;
                    if (n < int.MaxValue) n++;
                }
            }
            int shown = n < MaxLine ? n : MaxLine;
            for (int i = 0; i < shown; i++)
            {
                char c = s_line.Chars[i];
                Console.Write(c >= ' ' && c <= '~' ? c : c == '\t' ? ' ' : '?');
            }
            Console.WriteLine();
            return n;
        }

        // ------------------------------------------------------------------ parsing in place

        /// <summary>
        /// Takes the line just read and splits it into words (in <see cref="s_tok"/>), or refuses it
        /// whole, saying why, so that nothing of it runs: longer than <see cref="MaxLine"/> (its rest
        /// was read and dropped with it), a byte outside printable ASCII other than TAB, or more
        /// words than <see cref="MaxTokens"/>.
        /// </summary>
        private static bool Accept()
        {
            s_tokens = 0;
            if (s_length > MaxLine)
            {
                Console.Write("line too long: "); Console.WriteDecimal((ulong)s_length);
                Console.Write(" characters, the limit is "); Console.WriteDecimal(MaxLine);
                Console.WriteLine("; nothing was run");
                return false;
            }
            for (int i = 0; i < s_length; i++)
            {
                char c = s_line.Chars[i];
                if ((c >= ' ' && c <= '~') || c == '\t') continue;
                Console.Write("byte 0x"); HexDigit(c >> 4); HexDigit(c);
                Console.Write(" at column "); Console.WriteDecimal((ulong)(i + 1));
                Console.WriteLine(" is not printable ASCII; nothing was run");
                return false;
            }
            int words = Tokenize();
            if (words > MaxTokens)
            {
                s_tokens = 0;
                Console.Write("too many words: "); Console.WriteDecimal((ulong)words);
                Console.Write(", the limit is "); Console.WriteDecimal(MaxTokens);
                Console.Write(" (a command and "); Console.WriteDecimal(MaxTokens - 1);
                Console.WriteLine(" arguments); nothing was run");
                return false;
            }
            return true;
        }

        private static void HexDigit(int v)
        {
            v &= 0xF;
            Console.Write((char)(v < 10 ? '0' + v : 'A' + v - 10));
        }

        private static bool IsSeparator(char c) => c == ' ' || c == '\t';

        /// <summary>Splits the line at spaces and TABs; keeps the first <see cref="MaxTokens"/> words and returns how many there are.</summary>
        private static int Tokenize()
        {
            s_tokens = 0;
            int words = 0;
            int i = 0;
            while (i < s_length)
            {
                while (i < s_length && IsSeparator(s_line.Chars[i])) i++;
                if (i >= s_length) break;
                int start = i;
                while (i < s_length && !IsSeparator(s_line.Chars[i])) i++;
                if (words < MaxTokens)
                {
                    s_tok.Start[words] = start;
                    s_tok.Length[words] = i - start;
                    s_tokens = words + 1;
                }
                words++;
            }
            return words;
        }

        private static char Ch(int tok, int k) => s_line.Chars[s_tok.Start[tok] + k];
        private static int Len(int tok) => tok < s_tokens ? s_tok.Length[tok] : 0;

        /// <summary>Token <paramref name="tok"/> is exactly <paramref name="lit"/>.</summary>
        private static bool Is(int tok, string lit)
        {
            if (tok >= s_tokens || s_tok.Length[tok] != lit.Length) return false;
            for (int k = 0; k < lit.Length; k++) if (Ch(tok, k) != lit[k]) return false;
            return true;
        }

        private static void WriteToken(int tok)
        {
            for (int k = 0; k < Len(tok); k++) Console.Write(Ch(tok, k));
        }

        private enum NumberResult { Ok, NotANumber, OutOfRange }

        private static int DigitValue(char c, bool hex)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (!hex) return -1;
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        }

        /// <summary>
        /// The digits of token <paramref name="tok"/> from <paramref name="from"/> to <paramref name="to"/>
        /// (exclusive) as an unsigned value; <paramref name="over"/> when it does not fit in 64 bits
        /// (then <paramref name="v"/> means nothing). False when a character is not a digit.
        /// </summary>
        private static bool Digits(int tok, int from, int to, bool hex, out ulong v, out bool over)
        {
            v = 0;
            over = false;
            if (from >= to) return false;
            ulong radix = hex ? 16UL : 10UL;
            for (int k = from; k < to; k++)
            {
                int d = DigitValue(Ch(tok, k), hex);
                if (d < 0) return false;
                if (v > (ulong.MaxValue - (ulong)d) / radix) over = true;   // read on: a later non-digit still makes it not a number
                else if (!over) v = v * radix + (ulong)d;
            }
            return true;
        }

        /// <summary>
        /// Token <paramref name="tok"/> as a number in <paramref name="min"/>..<paramref name="max"/>:
        /// decimal with an optional '-', or 0x hex. NotANumber for anything else; OutOfRange for a
        /// number outside the range, however many digits it has: nothing wraps or is cut.
        /// </summary>
        private static NumberResult Number(int tok, long min, long max, out long value)
        {
            value = 0;
            int n = Len(tok);
            if (n == 0) return NumberResult.NotANumber;
            bool neg = Ch(tok, 0) == '-';
            bool hex = !neg && n > 2 && Ch(tok, 0) == '0' && (Ch(tok, 1) == 'x' || Ch(tok, 1) == 'X');
            if (!Digits(tok, neg ? 1 : hex ? 2 : 0, n, hex, out ulong v, out bool over)) return NumberResult.NotANumber;
            if (over) return NumberResult.OutOfRange;
            long x;
            if (neg)
            {
                if (v > 1UL << 63) return NumberResult.OutOfRange;
                x = v == 1UL << 63 ? long.MinValue : -(long)v;
            }
            else
            {
                if (v > long.MaxValue) return NumberResult.OutOfRange;
                x = (long)v;
            }
            if (x < min || x > max) return NumberResult.OutOfRange;
            value = x;
            return NumberResult.Ok;
        }

        /// <summary>
        /// A size in pages, 1..<paramref name="maxPages"/>: a plain number is pages; K, M, G (or KB,
        /// MB, GB) suffixes are bytes, rounded up to pages. OutOfRange for 0 or anything above
        /// <paramref name="maxPages"/>, however large.
        /// </summary>
        private static NumberResult SizeInPages(int tok, long maxPages, out long pages)
        {
            pages = 0;
            int n = Len(tok);
            if (n == 0) return NumberResult.NotANumber;
            int digits = n;
            ulong unit = 0;
            char last = Ch(tok, n - 1);
            if ((last == 'B' || last == 'b') && n >= 2) { digits--; last = Ch(tok, n - 2); }
            if (last == 'K' || last == 'k') unit = 1UL << 10;
            else if (last == 'M' || last == 'm') unit = 1UL << 20;
            else if (last == 'G' || last == 'g') unit = 1UL << 30;
            if (unit != 0) digits--;
            else if (digits != n) return NumberResult.NotANumber;
            if (!Digits(tok, 0, digits, false, out ulong v, out bool over)) return NumberResult.NotANumber;
            if (over) return NumberResult.OutOfRange;
            ulong p = v;
            if (unit != 0)
            {
                if (v > (ulong.MaxValue - 4095) / unit) return NumberResult.OutOfRange;
                p = (v * unit + 4095) / 4096;
            }
            if (p < 1 || p > (ulong)maxPages) return NumberResult.OutOfRange;
            pages = (long)p;
            return NumberResult.Ok;
        }

        // ------------------------------------------------------------------ output helpers

        /// <summary>
        /// The console as an <see cref="ITextSink"/>: numbers and columns go out through the memory
        /// manager's <see cref="TextFormat"/>, the same code that writes /proc's files.
        /// </summary>
        private sealed class ConsoleOut : ITextSink
        {
            public void Write(string s) => Console.Write(s);
            public void Write(char c) => Console.Write(c);
        }

        private static ConsoleOut s_out;
        private static ITextSink Out => s_out ??= new ConsoleOut();

        // ------------------------------------------------------------------ commands

        private static void Execute()
        {
            if (Is(0, "help")) Help();
            else if (Is(0, "mem")) PrintMemory();
            else if (Is(0, "map")) BootInfo.PrintMemoryMap();
            else if (Is(0, "acpi")) Acpi.PrintReport();
            else if (Is(0, "buddyinfo") || Is(0, "zoneinfo") || Is(0, "meminfo") || Is(0, "vmstat") || Is(0, "slabinfo")) PrintProc();
            else if (Is(0, "watermarks")) Watermarks();
            else if (Is(0, "kswapd")) KswapdInfo();
            else if (Is(0, "numastat")) NumaStat();
            else if (Is(0, "numa")) NumaHardware();
            else if (Is(0, "sysctl")) Sysctl();
            else if (Is(0, "ps")) Ps();
            else if (Is(0, "run")) RunProgram();
            else if (Is(0, "kill")) Kill();
            else if (Is(0, "oom_adj")) OomAdj();
            else if (Is(0, "alloc")) Alloc();
            else if (Is(0, "free")) Free();
            else if (Is(0, "bench")) Bench();
            else if (Is(0, "kmalloc")) KmallocCommand();
            else if (Is(0, "sleep")) SleepCommand();
            else if (Is(0, "gc")) GcCommand();
            else if (Is(0, "oomcatch")) OomCatchCommand();
            else if (Is(0, "throw")) ThrowCommand();
            else if (Is(0, "test")) RunTests();
            else if (Is(0, "trace")) TraceCommand();
            else if (Is(0, "halt"))
            {
                Console.WriteLine("halting.");
                TraceSampler.Flush();
                Power.Off();
            }
            else
            {
                Console.Write("unknown command '");
                WriteToken(0);
                Console.WriteLine("': type 'help' for the commands");
            }
        }

        /// <summary>`gc`: one collection with every root, and what it did (docs/gc.md).</summary>
        private static void GcCommand()
        {
            if (!KernelGc.IsReady) { Console.WriteLine("gc: no collector on this heap (the buddy heap has one)"); return; }
            ulong bytesBefore = Heap.Stats.BytesInUse;
            KernelGcFigures f = GcRoots.Collect();
            ulong bytesAfter = Heap.Stats.BytesInUse;
            Console.Write("gc: collection "); Console.WriteDecimal(f.Collections);
            Console.Write(": objects "); Console.WriteDecimal(f.LastObjectsBefore);
            Console.Write(" -> "); Console.WriteDecimal(f.LastObjectsAfter);
            Console.Write(", heap bytes "); Console.WriteDecimal(bytesBefore);
            Console.Write(" -> "); Console.WriteDecimal(bytesAfter);
            Console.WriteLine();
            Console.Write("    freed "); Console.WriteDecimal(f.Last.FreedObjects);
            Console.Write(" objects ("); Console.WriteDecimal(f.Last.FreedBytes);
            Console.Write(" bytes), live "); Console.WriteDecimal(f.Last.LiveObjects);
            Console.Write(" objects ("); Console.WriteDecimal(f.Last.LiveBytes);
            Console.Write(" bytes), pages returned "); Console.WriteDecimal(f.LastPagesFreed);
            Console.WriteLine();
            Console.Write("    pause "); Console.WriteDecimal(f.LastPauseCycles);
            Console.Write(" cycles; roots "); Console.WriteDecimal(f.Last.RootsFound);
            Console.Write(" of "); Console.WriteDecimal(f.Last.WordsScanned);
            Console.Write(" words; mark stack depth "); Console.WriteDecimal(f.Last.MaxDepth);
            Console.Write(", overflows "); Console.WriteDecimal(f.Last.Overflows);
            Console.WriteLine();
            Console.Write("    gc_collections "); Console.WriteDecimal(f.Collections);
            Console.Write(" gc_objects_freed "); Console.WriteDecimal(f.FreedObjects);
            Console.Write(" gc_bytes_freed "); Console.WriteDecimal(f.FreedBytes);
            Console.Write(" gc_pages_freed "); Console.WriteDecimal(f.PagesFreed);
            Console.Write(" gc_max_pause "); Console.WriteDecimal(f.MaxPauseCycles);
            Console.WriteLine();
        }

        /// <summary>The command list, each line within the 80 columns of the VGA screen.</summary>
        private static void Help()
        {
            Console.WriteLine("commands: help | mem | map | acpi | meminfo | buddyinfo | zoneinfo | vmstat");
            Console.WriteLine("  | slabinfo | watermarks | kswapd | numa | numastat | sysctl | ps | run | kill");
            Console.WriteLine("  | oom_adj | alloc | free | bench | sleep | gc | trace | oomcatch | throw");
            Console.WriteLine("  | kmalloc | test | halt");
            Console.WriteLine("  help                    this list");
            Console.WriteLine("  mem                     heap statistics (and the RAT's, on the RAT heap)");
            Console.WriteLine("  map                     the boot loader's memory map");
            Console.WriteLine("  acpi                    ACPI tables, PM1 control registers, S5 sleep type");
            Console.WriteLine("  meminfo buddyinfo zoneinfo vmstat slabinfo   /proc texts");
            Console.WriteLine("  watermarks              per-zone min/low/high/free/managed pages");
            Console.WriteLine("  watermarks min_free_kbytes <n> | scale <n>   set them");
            Console.WriteLine("  kswapd                  each node's kswapd: state, order, failures, counters");
            Console.WriteLine("  numa                    SRAT nodes, sizes, free, distances, each node's zonelist");
            Console.WriteLine("  numastat                numa_hit/miss/foreign, local_node/other_node per node");
            Console.WriteLine("  sysctl [<name> <value>] vm knobs: zone_reclaim_mode 0..7,");
            Console.WriteLine("                          numa_zonelist_order node|zone, fair_zone_alloc 0|1");
            Console.WriteLine("  ps                      pid, state, rss, swap, oom_score, oom_score_adj");
            Console.WriteLine("  run memhog <size> [rate] [adj=N]  anon memory, rate pages/tick up to size");
            Console.WriteLine("  run idle <size> [adj=N]           touch size at once, then sit on it");
            Console.WriteLine("  run reader|writer <size> [rate] [adj=N]  a file (<= 4M) via the page cache");
            Console.WriteLine("  run leaker [rate] [adj=N]         leak pages until its address space is full");
            Console.WriteLine("  run garbage <size> [rate]         kernel objects made and dropped (for gc)");
            Console.WriteLine("      size: pages (4096) or K/M/G bytes (64M); rate 1..4096; adj -1000..1000");
            Console.WriteLine("      node=N (any run): the home node, where its pages come from first");
            Console.WriteLine("  kill <pid>              the process exits and frees its memory");
            Console.WriteLine("  oom_adj <pid> <n>       write oom_score_adj (-1000..1000)");
            Console.WriteLine("  alloc <order> [gfp]     2^order pages as init; gfp: kernel atomic nowait");
            Console.WriteLine("                          dma dma32 highuser or 0x..");
            Console.WriteLine("  free <pfn>              free what alloc returned (other pfns: as order 0)");
            Console.WriteLine("  bench                   buddy vs RAT, cycles per alloc+free");
            Console.WriteLine("  bench gc                gc pause and bytes freed, buddy vs RAT heap");
            Console.WriteLine("  bench eh                cycles: a call, a try, a throw caught 10 frames up");
            Console.WriteLine("  bench heap              cycles of Heap.Alloc and Heap.Free per size");
            Console.WriteLine("  kmalloc <bytes> <n>     hold n blocks from the heap: bytes and pages used");
            Console.WriteLine("  kmalloc free            give the held blocks back");
            Console.WriteLine("  sleep <ms>              let programs and kswapd run (1..60000 ms)");
            Console.WriteLine("  gc                      collect garbage now: objects, bytes, pages, pause");
            Console.WriteLine("  trace <ticks> | off     SAMPLE frames of memory every <ticks> (1..6000)");
            Console.WriteLine("  oomcatch [n]            a task fills memory with 64 KiB objects until new");
            Console.WriteLine("                          throws; MemFree before, after, after gc");
            Console.WriteLine("  throw [task|null]       throw from a command or a task, or read through null");
            Console.WriteLine("  test <suite> [<n>]      run in-kernel tests (from the n-th); suites:");
            WriteSuiteNamesWrapped(5, 79);
            Console.WriteLine("  halt                    power off: isa-debug-exit (QEMU status 33) or ACPI S5");
        }

        /// <summary>The suite names, wrapped to lines of at most <paramref name="width"/> columns indented by <paramref name="indent"/>.</summary>
        private static void WriteSuiteNamesWrapped(int indent, int width)
        {
            TestSuite[] suites = TestHost.Suites;
            int column = indent;
            for (int k = 0; k < indent; k++) Console.Write(' ');
            Console.Write("all");
            column += 3;
            for (int i = 0; i < suites.Length; i++)
            {
                string name = suites[i].Name;
                if (column + 2 + name.Length > width)
                {
                    Console.WriteLine(",");
                    for (int k = 0; k < indent; k++) Console.Write(' ');
                    column = indent;
                }
                else { Console.Write(", "); column += 2; }
                Console.Write(name);
                column += name.Length;
            }
            Console.WriteLine();
        }

        private static void WriteSuiteNames()
        {
            Console.Write("all");
            TestSuite[] suites = TestHost.Suites;
            for (int i = 0; i < suites.Length; i++) { Console.Write(", "); Console.Write(suites[i].Name); }
        }

        private static void RunTests()
        {
            if (s_tokens < 2)
            {
                Console.Write("usage: test <suite>|all; suites: ");
                WriteSuiteNames();
                Console.WriteLine();
                return;
            }
            // test <suite> <from>: start at the from-th test of the plan (the test runner's resume after a crash).
            long from = 0;
            if (s_tokens > 3 || (s_tokens == 3 && Number(2, 0, int.MaxValue, out from) != NumberResult.Ok))
            {
                Console.WriteLine("usage: test <suite>|all [<first test's number in the plan, from 0>]");
                return;
            }
            string selector;
            fixed (char* buf = s_line.Chars) selector = string.FromChars(buf + s_tok.Start[1], s_tok.Length[1]);
            bool found = TestHost.Run(selector, (int)from, out TestTotals totals);
            if (!found)
            {
                Console.Write("no suite named '");
                WriteToken(1);
                Console.Write("'; suites: ");
                WriteSuiteNames();
                Console.WriteLine();
                TestHost.ReportNoSuite(selector);   // the same answer as a frame, for the test runner
            }
            Heap.Free((byte*)ObjectModel.AddressOf(selector) - 8);   // the one string a command makes
            if (!found) return;
            // Under QEMU this ends the machine; elsewhere (no isa-debug-exit) the shell goes on.
            DebugExit.Exit(totals.Failed == 0 ? DebugExit.Success : DebugExit.TestsFailed);
        }

        /// <summary>The page allocator, or null with the reason printed.</summary>
        private static PageAllocator Allocator()
        {
            PageAllocator pa = BuddyHeap.Allocator;
            if (pa == null)
            {
                // With any object heap the page allocator is set up beside it at boot (docs/plugs.md,
                // "Processes on any object heap"); it is missing only when that failed, and the process layer says why.
                Console.Write("no page allocator: ");
                Console.WriteLine(Processes.UnavailableReason);
            }
            return pa;
        }

        /// <summary>The Vm, or null with the reason printed (RAT image: no process layer).</summary>
        private static Vm ProcVm()
        {
            Vm vm = Processes.Vm;
            if (vm == null)
            {
                Console.Write("processes are not available: ");
                Console.WriteLine(Processes.UnavailableReason);
            }
            return vm;
        }

        /// <summary>vmstat's lines for the collector (the buddy image's): collections, and what they freed in objects and in pages given back to the buddy allocator.</summary>
        private static void WriteGcVmStat(ITextSink o)
        {
            KernelGcFigures f = KernelGc.Figures;
            TextFormat.Write(o, "gc_collections "); TextFormat.Dec(o, f.Collections); TextFormat.Write(o, "\n");
            TextFormat.Write(o, "gc_objects_freed "); TextFormat.Dec(o, f.FreedObjects); TextFormat.Write(o, "\n");
            TextFormat.Write(o, "gc_pages_freed "); TextFormat.Dec(o, f.PagesFreed); TextFormat.Write(o, "\n");
        }

        /// <summary>The memory manager's /proc texts, for the buddy heap (THE heap, or the guest `test mm` sets up in a RAT image).</summary>
        private static void PrintProc()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            ITextSink o = BuddyHeap.Log;
            if (Processes.Vm != null) Processes.Vm.Nodes.UpdateStat();
            if (Is(0, "buddyinfo")) pa.WriteBuddyInfo(o);
            else if (Is(0, "zoneinfo")) pa.WriteZoneInfo(o);
            else if (Is(0, "meminfo")) pa.WriteMemInfo(o);
            else if (Is(0, "vmstat")) { pa.WriteVmStat(o); if (KernelGc.IsReady) WriteGcVmStat(o); }
            else BuddyHeap.Slab.WriteSlabInfo(o);
        }

        private static void Watermarks()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (s_tokens >= 2)
            {
                bool mfk = Is(1, "min_free_kbytes"), scale = Is(1, "scale");
                if ((!mfk && !scale) || s_tokens != 3)
                {
                    Console.WriteLine("usage: watermarks [min_free_kbytes <0..262144> | scale <0..3000>] (0: seed rule)");
                    return;
                }
                NumberResult r = Number(2, 0, mfk ? 262144 : 3000, out long n);
                if (r == NumberResult.NotANumber)
                {
                    Console.Write("watermarks: '"); WriteToken(2); Console.WriteLine("' is not a number");
                    return;
                }
                if (r == NumberResult.OutOfRange)
                {
                    Console.WriteLine(mfk ? "watermarks: min_free_kbytes must be in 0..262144"
                                          : "watermarks: scale (watermark_scale_factor) must be in 0..3000 (0: seed rule)");
                    return;
                }
                if (mfk) pa.SetMinFreeKbytes((int)n);
                else pa.SetWatermarkScaleFactor((int)n);
            }
            Console.Write("min_free_kbytes "); Console.WriteDecimal((ulong)pa.MinFreeKbytes);
            if (pa.Options.ModernWatermarks)
            {
                Console.Write(", watermark_scale_factor "); Console.WriteDecimal((ulong)pa.Options.WatermarkScaleFactor);
                Console.WriteLine(" (low = min + max(min/4, managed*factor/10000), high = low + the same)");
            }
            else Console.WriteLine(", seed-era rule (low = min + min/4, high = min + min/2)");
            Console.WriteLine("Node Zone           min      low     high     free  managed  (pages)");
            for (int i = 0; i < pa.ZoneCount; i++)
            {
                ref Zone z = ref pa.ZoneAt(i);
                if (z.ManagedPages == 0) continue;
                TextFormat.Dec(Out, (ulong)z.Nid, 4); Console.Write(' ');
                TextFormat.Left(Out, z.Name, 8);
                TextFormat.Signed(Out, z.WatermarkMin, 9); TextFormat.Signed(Out, z.WatermarkLow, 9); TextFormat.Signed(Out, z.WatermarkHigh, 9);
                TextFormat.Signed(Out, z.NrFree, 9); TextFormat.Dec(Out, z.ManagedPages, 9);
                Console.WriteLine();
            }
        }

        private static string KswapdStateName(KswapdState s) => s == KswapdState.Sleeping ? "sleeping" : s == KswapdState.Running ? "running" : "napping";

        private static void KswapdInfo()
        {
            Vm vm = ProcVm();
            if (vm == null) return;
            vm.Nodes.UpdateStat();
            for (int n = 0; n < Processes.NodeCount; n++)
            {
                KswapdNode k = vm.Nodes[n].Kswapd;
                KswapdTask t = Processes.Kswapd(n);
                Console.Write("kswapd"); Console.WriteDecimal((ulong)n);
                Console.Write(": pid "); Console.WriteDecimal((ulong)k.Pid);
                Console.Write(", "); Console.Write(KswapdStateName(k.State));
                Console.Write(", order "); Console.WriteDecimal((ulong)k.Order);
                Console.Write(", classzone "); Console.Write(Zone.ZoneName(k.ClasszoneIdx));
                Console.Write(", failures "); Console.WriteDecimal((ulong)k.Failures);
                if (vm.Kswapd.NodeUnreclaimable(n)) Console.Write(" (node_unreclaimable)");
                if (k.State == KswapdState.Napping) { Console.Write(", nap until jiffy "); Console.WriteDecimal(k.NapUntil); }
                Console.Write("; task "); Console.WriteDecimal((ulong)t.Task.Id); Console.Write(' '); Console.Write(t.Task.StateName);
                Console.Write(", steps "); Console.WriteDecimal(t.Steps);
                Console.Write(", reclaimed "); Console.WriteDecimal(t.Reclaimed);
                Console.WriteLine(" pages");
            }
            Console.Write("wakes "); Console.WriteDecimal(vm.Kswapd.Wakes);
            Console.Write(" (all zones below low: "); Console.WriteDecimal(vm.Kswapd.WakesBelowLow);
            Console.Write("), stops "); Console.WriteDecimal(vm.Kswapd.Stops);
            Console.Write(" (balanced at high: "); Console.WriteDecimal(vm.Kswapd.StopsBalanced);
            Console.WriteLine(")");
            VmStat s = vm.Pa.Stat;
            Console.Write("pageoutrun "); Console.WriteDecimal(s.Pageoutrun); Console.WriteLine();
            Console.Write("pgscan_kswapd "); Console.WriteDecimal(s.PgscanKswapd); Console.WriteLine();
            Console.Write("pgsteal_kswapd "); Console.WriteDecimal(s.PgstealKswapd); Console.WriteLine();
            Console.Write("kswapd_low_wmark_hit_quickly "); Console.WriteDecimal(s.KswapdLowWmarkHitQuickly); Console.WriteLine();
            Console.Write("kswapd_high_wmark_hit_quickly "); Console.WriteDecimal(s.KswapdHighWmarkHitQuickly); Console.WriteLine();
        }

        private static void Ps()
        {
            Vm vm = ProcVm();
            if (vm == null) return;
            Console.WriteLine(PsText.Header);
            for (int s = 0; s < vm.Procs.Capacity; s++)
            {
                ref Process t = ref vm.Procs.At(s);
                if (t.State == ProcState.Unused) continue;
                bool kthread = (t.Flags & TaskFlags.KernelThread) != 0;
                string state = PsText.StateName(t.State);
                for (int n = 0; kthread && n < Processes.NodeCount; n++) if (vm.Nodes[n].Kswapd.Pid == t.Pid) state = KswapdStateName(vm.Nodes[n].Kswapd.State);
                string task = "-";
                if (t.Pid == ProcessTable.InitPid) task = "shell";
                else if (kthread) { for (int n = 0; n < Processes.NodeCount; n++) if (Processes.Kswapd(n).Pid == t.Pid) task = Processes.Kswapd(n).Task.StateName; }
                else { Program p = Processes.Find(t.Pid); if (p != null && p.Task != null) task = p.Task.StateName; }
                PsText.Row(Out, ref t, state, task, vm.Oom.OomScore(t.Pid));
                Console.WriteLine();
            }
            Console.Write("pages checked after swap-in since boot: "); Console.WriteDecimal(Processes.SwapInsVerified);
            Console.Write(", found corrupted: "); Console.WriteDecimal(Processes.PagesCorrupted); Console.WriteLine();
        }

        private static void RunUsage()
        {
            Console.WriteLine("usage: run memhog <size> [rate] [adj=N] | run idle <size> [adj=N]");
            Console.WriteLine("       run reader|writer <size> [rate] [adj=N] | run leaker [rate] [adj=N]");
            Console.WriteLine("       run garbage <size> [rate] [adj=N]: rate pages of kernel objects a tick, size of them kept");
            Console.WriteLine("       size: pages (4096) or K/M/G bytes (64M); rate: pages per tick 1..4096;");
            Console.WriteLine("       adj: oom_score_adj -1000..1000; node: the home node (its pages come from there first)");
        }

        private static void RunProgram()
        {
            if (s_tokens < 2) { RunUsage(); return; }
            WorkloadKind kind;
            if (Is(1, "memhog")) kind = WorkloadKind.Memhog;
            else if (Is(1, "idle")) kind = WorkloadKind.Idle;
            else if (Is(1, "reader")) kind = WorkloadKind.Reader;
            else if (Is(1, "writer")) kind = WorkloadKind.Writer;
            else if (Is(1, "leaker")) kind = WorkloadKind.Leaker;
            else if (Is(1, "garbage")) kind = WorkloadKind.Garbage;
            else
            {
                Console.Write("run: no program named '"); WriteToken(1); Console.WriteLine("'");
                RunUsage();
                return;
            }
            Vm vm = ProcVm();
            if (vm == null) return;
            long pages = kind == WorkloadKind.Leaker ? Processes.VpagesPerProcess : 0;
            long rate = kind == WorkloadKind.Memhog ? 256 : kind == WorkloadKind.Leaker ? 64 : 128;
            long adj = 0, node = 0;
            int next = 2;
            bool file = kind == WorkloadKind.Reader || kind == WorkloadKind.Writer;
            long limit = file ? (long)Processes.SwapSegmentPages : Processes.VpagesPerProcess;
            if (kind != WorkloadKind.Leaker)
            {
                NumberResult size = s_tokens < 3 ? NumberResult.NotANumber : SizeInPages(2, limit, out pages);
                if (size == NumberResult.OutOfRange)
                {
                    Console.Write("run: size must be 1.."); Console.WriteDecimal((ulong)limit); Console.Write(" pages (");
                    Console.WriteSize((ulong)limit * 4096); Console.WriteLine(file ? ": a file's disk is one 4 MiB block)" : " of address space per process)");
                    return;
                }
                if (size != NumberResult.Ok)
                {
                    if (s_tokens >= 3) { Console.Write("run: bad size '"); WriteToken(2); Console.WriteLine("'"); }
                    RunUsage();
                    return;
                }
                next = 3;
            }
            bool haveRate = false;
            for (int t = next; t < s_tokens; t++)
            {
                if (Len(t) > 4 && Ch(t, 0) == 'a' && Ch(t, 1) == 'd' && Ch(t, 2) == 'j' && Ch(t, 3) == '=')
                {
                    // adj=N: parse the digits after '='.
                    s_tok.Start[t] += 4; s_tok.Length[t] -= 4;
                    NumberResult a = Number(t, ProcessTable.OomScoreAdjMin, ProcessTable.OomScoreAdjMax, out adj);
                    if (a == NumberResult.OutOfRange) { Console.WriteLine("run: oom_score_adj must be in -1000..1000"); return; }
                    if (a != NumberResult.Ok) { Console.Write("run: bad adj '"); WriteToken(t); Console.WriteLine("'"); RunUsage(); return; }
                    continue;
                }
                if (Len(t) > 5 && Ch(t, 0) == 'n' && Ch(t, 1) == 'o' && Ch(t, 2) == 'd' && Ch(t, 3) == 'e' && Ch(t, 4) == '=')
                {
                    // node=N: the process's home node.
                    s_tok.Start[t] += 5; s_tok.Length[t] -= 5;
                    int nodes = vm.Pa.NodeCount;
                    NumberResult nr = Number(t, 0, nodes - 1, out node);
                    if (nr == NumberResult.OutOfRange) { Console.Write("run: node must be 0.."); Console.WriteDecimal((ulong)(nodes - 1)); Console.WriteLine(" (the nodes this machine has)"); return; }
                    if (nr != NumberResult.Ok) { Console.Write("run: bad node '"); WriteToken(t); Console.WriteLine("'"); RunUsage(); return; }
                    continue;
                }
                NumberResult r = haveRate || kind == WorkloadKind.Idle ? NumberResult.NotANumber : Number(t, 1, 4096, out rate);
                if (r == NumberResult.Ok) haveRate = true;
                else if (r == NumberResult.OutOfRange) { Console.WriteLine("run: rate must be 1..4096 pages per tick"); return; }
                else { Console.Write("run: unexpected argument '"); WriteToken(t); Console.WriteLine("'"); RunUsage(); return; }
            }
            RunError e = Processes.Run(kind, (int)pages, (int)rate, (int)adj, (int)node, out Program p);
            if (e != RunError.None)
            {
                Console.Write("run: ");
                Console.WriteLine(e == RunError.TableFull ? "the process table is full (kill something first)"
                    : e == RunError.NoTask ? "the scheduler's task table is full"
                    : e == RunError.NoFile ? "no memory or file slot for the file's disk"
                    : e == RunError.NoSuchNode ? "no such node"
                    : "refused");
                return;
            }
            Console.Write("started "); Console.Write(Processes.KindName(kind));
            Console.Write(" pid "); Console.WriteDecimal((ulong)p.Pid);
            Console.Write(" (task "); Console.WriteDecimal((ulong)p.Task.Id);
            Console.Write("): "); Console.WriteDecimal((ulong)pages); Console.Write(" pages (");
            Console.WriteSize((ulong)pages * 4096);
            Console.Write(")");
            if (kind != WorkloadKind.Idle) { Console.Write(", "); Console.WriteDecimal((ulong)rate); Console.Write(" pages/tick"); }
            Console.Write(", oom_score_adj "); TextFormat.Signed(Out, adj);
            if (vm.Pa.NodeCount > 1) { Console.Write(", node "); Console.WriteDecimal((ulong)node); }
            Console.WriteLine();
        }

        /// <summary>numastat: per node numa_hit, numa_miss, numa_foreign, local_node, other_node.</summary>
        private static void NumaStat()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            pa.WriteNumaStat(Out);
        }

        /// <summary>numa: the SRAT's ranges (or why there are none), then numactl --hardware's nodes, sizes and distances.</summary>
        private static void NumaHardware()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (AcpiNuma.Info.NodeCount == 0) { Console.Write("numa: one node: "); Console.WriteLine(AcpiNuma.Describe(AcpiNuma.Info.Error)); }
            else AcpiNuma.PrintReport();
            pa.WriteNumaHardware(Out);
            int* zl = stackalloc int[PageAllocator.MaxNodes * MemoryManager.Common.MmConstants.MaxNrZones];
            for (int n = 0; n < pa.NodeCount; n++)
            {
                // The node's GFP_KERNEL zonelist (node/zone, in the order the allocator tries them).
                int len = pa.GetZonelist(n, Gfp.GFP_KERNEL, zl, PageAllocator.MaxNodes * MemoryManager.Common.MmConstants.MaxNrZones);
                Console.Write("node "); Console.WriteDecimal((ulong)n); Console.Write(" zonelist:");
                for (int i = 0; i < len; i++)
                {
                    Console.Write(' '); Console.WriteDecimal((ulong)(zl[i] / MemoryManager.Common.MmConstants.MaxNrZones)); Console.Write('/');
                    Console.Write(Zone.ZoneName((MemoryManager.Common.ZoneType)(zl[i] % MemoryManager.Common.MmConstants.MaxNrZones)));
                }
                Console.WriteLine();
            }
            for (int n = 0; n < pa.NodeCount; n++)
            {
                Console.Write("node "); Console.WriteDecimal((ulong)n); Console.Write(" kswapd wakes: ");
                Console.WriteDecimal(Processes.Vm != null ? Processes.Vm.Nodes[n].Kswapd.Wakes : 0);
                Console.WriteLine();
            }
        }

        /// <summary>sysctl: the NUMA policy knobs (vm.zone_reclaim_mode, vm.numa_zonelist_order) and the fair pass switch.</summary>
        private static void Sysctl()
        {
            PageAllocator pa = Allocator();
            if (pa == null) return;
            if (s_tokens == 3)
            {
                if (Is(1, "zone_reclaim_mode"))
                {
                    NumberResult r = Number(2, 0, 7, out long mode);
                    if (r != NumberResult.Ok) { Console.WriteLine("sysctl: zone_reclaim_mode must be 0..7 (1 reclaim the local node first, +2 write dirty pages, +4 unmap and swap)"); return; }
                    pa.ZoneReclaimMode = (int)mode;
                }
                else if (Is(1, "numa_zonelist_order"))
                {
                    if (Is(2, "node")) pa.SetZonelistOrder(ZonelistOrder.Node);
                    else if (Is(2, "zone")) pa.SetZonelistOrder(ZonelistOrder.Zone);
                    else { Console.WriteLine("sysctl: numa_zonelist_order must be node or zone"); return; }
                }
                else if (Is(1, "fair_zone_alloc"))
                {
                    NumberResult r = Number(2, 0, 1, out long on);
                    if (r != NumberResult.Ok) { Console.WriteLine("sysctl: fair_zone_alloc must be 0 (the 2.6 single scan) or 1 (the fair pass)"); return; }
                    pa.Options.FairZoneAllocation = on != 0;
                }
                else { Console.Write("sysctl: no setting named '"); WriteToken(1); Console.WriteLine("'"); return; }
            }
            else if (s_tokens != 1)
            {
                Console.WriteLine("usage: sysctl [zone_reclaim_mode <0..7> | numa_zonelist_order <node|zone> | fair_zone_alloc <0|1>]");
                return;
            }
            Console.Write("vm.zone_reclaim_mode = "); Console.WriteDecimal((ulong)pa.ZoneReclaimMode); Console.WriteLine();
            Console.Write("vm.numa_zonelist_order = "); Console.WriteLine(pa.Options.ZonelistOrder == ZonelistOrder.Zone ? "Zone" : "Node");
            Console.Write("vm.fair_zone_alloc = "); Console.WriteLine(pa.Options.FairZoneAllocation ? "1" : "0");
        }

        private static void SleepCommand()
        {
            if (s_tokens != 2 || Number(1, 1, 60000, out long ms) != NumberResult.Ok) { Console.WriteLine("usage: sleep <milliseconds 1..60000>"); return; }
            ulong start = Timer.Jiffies;
            Scheduler.SleepMs((ulong)ms);
            Console.Write("slept "); Console.WriteDecimal((Timer.Jiffies - start) * 10); Console.WriteLine(" ms");
        }

        private static bool Pid(int tok, string cmd, out int pid)
        {
            pid = 0;
            if (Number(tok, 1, 1000000, out long v) != NumberResult.Ok)
            {
                Console.Write(cmd); Console.Write(": '"); WriteToken(tok); Console.WriteLine("' is not a pid");
                return false;
            }
            pid = (int)v;
            return true;
        }

        private static void Kill()
        {
            if (s_tokens != 2) { Console.WriteLine("usage: kill <pid>"); return; }
            if (!Pid(1, "kill", out int pid)) return;
            Vm vm = ProcVm();
            if (vm == null) return;
            ProcResult r = Processes.Kill(pid);
            if (r == ProcResult.Ok) { Console.Write("kill: pid "); Console.WriteDecimal((ulong)pid); Console.WriteLine(" is exiting"); }
            else if (r == ProcResult.NotOwner) Console.WriteLine("kill: init and kernel threads cannot be killed");
            else { Console.Write("kill: no such process "); Console.WriteDecimal((ulong)pid); Console.WriteLine(); }
        }

        private static void OomAdj()
        {
            if (s_tokens != 3) { Console.WriteLine("usage: oom_adj <pid> <-1000..1000>"); return; }
            if (!Pid(1, "oom_adj", out int pid)) return;
            NumberResult given = Number(2, ProcessTable.OomScoreAdjMin, ProcessTable.OomScoreAdjMax, out long adj);
            if (given == NumberResult.NotANumber) { Console.Write("oom_adj: '"); WriteToken(2); Console.WriteLine("' is not a number"); return; }
            Vm vm = ProcVm();
            if (vm == null) return;
            if (given == NumberResult.OutOfRange)
            {
                Console.WriteLine("oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged");
                return;
            }
            ProcResult r = vm.Procs.SetOomScoreAdj(pid, (int)adj);
            if (r != ProcResult.Ok) { Console.Write("oom_adj: no such process "); Console.WriteDecimal((ulong)pid); Console.WriteLine(); return; }
            Console.Write("pid "); Console.WriteDecimal((ulong)pid); Console.Write(": oom_score_adj "); TextFormat.Signed(Out, adj);
            Console.Write(", oom_score "); TextFormat.Signed(Out, vm.Oom.OomScore(pid)); Console.WriteLine();
        }
    }
}
