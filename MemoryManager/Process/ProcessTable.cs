using MemoryManager.Allocator;
using MemoryManager.Core;

namespace MemoryManager
{
    /// <summary>Lifecycle of a process-table slot (task->state / exit_state, reduced).</summary>
    public enum TaskState : byte
    {
        /// <summary>The slot holds no process.</summary>
        Unused = 0,
        /// <summary>Alive and schedulable.</summary>
        Running,
        /// <summary>Alive, waiting for something (not scheduled by the simulation).</summary>
        Sleeping,
        /// <summary>Killed or exiting: still holds memory until it is reaped (exit_mm).</summary>
        Exiting,
        /// <summary>EXIT_ZOMBIE: memory released, pid still reserved until it is reaped.</summary>
        Zombie,
    }

    /// <summary>Why a process-table operation was refused (errors as values).</summary>
    public enum ProcResult : byte
    {
        Ok = 0,
        /// <summary>Every slot of the fixed-capacity table is in use.</summary>
        TableFull,
        /// <summary>No live process has that pid.</summary>
        NoSuchProcess,
        /// <summary>oom_score_adj outside OOM_SCORE_ADJ_MIN..OOM_SCORE_ADJ_MAX (-1000..1000).</summary>
        OomScoreAdjOutOfRange,
        /// <summary>A null or empty name.</summary>
        BadName,
        /// <summary>A virtual page index outside the process's software page table.</summary>
        AddressOutOfRange,
        /// <summary>The page allocator could not supply a page (after reclaim and OOM).</summary>
        NoMemory,
        /// <summary>The page belongs to another process.</summary>
        NotOwner,
        /// <summary>The process was chosen by the OOM killer (or is exiting) and must not continue.</summary>
        Killed,
        /// <summary>The swap device could not read the page back.</summary>
        SwapError,
        /// <summary>No file has that id, or the page index is beyond the file.</summary>
        NoSuchFile,
        /// <summary>The page cache's file table is full.</summary>
        FileTableFull,
    }

    /// <summary>
    /// One process as the memory manager sees it (a slice of task_struct and mm_struct):
    /// identity, the flags the allocator reads, oom_score_adj and the mm counters
    /// (MM_ANONPAGES, MM_FILEPAGES, MM_SWAPENTS, page-table pages).
    /// </summary>
    public struct Task
    {
        public int Pid;
        /// <summary>task->comm.</summary>
        public string Comm;
        public TaskState State;
        public TaskFlags Flags;
        /// <summary>signal->oom_score_adj, -1000..1000.</summary>
        public int OomScoreAdj;
        /// <summary>MM_ANONPAGES: anonymous pages mapped by the process.</summary>
        public ulong RssAnon;
        /// <summary>MM_FILEPAGES: page-cache pages charged to the process.</summary>
        public ulong RssFile;
        /// <summary>MM_SWAPENTS: software page-table entries that hold a swap entry.</summary>
        public ulong SwapEnts;
        /// <summary>Page-table pages (mm_pgtables_bytes / PAGE_SIZE).</summary>
        public ulong NrPtes;
        /// <summary>Virtual pages in use: mapped, swapped or file-backed (total_vm).</summary>
        public ulong TotalVm;
        /// <summary>First index of this slot's entries in the table's shared page-table arrays.</summary>
        internal int PteBase;
        internal int PtPageBase;
    }

    /// <summary>
    /// The process table: a fixed number of slots sized at set-up, a pid → slot map, and
    /// each slot's software page table (one 64-bit entry per virtual page) carved out of one
    /// array allocated at set-up. Nothing here allocates after <see cref="Create"/>.
    /// </summary>
    public sealed class ProcessTable
    {
        public const int OomScoreAdjMin = -1000;
        public const int OomScoreAdjMax = 1000;
        /// <summary>Entries per page-table page (a 4 KiB page of 8-byte PTEs).</summary>
        public const int PtrsPerPte = 512;
        public const int NoSlot = -1;

        private readonly Task[] _tasks;
        private readonly int[] _pidToSlot;
        private readonly ulong[] _ptes;
        private readonly ulong[] _ptPages;
        private readonly int _vpagesPerTask;
        private readonly int _ptPagesPerTask;
        private int _nextPid;
        private int _live;

