using MemoryManager.Processes;

namespace MemoryManager.Workloads
{
    /// <summary>What a workload process does with memory.</summary>
    public enum WorkloadKind : byte
    {
        /// <summary>Touches (writes) anonymous pages at its rate up to its size, then keeps re-reading them (its working set), checking their bytes.</summary>
        Memhog,
        /// <summary>Touches its pages once, all in its first step, then sits on them: cold memory that reclaim swaps out first.</summary>
        Idle,
        /// <summary>Reads pages of a file through the page cache, round and round, checking their bytes.</summary>
        Reader,
        /// <summary>Like Reader, but writes each page back (dirty pages that reclaim must write back first).</summary>
        Writer,
        /// <summary>Allocates a page at its rate and never touches it again, until its address space is full: a leak.</summary>
        Leaker,
        /// <summary>
        /// Kernel garbage: each step the kernel's program allocates Rate pages' worth of managed
        /// objects and drops the oldest, keeping at most Pages pages' worth alive; the collector
        /// (a shrinker) must take the rest back. It touches no user page: its Step does nothing
        /// here (the host has no kernel heap to fill).
        /// </summary>
        Garbage,
    }

    /// <summary>What <see cref="Workload.Step"/> says about the process afterwards.</summary>
    public enum WorkloadStatus : byte
    {
        /// <summary>It did its step's work and wants to run again.</summary>
        Running,
        /// <summary>A page could not be had this step (counted in AllocFailures); it tries again next step.</summary>
        Stalled,
        /// <summary>The OOM killer chose it (TIF_MEMDIE) or it is exiting: its owner calls ProcessMemory.ExitProcess.</summary>
        Killed,
        /// <summary>A Leaker whose address space is full: nothing more to do but hold its memory.</summary>
        Full,
    }

    /// <summary>
    /// The behaviour of one workload process, one bounded step at a time, so that it can run as
    /// a cooperative task: the host simulator calls <see cref="Step"/> once per simulated tick,
    /// the kernel once between two yields of the process's task. A step does at most
    /// <see cref="Rate"/> page touches (an Idle process does all of its pages in one step) and
    /// never blocks; memory comes through the <see cref="Vm"/> (faults, page cache), so every
    /// page is charged to the process and reclaim, swap and the OOM killer see it.
    ///
    /// Every page a process writes holds a pattern derived from (pid, page) or (file, index);
    /// reading it back checks that pattern bit for bit, so a page lost or corrupted by swap or
    /// writeback shows up in <see cref="Corruptions"/>.
    /// </summary>
    public unsafe struct Workload
    {
        public WorkloadKind Kind;
        public int Pid;
        /// <summary>Pages of anonymous memory (Memhog, Idle, Leaker) the process grows to.</summary>
        public int Pages;
        /// <summary>Page touches per step.</summary>
        public int Rate;
        /// <summary>The file a Reader or Writer works on (Vm.PageCache.CreateFile's id); -1 otherwise.</summary>
        public int FileId;
        /// <summary>Anonymous pages touched so far (the next new page is this index).</summary>
        public int Touched;
        /// <summary>Position of the re-read (Memhog) or file (Reader, Writer) cursor.</summary>
        public int Cursor;
        public ulong AllocFailures;
        /// <summary>Pages whose bytes were not what the process last wrote (must stay 0).</summary>
        public ulong Corruptions;
        /// <summary>Pages that were swapped out and came back in, checked.</summary>
        public ulong SwapIns;

        /// <summary>A process of <paramref name="kind"/> for pid <paramref name="pid"/>; <paramref name="fileId"/> for Reader and Writer, else -1.</summary>
        public static Workload Create(WorkloadKind kind, int pid, int pages, int rate, int fileId)
        {
            Workload w = default;
            w.Kind = kind;
            w.Pid = pid;
            w.Pages = pages;
            w.Rate = rate < 1 ? 1 : rate;
            w.FileId = fileId;
            return w;
        }

        /// <summary>The pattern seed of anonymous page <paramref name="vpage"/> of <paramref name="pid"/>.</summary>
        public static ulong AnonSeed(int pid, int vpage) => 0x9E3779B97F4A7C15UL * (ulong)(pid + 1) ^ (ulong)vpage * 0xC2B2AE3D27D4EB4FUL;

        /// <summary>The pattern seed of page <paramref name="index"/> of file <paramref name="fileId"/>.</summary>
        public static ulong FileSeed(int fileId, int index) => 0xD6E8FEB86659FD93UL * (ulong)(fileId + 7) ^ (ulong)index * 0x165667B19E3779F9UL;

