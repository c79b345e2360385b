using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Sched;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Swap;
using MemoryManager.Workloads;
using KTask = Kernel.Sched.KTask;
using ProcState = MemoryManager.Processes.ProcessState;

namespace Kernel.Proc
{
    /// <summary>Why <see cref="Processes.Run"/> refused.</summary>
    public enum RunError : byte
    {
        None = 0,
        /// <summary>The process layer is not set up (not the buddy heap, or not yet booted).</summary>
        Unavailable,
        /// <summary>The Vm's process table (or our program table) is full.</summary>
        TableFull,
        /// <summary>The scheduler's task table is full.</summary>
        NoTask,
        /// <summary>Size out of range (0, or above a process's address space).</summary>
        BadSize,
        /// <summary>oom_score_adj outside -1000..1000.</summary>
        BadAdj,
        /// <summary>No room for the file's backing store or in the page cache's file table.</summary>
        NoFile,
        /// <summary>The home node asked for does not exist.</summary>
        NoSuchNode,
    }

    /// <summary>
    /// Processes inside the kernel (docs/reclaim-and-oom.md, "Inside the kernel"). At boot, after
    /// <see cref="Scheduler.Start"/> and on the buddy heap, <see cref="Init"/> builds MemoryManager's
    /// <see cref="Vm"/> over <see cref="BuddyHeap.Allocator"/> with a RAM swap device, and wires the
    /// allocator's partners to the kernel: clock = jiffies, congestion wait = sleep of the current
    /// task, event hook = a wake of a node's kswapd task when the Vm's kswapd starts running. Each kswapdN
    /// thread of the process table runs as a scheduler task (<see cref="KswapdTask"/>); init (pid 1)
    /// is the shell's identity. Workload programs (MemoryManager/Workloads: memhog, idle, reader,
    /// writer, leaker, the code the host simulator runs) are started with <see cref="Run"/>, each a
    /// scheduler task stepping its <see cref="Workload"/> once per tick.
    ///
    /// Kernel-internal heap allocations (every `new`) come from the same buddy, GFP_KERNEL inside
    /// the heap's allocation scopes (<see cref="BuddyHeap.HeapScope"/>: no sleep, no shrinkers):
    /// they may reclaim directly (which never sleeps), dip into half the min reserve (the no-sleep
    /// scope's __GFP_HIGH), retry and call the OOM killer, but the slow path never calls the
    /// congestion wait for them: a sleep inside `new` is not safe (the scheduler allocates a task's
    /// stack after choosing its table slot, the shell and the test framework build strings between
    /// reads of shared state). The collector is registered as a shrinker (<see cref="GcShrinker"/>):
    /// kswapd and the direct reclaim of user-page faults run it, a heap allocation never. The OOM killer does not need the victim to run: the
    /// oom_reaper frees its memory at once and marks it MMF_OOM_SKIP, so each OOM round frees
    /// memory or moves to the next victim, and with nothing killable left the allocation fails
    /// (the heap's out-of-memory panic). User pages (Vm faults) are the only allocations that
    /// sleep, and the Vm re-checks its state after each one.
    /// </summary>
    public static unsafe class Processes
    {
        public const int MaxProcesses = 14;            // init + kswapd0 + 12 programs
        /// <summary>Address space per process, at most (128 MiB): 14 x 32768 PTEs = 3.5 MiB, one 4 MiB block.</summary>
        public const int MaxVpagesPerProcess = 32768;
        /// <summary>Address space per process, at least (16 MiB): the table is then 448 KiB.</summary>
        public const int MinVpagesPerProcess = 4096;
        public const int MaxFiles = 8;
        public const int MaxFilePages = 8192;
        public const ulong MaxSwapBytes = 64UL << 20;
        /// <summary>4 MiB, the buddy's largest block: a swap segment once swap is 16 MiB or more, and the largest file's disk.</summary>
        public const ulong SwapSegmentPages = 1024;
        /// <summary>1 MiB: a swap segment while swap is below 16 MiB, so that small machines get swap too.</summary>
        public const ulong SmallSwapSegmentPages = 256;
        public const int MaxPrograms = MaxProcesses;
        public const ulong ProgramStack = 32 * 1024;