        public int Capacity => _tasks.Length;
        public int PidMax => _pidToSlot.Length;
        public int VpagesPerTask => _vpagesPerTask;
        public int PtPagesPerTask => _ptPagesPerTask;
        /// <summary>Slots in use (any state but Unused).</summary>
        public int Count => _live;

        /// <summary>Allocates every slot, the pid map and the shared page-table arrays (set-up only).</summary>
        private ProcessTable(int capacity, int vpagesPerTask, int pidMax)
        {
            _tasks = new Task[capacity];
            _pidToSlot = new int[pidMax];
            for (int i = 0; i < pidMax; i++) _pidToSlot[i] = NoSlot;
            _vpagesPerTask = vpagesPerTask;
            _ptPagesPerTask = (vpagesPerTask + PtrsPerPte - 1) / PtrsPerPte;
            _ptes = new ulong[(long)capacity * vpagesPerTask];
            _ptPages = new ulong[(long)capacity * _ptPagesPerTask];
            for (int s = 0; s < capacity; s++)
            {
                _tasks[s].PteBase = s * vpagesPerTask;
                _tasks[s].PtPageBase = s * _ptPagesPerTask;
            }
            _nextPid = 1;
        }

        /// <summary>Builds a table of <paramref name="capacity"/> slots, each with a software page table of <paramref name="vpagesPerTask"/> entries; refuses nonsense sizes.</summary>
        public static MmResult Create(int capacity, int vpagesPerTask, out ProcessTable table)
        {
            table = null;
            if (capacity < 1 || capacity > 1 << 20 || vpagesPerTask < 1 || vpagesPerTask > 1 << 24)
                return MmResult.BadArgument;
            if ((long)capacity * vpagesPerTask > 1L << 28) return MmResult.BadArgument;
            int pidMax = capacity * 4 < 32768 ? 32768 : capacity * 4;
            table = new ProcessTable(capacity, vpagesPerTask, pidMax);
            return MmResult.Ok;
        }

        /// <summary>Creates a process (fork + exec, reduced) in a free slot with the next free pid; refuses a bad name, a bad oom_score_adj or a full table.</summary>
        public ProcResult Spawn(string comm, TaskFlags flags, int oomScoreAdj, out int pid)
        {
            pid = 0;
            if (comm == null || comm.Length == 0) return ProcResult.BadName;
            if (oomScoreAdj < OomScoreAdjMin || oomScoreAdj > OomScoreAdjMax) return ProcResult.OomScoreAdjOutOfRange;
            if (_live == _tasks.Length) return ProcResult.TableFull;
            int slot = NoSlot;
            for (int s = 0; s < _tasks.Length; s++)
                if (_tasks[s].State == TaskState.Unused) { slot = s; break; }
            if (slot == NoSlot) return ProcResult.TableFull;
            // alloc_pid: the next unused pid, wrapping at pid_max (pid 0 is the kernel itself).
            int candidate = _nextPid;
            for (int tries = 0; tries < _pidToSlot.Length; tries++)
            {
                if (candidate >= _pidToSlot.Length) candidate = 1;
                if (_pidToSlot[candidate] == NoSlot) break;
                candidate++;
            }
            _nextPid = candidate + 1;
            ref Task t = ref _tasks[slot];
            int pteBase = t.PteBase, ptBase = t.PtPageBase;
            t = default;
            t.PteBase = pteBase;
            t.PtPageBase = ptBase;
            t.Pid = candidate;
            t.Comm = comm;
            t.State = TaskState.Running;
            t.Flags = flags & ~(TaskFlags.MemAlloc | TaskFlags.MemDie | TaskFlags.Exiting | TaskFlags.OomSkip);
            t.OomScoreAdj = oomScoreAdj;
            for (int i = 0; i < _vpagesPerTask; i++) _ptes[pteBase + i] = Pte.None;
            for (int i = 0; i < _ptPagesPerTask; i++) _ptPages[ptBase + i] = PageAllocator.NoPfn;
            _pidToSlot[candidate] = slot;
            _live++;
            pid = candidate;
            return ProcResult.Ok;
        }