        /// <summary>Fills a page with the pattern of a seed (every 8-byte word differs).</summary>
        public static void Fill(byte* page, ulong seed)
        {
            ulong* w = (ulong*)page;
            for (int i = 0; i < 512; i++) w[i] = seed + (ulong)i * 0x9E3779B97F4A7C15UL;
        }

        /// <summary>True when a page still holds the pattern of its seed, bit for bit.</summary>
        public static bool Holds(byte* page, ulong seed)
        {
            ulong* w = (ulong*)page;
            for (int i = 0; i < 512; i++) if (w[i] != seed + (ulong)i * 0x9E3779B97F4A7C15UL) return false;
            return true;
        }

        /// <summary>
        /// One step of the process's behaviour. The caller runs it only while the process is
        /// in the table and Running; after <see cref="WorkloadStatus.Killed"/> the caller ends
        /// the process (ProcessMemory.ExitProcess) instead of stepping it again.
        /// </summary>
        public WorkloadStatus Step(Vm vm)
        {
            switch (Kind)
            {
                case WorkloadKind.Memhog:
                case WorkloadKind.Idle:
                    return StepAnon(vm, Kind == WorkloadKind.Idle ? Pages : Rate);
                case WorkloadKind.Leaker:
                    return StepLeak(vm);
                case WorkloadKind.Garbage:
                    return WorkloadStatus.Running;   // the kernel's program allocates the objects
                default:
                    return StepFile(vm);
            }
        }

        private WorkloadStatus StepAnon(Vm vm, int budget)
        {
            for (int i = 0; i < budget; i++)
            {
                if (Touched < Pages)
                {
                    ProcResult r = vm.Memory.TouchAnon(Pid, Touched, true, out byte* data);
                    if (r == ProcResult.Killed) return WorkloadStatus.Killed;
                    if (r != ProcResult.Ok) { AllocFailures++; return WorkloadStatus.Stalled; }
                    if (data != null) Fill(data, AnonSeed(Pid, Touched));
                    Touched++;
                }
                else if (Kind == WorkloadKind.Memhog && Touched > 0)
                {
                    int v = Cursor++ % Touched;
                    bool wasSwapped = Pte.IsSwap(vm.Procs.ReadPte(Pid, v));
                    ProcResult r = vm.Memory.TouchAnon(Pid, v, false, out byte* data);
                    if (r == ProcResult.Killed) return WorkloadStatus.Killed;
                    if (r != ProcResult.Ok) { AllocFailures++; return WorkloadStatus.Stalled; }
                    if (wasSwapped) SwapIns++;
                    if (data != null && !Holds(data, AnonSeed(Pid, v))) Corruptions++;
                }
                else break;
            }
            return WorkloadStatus.Running;
        }

        private WorkloadStatus StepLeak(Vm vm)
        {
            int limit = Pages < vm.Procs.VpagesPerProcess ? Pages : vm.Procs.VpagesPerProcess;
            for (int i = 0; i < Rate; i++)
            {
                if (Touched >= limit) return WorkloadStatus.Full;
                ProcResult r = vm.Memory.TouchAnon(Pid, Touched, true, out byte* data);
                if (r == ProcResult.Killed) return WorkloadStatus.Killed;
                if (r != ProcResult.Ok) { AllocFailures++; return WorkloadStatus.Stalled; }
                if (data != null) Fill(data, AnonSeed(Pid, Touched));
                Touched++;
            }
            return WorkloadStatus.Running;
        }

        private WorkloadStatus StepFile(Vm vm)
        {
            int pages = vm.PageCache.File(FileId).Pages;
            if (pages <= 0) return WorkloadStatus.Running;
            for (int i = 0; i < Rate; i++)
            {
                int idx = Cursor++ % pages;
                byte* data;
                ProcResult r = Kind == WorkloadKind.Reader
                    ? vm.PageCache.ReadFilePage(Pid, FileId, idx, out data)
                    : vm.PageCache.WriteFilePage(Pid, FileId, idx, out data);
                if (r == ProcResult.Killed) return WorkloadStatus.Killed;
                if (r != ProcResult.Ok) { AllocFailures++; return WorkloadStatus.Stalled; }
                if (data == null) continue;
                if (!Holds(data, FileSeed(FileId, idx))) Corruptions++;
                if (Kind == WorkloadKind.Writer) Fill(data, FileSeed(FileId, idx));
            }
            return WorkloadStatus.Running;
        }
    }
}