        private static Vm s_vm;
        private static bool s_tried;
        private static string s_unavailable = "the process layer has not been set up";
        private static KswapdTask[] s_kswapd;
        private static Program[] s_programs;
        private static FileDisk[] s_files;
        private static KernelClock s_clock;
        private static GcShrinker s_gcShrinker;
        /// <summary>The collector's shrinker (null when the collector is not set up).</summary>
        public static GcShrinker GcShrinker => s_gcShrinker;
        private static ulong s_swapSegments, s_swapSegmentPages;
        private static int s_vpages;
        private static string s_noSwap;

        /// <summary>Statistics of the kernel side (the Vm counts kswapd's wakes and stops, and vmstat the rest).</summary>
        public static ulong Exited, OomKilledExits, CongestionWaits;
        /// <summary>Congestion waits the slow path skipped because the task may not sleep (a heap allocation: <see cref="BuddyHeap.HeapScope"/>).</summary>
        public static ulong CongestionWaitsInHeap => BuddyHeap.Allocator == null ? 0 : BuddyHeap.Allocator.Stat.CongestionWaitSkipped;

        public static bool IsAvailable => s_vm != null;
        /// <summary>Why the process layer is not there (for the shell).</summary>
        public static string UnavailableReason => s_unavailable;
        public static Vm Vm => s_vm;
        /// <summary>RAM given to the swap device: its segments (slot 0 of them holds the swap header, so SwapTotal is one page less).</summary>
        public static ulong SwapBytes => s_vm == null || s_vm.Swap == null ? 0 : s_swapSegments * s_swapSegmentPages * MmConstants.PageSize;
        public static ulong SwapSegments => s_vm == null || s_vm.Swap == null ? 0 : s_swapSegments;
        public static ulong SwapSegmentBytes => s_swapSegmentPages * MmConstants.PageSize;
        /// <summary>Why there is no swap device (null when there is one).</summary>
        public static string NoSwapReason => s_vm != null && s_vm.Swap != null ? null : s_noSwap ?? "the process layer is not set up";
        /// <summary>Pages of address space each process has (its software page table's entries); 0 before Init.</summary>
        public static int VpagesPerProcess => s_vpages;

        /// <summary>
        /// The address space a process gets on a machine of <paramref name="ramPages"/> pages: the
        /// power of two at or above twice the RAM (so one memhog can outgrow RAM + swap, a quarter
        /// of RAM, and meet the OOM killer), between 16 MiB and 128 MiB. The process table holds
        /// <see cref="MaxProcesses"/> of these page tables in one block, so it grows with RAM:
        /// 448 KiB up to 8 MiB of RAM, 3.5 MiB from 64 MiB on.
        /// </summary>
        public static int VpagesFor(ulong ramPages)
        {
            int v = MinVpagesPerProcess;
            while (v < MaxVpagesPerProcess && (ulong)v < 2 * ramPages) v *= 2;
            return v;
        }

        /// <summary>
        /// The RAM swap device of a machine of <paramref name="ramPages"/> pages: a quarter of RAM,
        /// at most 64 MiB, in whole segments of 4 MiB, or of 1 MiB while that quarter is below
        /// 16 MiB (from 4 MiB of RAM on there is swap). Returns the number of segments (0: no swap).
        /// </summary>
        public static int SwapSegmentsFor(ulong ramPages, out ulong segmentPages)
        {
            ulong swapPages = ramPages / 4;
            if (swapPages > MaxSwapBytes / MmConstants.PageSize) swapPages = MaxSwapBytes / MmConstants.PageSize;
            segmentPages = swapPages >= 4 * SwapSegmentPages ? SwapSegmentPages : SmallSwapSegmentPages;
            return (int)(swapPages / segmentPages);
        }

        /// <summary>The fewest pages worth a page allocator beside another object heap (8 MiB).</summary>
        public const ulong MinLentPages = 2048;