        /// <summary>Writes /proc/PID/oom_score_adj: refused (value unchanged) outside -1000..1000 or for an unknown pid.</summary>
        public ProcResult SetOomScoreAdj(int pid, int adj)
        {
            if (adj < OomScoreAdjMin || adj > OomScoreAdjMax) return ProcResult.OomScoreAdjOutOfRange;
            int slot = SlotOf(pid);
            if (slot == NoSlot) return ProcResult.NoSuchProcess;
            _tasks[slot].OomScoreAdj = adj;
            return ProcResult.Ok;
        }

        /// <summary>The slot of a pid that is in the table (any state), or NoSlot.</summary>
        public int SlotOf(int pid)
        {
            if (pid <= 0 || pid >= _pidToSlot.Length) return NoSlot;
            return _pidToSlot[pid];
        }

        /// <summary>True when the pid names a process whose slot is in use.</summary>
        public bool Exists(int pid) => SlotOf(pid) != NoSlot;

        /// <summary>The task in a slot, by reference (callers check State).</summary>
        public ref Task At(int slot) => ref _tasks[slot];

        /// <summary>The task with this pid by reference; call only after <see cref="Exists"/>.</summary>
        public ref Task Get(int pid) => ref _tasks[_pidToSlot[pid]];

        /// <summary>A TaskContext ("current") for the process, as the allocator wants it.</summary>
        public TaskContext ContextOf(int pid)
        {
            ref Task t = ref Get(pid);
            return new TaskContext(t.Pid, t.Comm, t.Flags);
        }

        /// <summary>Frees the slot and the pid of a process whose memory is already released (release_task).</summary>
        public ProcResult Release(int pid)
        {
            int slot = SlotOf(pid);
            if (slot == NoSlot) return ProcResult.NoSuchProcess;
            ref Task t = ref _tasks[slot];
            if (t.RssAnon != 0 || t.RssFile != 0 || t.SwapEnts != 0 || t.NrPtes != 0) return ProcResult.NotOwner;
            t.State = TaskState.Unused;
            t.Comm = null;
            t.Pid = 0;
            _pidToSlot[pid] = NoSlot;
            _live--;
            return ProcResult.Ok;
        }

        /// <summary>Software page-table entry of a task's virtual page, by reference.</summary>
        internal ref ulong PteOf(ref Task t, int vpage) => ref _ptes[t.PteBase + vpage];

        /// <summary>The pfn of the page-table page covering a virtual page, NoPfn if none yet.</summary>
        internal ref ulong PtPageOf(ref Task t, int vpage) => ref _ptPages[t.PtPageBase + vpage / PtrsPerPte];

        /// <summary>The page-table page pfn by page-table index.</summary>
        internal ref ulong PtPageAt(ref Task t, int index) => ref _ptPages[t.PtPageBase + index];

        /// <summary>Reads a task's software page-table entry (for tests and the simulator's display).</summary>
        public ulong ReadPte(int pid, int vpage)
        {
            if (!Exists(pid) || vpage < 0 || vpage >= _vpagesPerTask) return Pte.None;
            return PteOf(ref Get(pid), vpage);
        }
    }

    /// <summary>
    /// The software page table's entry format (one ulong per virtual page):
    /// 0 = not mapped; bit 0 set = present, bits 1.. hold the pfn;
    /// bit 1 set (bit 0 clear) = swapped out, bits 2.. hold the swap entry.
    /// </summary>
    public static class Pte
    {
        public const ulong None = 0;
        /// <summary>The entry maps a page in memory.</summary>
        public static bool IsPresent(ulong pte) => (pte & 1) != 0;
        /// <summary>The entry holds a swap entry (the page is swapped out).</summary>
        public static bool IsSwap(ulong pte) => (pte & 3) == 2;
        /// <summary>An entry mapping <paramref name="pfn"/>.</summary>
        public static ulong MakePresent(ulong pfn) => (pfn << 1) | 1;
        /// <summary>An entry holding swap entry <paramref name="entry"/>.</summary>
        public static ulong MakeSwap(ulong entry) => (entry << 2) | 2;
        /// <summary>The pfn of a present entry.</summary>
        public static ulong Pfn(ulong pte) => pte >> 1;
        /// <summary>The swap entry of a swapped-out entry.</summary>
        public static ulong SwapEntry(ulong pte) => pte >> 2;
    }
}