        /// <summary>
        /// The pages the zoned page allocator takes from an object heap other than the buddy (which
        /// has <paramref name="heapFreePages"/> free): what is left after the object heap keeps an
        /// eighth of its pages, what the process layer itself allocates from it (<see cref="MemoryNeeds"/>'
        /// process table, page-cache index, task stacks, boot objects and working room) and the RAM
        /// swap, a quarter of the page allocator's pages; 0 when nothing is left.
        /// </summary>
        public static ulong PageAllocatorPagesBeside(ulong heapFreePages)
        {
            ulong ram = BootInfo.RamMiB;
            ulong keep = heapFreePages / 8;
            keep += (MemoryNeeds.Bytes(3, ram) + MemoryNeeds.Bytes(4, ram) + MemoryNeeds.Bytes(6, ram)
                   + MemoryNeeds.Bytes(7, ram) + MemoryNeeds.Bytes(9, ram)) / MmConstants.PageSize;
            if (heapFreePages <= keep) return 0;
            return (heapFreePages - keep) * 4 / 5;   // guest + guest/4 of swap = the rest
        }

        /// <summary>
        /// Sets the process layer up (once). Needs a started scheduler; with an object heap other
        /// than the buddy, the zoned page allocator is set up beside it first (<see cref="PageAllocatorPagesBeside"/>).
        /// Returns null, or why it is not available.
        /// </summary>
        public static string Init()
        {
            if (s_tried) return s_vm == null ? s_unavailable : null;
            s_tried = true;
            if (!Scheduler.IsStarted) { s_unavailable = "processes need the scheduler"; return s_unavailable; }
            if (Heap.Name != BuddyHeap.HeapName && !BuddyHeap.IsReady)
            {
                // Another object heap (the RAT, a heap plug): the zoned page allocator gets the
                // pages that heap does not need, lent through the seam (Heap.AllocPages), and the
                // process layer runs on it as it runs on the buddy heap (docs/plugs.md).
                ulong lent = PageAllocatorPagesBeside(Heap.Stats.FreePages);
                string guest = lent < MinLentPages ? "the heap has too little free memory to lend it 8 MiB"
                             : BuddyHeap.InitGuest(lent);
                if ((object)guest != null)
                {
                    s_unavailable = string.Concat("processes need a page allocator beside the '", Heap.Name, "' heap: ", guest);
                    return s_unavailable;
                }
            }
            if (!BuddyHeap.IsReady)
            {
                s_unavailable = "processes need the zoned page allocator, which is not set up";
                return s_unavailable;
            }
            PageAllocator pa = BuddyHeap.Allocator;

            // RAM swap: a quarter of RAM in segments (a teaching device: swapping to RAM frees nothing overall).
            int segments = SwapSegmentsFor(pa.TotalManagedPages, out ulong segmentPages);
            s_swapSegmentPages = segmentPages;
            ISwapDevice swap = null;
            if (segments > 0)
            {
                ulong* segs = stackalloc ulong[16];
                int got = 0;
                for (int i = 0; i < segments && i < 16; i++)
                {
                    void* seg = Heap.AllocPages(segmentPages);
                    if (seg == null) break;
                    segs[got++] = (ulong)seg;
                }
                if (got > 0 && RamSwapDevice.CreateSegmented(segs, got, segmentPages, out RamSwapDevice dev) == MmResult.Ok) swap = dev;
                s_swapSegments = (ulong)got;
                if (swap == null) s_noSwap = "the heap could not give the swap segments";
            }
            else s_noSwap = "RAM below 4 MiB: swap is a quarter of RAM, in segments of at least 1 MiB";

            s_vpages = VpagesFor(pa.TotalManagedPages);
            VmOptions o = VmOptions.Default;
            o.MaxProcesses = MaxProcesses;
            o.VpagesPerProcess = s_vpages;
            o.MaxFiles = MaxFiles;
            o.MaxFilePages = MaxFilePages;
            MmResult r = Vm.Create(pa, swap, o, out Vm vm);
            if (r != MmResult.Ok) { s_unavailable = "Vm.Create refused the allocator"; return s_unavailable; }

            s_clock = new KernelClock();
            pa.Clock = s_clock;
            pa.Congestion = new SleepCongestion();
            pa.PanicHandler = new KernelPanic();
            vm.Oom.Policy = new KernelOomPolicy();
            s_kswapd = new KswapdTask[pa.NodeCount];
            pa.Events = new KswapdWakeups();
            s_programs = new Program[MaxPrograms];
            // The whole program table at once, as Linux's fixed tables are: a slot's object is
            // reused by every program that takes the slot, so running programs never grows the
            // heap, however many are still exiting when the next one starts.
            for (int i = 0; i < MaxPrograms; i++) s_programs[i] = new Program { Reaped = true };   // free: no program has run in it
            s_files = new FileDisk[MaxFiles];
            s_vm = vm;
            if (KernelGc.IsReady)
            {
                s_gcShrinker = new GcShrinker();
                if (vm.Shrinkers.Register(s_gcShrinker) != MmResult.Ok) { s_unavailable = "the shrinker registry refused the collector"; return s_unavailable; }
            }
            for (int n = 0; n < pa.NodeCount; n++)
            {
                KswapdTask k = new KswapdTask();
                k.Nid = n;
                k.Queue = new WaitQueue();
                k.Pid = vm.Nodes[n].Kswapd.Pid;
                s_kswapd[n] = k;
                k.Task = Scheduler.Spawn(vm.Procs.Get(k.Pid).Comm, k, 16 * 1024);
            }
            return null;
        }

        /// <summary>Node <paramref name="nid"/>'s kswapd task (null without the process layer).</summary>
        public static KswapdTask Kswapd(int nid) => s_kswapd == null || (uint)nid >= (uint)s_kswapd.Length ? null : s_kswapd[nid];
        public static int NodeCount => s_kswapd == null ? 0 : s_kswapd.Length;

        /// <summary>The program running as <paramref name="pid"/> (null if none).</summary>
        public static Program Find(int pid)
        {
            if (s_programs == null) return null;
            for (int i = 0; i < s_programs.Length; i++)
            {
                Program p = s_programs[i];
                if (p != null && p.Alive && p.Pid == pid) return p;
            }
            return null;
        }

        /// <summary>Programs started and not yet exited.</summary>
        public static int Running
        {
            get
            {
                int n = 0;
                for (int i = 0; s_programs != null && i < s_programs.Length; i++) if (s_programs[i] != null && s_programs[i].Alive) n++;
                return n;
            }
        }

        /// <summary>
        /// Starts a workload program: a process in the Vm's table (comm = the kind's name) and a
        /// scheduler task that steps it. <paramref name="pages"/> is the anon size (memhog, idle,
        /// leaker) or the file size (reader, writer); <paramref name="rate"/> pages per tick.
        /// The task has not run yet when this returns (it runs when the caller yields or sleeps).
        /// </summary>
        public static RunError Run(WorkloadKind kind, int pages, int rate, int adj, out Program program)
            => Run(kind, pages, rate, adj, 0, out program);

        /// <summary>The same, with the process's home node <paramref name="node"/> (its pages come from that node first).</summary>
        public static RunError Run(WorkloadKind kind, int pages, int rate, int adj, int node, out Program program)
        {
            program = null;
            if (s_vm != null && (uint)node >= (uint)s_vm.Pa.NodeCount) return RunError.NoSuchNode;
            if (s_vm == null) return RunError.Unavailable;
            if (adj < ProcessTable.OomScoreAdjMin || adj > ProcessTable.OomScoreAdjMax) return RunError.BadAdj;
            bool file = kind == WorkloadKind.Reader || kind == WorkloadKind.Writer;
            if (pages < 1 || pages > (file ? (int)SwapSegmentPages : VpagesPerProcess)) return RunError.BadSize;
            int slot = -1;
            for (int i = 0; i < s_programs.Length && slot < 0; i++)
                if (s_programs[i] == null || (!s_programs[i].Alive && s_programs[i].Reaped)) slot = i;
            if (slot < 0) return RunError.TableFull;
            int fileId = -1;
            if (file && !FileFor(pages, out fileId)) return RunError.NoFile;
            ProcResult pr = s_vm.Procs.Spawn(KindName(kind), TaskFlags.None, adj, out int pid);
            if (pr != ProcResult.Ok) return RunError.TableFull;
            s_vm.Procs.SetHomeNode(pid, node, s_vm.Pa.NodeCount);
            Program p = s_programs[slot];
            if (p == null) { p = new Program(); s_programs[slot] = p; }
            p.Pid = pid;
            p.Work = Workload.Create(kind, pid, pages, rate, fileId);
            p.Alive = true;
            p.Reaped = false;
            p.OomKilled = false;
            p.Steps = 0;
            p.GarbageObjects = 0;
            p.StartTick = Timer.Jiffies;
            p.Task = Scheduler.Spawn(KindName(kind), p, ProgramStack);
            if (p.Task == null)
            {
                s_vm.Memory.ExitProcess(pid);
                p.Alive = false;
                p.Reaped = true;
                return RunError.NoTask;
            }
            program = p;
            return RunError.None;
        }

        /// <summary>kill: the process starts exiting (PF_EXITING); its task notices at its next step and frees everything. Refused for init and kernel threads.</summary>
        public static ProcResult Kill(int pid)
        {
            if (s_vm == null || !s_vm.Procs.Exists(pid)) return ProcResult.NoSuchProcess;
            ref Process t = ref s_vm.Procs.Get(pid);
            if (pid == ProcessTable.InitPid || (t.Flags & TaskFlags.KernelThread) != 0) return ProcResult.NotOwner;
            Program p = Find(pid);
            if (p == null) return ProcResult.NoSuchProcess;
            ProcResult r = s_vm.Memory.BeginExit(pid);
            // As a fatal signal wakes its target (signal_wake_up): a program asleep between steps
            // notices the kill now, not at its next tick.
            if (r == ProcResult.Ok) Scheduler.WakeSleeper(p.Task);
            return r;
        }

        /// <summary>Print the `[tick] name (pid N) exited` line when a program ends (a test that runs thousands sets it false).</summary>
        public static bool ReportExits = true;

        /// <summary>Waits (sleeping the caller) until <paramref name="p"/>'s task is dead, at most <paramref name="ticks"/>; true if it is.</summary>
        public static bool WaitExit(Program p, ulong ticks)
        {
            ulong end = Timer.Jiffies + ticks;
            while (p.Alive && Timer.Jiffies < end) Scheduler.Sleep(1);
            return !p.Alive;
        }

        public static string KindName(WorkloadKind k) => k switch
        {
            WorkloadKind.Memhog => "memhog",
            WorkloadKind.Idle => "idle",
            WorkloadKind.Reader => "reader",
            WorkloadKind.Writer => "writer",
            WorkloadKind.Garbage => "garbage",
            _ => "leaker",
        };

        /// <summary>A file of <paramref name="pages"/> pages whose "disk" is kernel memory (one buddy block holding each page's pattern); reused for the same size.</summary>
        private static bool FileFor(int pages, out int fileId)
        {
            fileId = -1;
            for (int i = 0; i < s_files.Length; i++)
                if (s_files[i].Backing != null && s_files[i].Pages == pages) { fileId = s_files[i].FileId; return true; }
            for (int i = 0; i < s_files.Length; i++)
            {
                if (s_files[i].Backing != null) continue;
                byte* disk = (byte*)Heap.AllocPages((ulong)pages);
                if (disk == null) return false;
                if (s_vm.PageCache.CreateFile(FileName(i), pages, disk, out int id) != ProcResult.Ok) { Heap.FreePages(disk); return false; }
                for (int k = 0; k < pages; k++) Workload.Fill(disk + (ulong)k * MmConstants.PageSize, Workload.FileSeed(id, k));
                s_files[i].Backing = disk;
                s_files[i].Pages = pages;
                s_files[i].FileId = id;
                fileId = id;
                return true;
            }
            return false;
        }

        private static string FileName(int i) => i switch
        {
            0 => "disk0", 1 => "disk1", 2 => "disk2", 3 => "disk3",
            4 => "disk4", 5 => "disk5", 6 => "disk6", _ => "disk7",
        };

        // ------------------------------------------------------------ the allocator's partners

        /// <summary>
        /// IMmEvents: when the Vm's kswapd of a node starts running (woken by the allocator's slow
        /// path), that node's kswapd task is woken from its wait queue. The Vm counts the wakes,
        /// stops, OOM kills and allocation stalls itself; the shell and the suites read them there.
        /// </summary>
        private sealed class KswapdWakeups : IMmEvents
        {
            public void KswapdWoken(KswapdWake e)
            {
                if (s_kswapd != null && (uint)e.Nid < (uint)s_kswapd.Length) s_kswapd[e.Nid].Queue.WakeUp();
            }

            /// <summary>A stopped kswapd waits on its queue by itself (KswapdTask): nothing to do.</summary>
            public void KswapdStopped(KswapdStop e) { }

            /// <summary>The victim's task sees TIF_MEMDIE at its next step and exits (Program); a running trace lists the kill.</summary>
            public void OomKilled(OomKill e) => TraceSampler.OomKilled(e);

            /// <summary>Direct reclaim runs in the allocating task itself: nothing to schedule.</summary>
            public void AllocStalled(AllocStall e) { }
        }

        /// <summary>
        /// ICongestionWait: the current task sleeps, so kswapd and exiting victims run. A heap
        /// allocation (a kernel `new`) never gets here: its no-sleep scope makes the slow path skip the wait.
        /// </summary>
        private sealed class SleepCongestion : ICongestionWait
        {
            public void CongestionWait(ref TaskContext current, uint ticks)
            {
                CongestionWaits++;
                KTask t = Scheduler.Current;
                if (t == null || t.IsIdle) return;
                if (!Scheduler.Sleep(ticks == 0 ? 1 : ticks)) Scheduler.Yield();
            }
        }

        /// <summary>
        /// IPanicHandler: the memory manager's panic (panic_on_oom, no killable process) is the
        /// kernel's: the full report, the PANIC frame and a halt. Nothing runs after it.
        /// </summary>
        private sealed class KernelPanic : IPanicHandler
        {
            public void Panic(string reason) => global::Kernel.Core.Runtime.Panic.Fail(reason);
        }

        /// <summary>IClock: jiffies at the tick rate (100 Hz).</summary>
        private sealed class KernelClock : IClock
        {
            public ulong Ticks => Timer.Jiffies;
            public uint Hz => Timer.TickHz == 0 ? Timer.DefaultTickHz : Timer.TickHz;
        }

        internal static void ProgramExited(Program p)
        {
            Exited++;
            if (p.OomKilled) OomKilledExits++;
            s_exitedSwapIns += p.Work.SwapIns;
            s_exitedCorruptions += p.Work.Corruptions;
        }

        private static ulong s_exitedSwapIns, s_exitedCorruptions;

        /// <summary>
        /// Pages that came back from swap and were checked against the pattern their process wrote,
        /// since boot (exited programs and running ones).
        /// </summary>
        public static ulong SwapInsVerified
        {
            get
            {
                ulong n = s_exitedSwapIns;
                for (int i = 0; s_programs != null && i < s_programs.Length; i++) if (s_programs[i] != null && s_programs[i].Alive) n += s_programs[i].Work.SwapIns;
                return n;
            }
        }

        /// <summary>Pages whose bytes were not what their process last wrote (lost or corrupted by swap or writeback), since boot. Must stay 0.</summary>
        public static ulong PagesCorrupted
        {
            get
            {
                ulong n = s_exitedCorruptions;
                for (int i = 0; s_programs != null && i < s_programs.Length; i++) if (s_programs[i] != null && s_programs[i].Alive) n += s_programs[i].Work.Corruptions;
                return n;
            }
        }
    }

    /// <summary>A file's "disk": kernel memory holding its pages' patterns.</summary>
    internal unsafe struct FileDisk
    {
        public byte* Backing;
        public int Pages;
        public int FileId;
    }

    /// <summary>
    /// One kswapd thread as a scheduler task: sleeping → wait on its queue; running →
    /// Vm.Kswapd.Step(nid), then yield; napping → wait until NapUntil (or a wake), then step.
    /// </summary>
    public sealed class KswapdTask : ITaskBody
    {
        public int Nid, Pid;
        public WaitQueue Queue;
        public KTask Task;
        public ulong Steps, Reclaimed;

        /// <summary>Bytes of dead stack zeroed after each balancing step (more than the parking frames take).</summary>
        private const ulong KswapdDeadStackBytes = 2048;

        public void Run(KTask self)
        {
            Vm vm = Processes.Vm;
            while (!self.ShouldExit)
            {
                KswapdNode k = vm.Nodes[Nid].Kswapd;
                if (k.State == KswapdState.Sleeping)
                {
                    if (Queue.Wait() == WaitResult.Killed) return;
                    continue;
                }
                if (k.State == KswapdState.Napping)
                {
                    ulong now = Timer.Jiffies;
                    if (now < k.NapUntil && Queue.Wait(k.NapUntil - now) == WaitResult.Killed) return;
                }
                Reclaimed += vm.Kswapd.Step(Nid);
                Steps++;
                // kswapd parks next (Yield or Wait): zero what Step's deep calls left below here, so
                // the parking frames' unwritten slots cannot name objects that a shrinker collection
                // in Step was marking (this stack is scanned conservatively while kswapd is parked).
                KernelStack.ClearDeadStack(KswapdDeadStackBytes);
                if (!Scheduler.Yield()) return;
            }
        }
    }

    /// <summary>
    /// A workload program: a process of the Vm and the scheduler task that runs it, one
    /// <see cref="Workload.Step"/> per tick (rate pages per step). It exits when it is killed (the
    /// OOM killer's TIF_MEMDIE, or `kill`: PF_EXITING): vm.Memory.ExitProcess frees every page it owned.
    /// </summary>
    public sealed class Program : ITaskBody
    {
        public int Pid;
        public Workload Work;
        public KTask Task;
        /// <summary>The task still runs (false once it has exited).</summary>
        public bool Alive;
        /// <summary>The process slot is released and this object may be reused.</summary>
        public bool Reaped;
        /// <summary>It exited because the OOM killer chose it.</summary>
        public bool OomKilled;
        public ulong Steps, StartTick, ExitTick;
        public WorkloadStatus LastStatus;
        /// <summary>A garbage program's objects (GarbageObjectBytes each) allocated so far; the ring holds the newest.</summary>
        public ulong GarbageObjects;
        private object[] _ring;
        private int _ringNext;

        /// <summary>Bytes of one garbage object's payload: four to a page (kmalloc-1k).</summary>
        public const int GarbageObjectBytes = 1000;
        public const int GarbageObjectsPerPage = 4;

        /// <summary>A garbage program's step: Rate pages' worth of new objects, each replacing the oldest in the ring.</summary>
        private void MakeGarbage()
        {
            if (_ring == null) _ring = new object[Work.Pages * GarbageObjectsPerPage];
            int n = Work.Rate * GarbageObjectsPerPage;
            for (int i = 0; i < n; i++)
            {
                byte[] o = new byte[GarbageObjectBytes];
                o[i % GarbageObjectBytes] = 1;
                _ring[_ringNext] = o;
                _ringNext = _ringNext + 1 == _ring.Length ? 0 : _ringNext + 1;
                GarbageObjects++;
            }
        }

        public void Run(KTask self)
        {
            Vm vm = Processes.Vm;
            while (true)
            {
                if (!vm.Procs.Exists(Pid)) break;
                ref Process t = ref vm.Procs.Get(Pid);
                if (t.State != ProcState.Running && t.State != ProcState.Sleeping) break;
                LastStatus = Work.Step(vm);
                if (Work.Kind == WorkloadKind.Garbage) MakeGarbage();
                Steps++;
                if (LastStatus == WorkloadStatus.Killed) break;
                Scheduler.Sleep(1);
            }
            if (vm.Procs.Exists(Pid))
            {
                OomKilled = (vm.Procs.Get(Pid).Flags & TaskFlags.MemDie) != 0;
                vm.Memory.BeginExit(Pid);
                vm.Memory.ExitProcess(Pid);
            }
            ExitTick = Timer.Jiffies;
            _ring = null;
            _ringNext = 0;
            Alive = false;
            Reaped = true;
            // The task is dead once this returns: let go of it, so that a program slot waiting to
            // be reused does not keep its last task object (and its wait queue) from the collector.
            Task = null;
            Processes.ProgramExited(this);
            if (!Processes.ReportExits) return;
            Console.Write("[");
            Console.WriteDecimal(ExitTick);
            Console.Write("] ");
            Console.Write(Processes.KindName(Work.Kind));
            Console.Write(" (pid ");
            Console.WriteDecimal((ulong)Pid);
            if (Work.Kind == WorkloadKind.Garbage) { Console.Write(", "); Console.WriteDecimal(GarbageObjects); Console.Write(" objects made"); }
            Console.WriteLine(OomKilled ? ") exited after the OOM kill; its memory is reaped" : ") exited; its memory is freed");
        }
    }
}
