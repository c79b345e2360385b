using MemoryManager.Allocator;
using MemoryManager.Core;

namespace MemoryManager.Processes
{
    /// <summary>
    /// The process table: a fixed number of slots sized at set-up, a pid → slot map, and
    /// each slot's software page table (one 64-bit entry per virtual page) carved out of one
    /// array allocated at set-up. Nothing here allocates after <see cref="Create"/>.
    /// </summary>
    public sealed class ProcessTable
    {
        /// <summary>Pid of the global init, which may not exit and which the OOM killer never chooses.</summary>
        public const int InitPid = 1;
        public const int OomScoreAdjMin = -1000;
        public const int OomScoreAdjMax = 1000;
        /// <summary>Entries per page-table page (a 4 KiB page of 8-byte PTEs).</summary>
        public const int PtrsPerPte = 512;
        public const int NoSlot = -1;

        private readonly Process[] _procs;
        private readonly int[] _pidToSlot;
        private readonly ulong[] _ptes;
        private readonly ulong[] _ptPages;
        private readonly int _vpagesPerProcess;
        private readonly int _ptPagesPerProcess;
        private int _nextPid;
        private int _live;

        public int Capacity => _procs.Length;
        public int PidMax => _pidToSlot.Length;
        public int VpagesPerProcess => _vpagesPerProcess;
        public int PtPagesPerProcess => _ptPagesPerProcess;
        /// <summary>Slots in use (any state but Unused).</summary>
        public int Count => _live;

        /// <summary>Allocates every slot, the pid map and the shared page-table arrays (set-up only).</summary>
        private ProcessTable(int capacity, int vpagesPerProcess, int pidMax)
        {
            _procs = new Process[capacity];
            _pidToSlot = new int[pidMax];
            for (int i = 0; i < pidMax; i++) _pidToSlot[i] = NoSlot;
            _vpagesPerProcess = vpagesPerProcess;
            _ptPagesPerProcess = (vpagesPerProcess + PtrsPerPte - 1) / PtrsPerPte;
            _ptes = new ulong[(long)capacity * vpagesPerProcess];
            _ptPages = new ulong[(long)capacity * _ptPagesPerProcess];
            for (int s = 0; s < capacity; s++)
            {
                _procs[s].PteBase = s * vpagesPerProcess;
                _procs[s].PtPageBase = s * _ptPagesPerProcess;
            }
            _nextPid = 1;
        }

        /// <summary>Builds a table of <paramref name="capacity"/> slots, each with a software page table of <paramref name="vpagesPerProcess"/> entries; refuses nonsense sizes.</summary>
        public static MmResult Create(int capacity, int vpagesPerProcess, out ProcessTable table)
        {
            table = null;
            if (capacity < 1 || capacity > 1 << 20 || vpagesPerProcess < 1 || vpagesPerProcess > 1 << 24)
                return MmResult.BadArgument;
            if ((long)capacity * vpagesPerProcess > 1L << 28) return MmResult.BadArgument;
            int pidMax = capacity * 4 < 32768 ? 32768 : capacity * 4;
            table = new ProcessTable(capacity, vpagesPerProcess, pidMax);
            return MmResult.Ok;
        }

        /// <summary>Creates a process (fork + exec, reduced) in a free slot with the next free pid; refuses a bad name, a bad oom_score_adj or a full table.</summary>
        public ProcResult Spawn(string comm, TaskFlags flags, int oomScoreAdj, out int pid)
        {
            pid = 0;
            if (comm == null || comm.Length == 0) return ProcResult.BadName;
            if (oomScoreAdj < OomScoreAdjMin || oomScoreAdj > OomScoreAdjMax) return ProcResult.OomScoreAdjOutOfRange;
            if (_live == _procs.Length) return ProcResult.TableFull;
            int slot = NoSlot;
            for (int s = 0; s < _procs.Length; s++)
                if (_procs[s].State == ProcessState.Unused) { slot = s; break; }
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
            ref Process t = ref _procs[slot];
            int pteBase = t.PteBase, ptBase = t.PtPageBase;
            t = default;
            t.PteBase = pteBase;
            t.PtPageBase = ptBase;
            t.Pid = candidate;
            t.Comm = comm;
            t.State = ProcessState.Running;
            t.Flags = flags & ~(TaskFlags.MemAlloc | TaskFlags.MemDie | TaskFlags.Exiting | TaskFlags.OomSkip);
            t.OomScoreAdj = oomScoreAdj;
            for (int i = 0; i < _vpagesPerProcess; i++) _ptes[pteBase + i] = Pte.None;
            for (int i = 0; i < _ptPagesPerProcess; i++) _ptPages[ptBase + i] = PageAllocator.NoPfn;
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
            _procs[slot].OomScoreAdj = adj;
            return ProcResult.Ok;
        }

        /// <summary>Sets a process's home node (its allocations start there); refused for an unknown pid or a node outside 0..nodeCount-1.</summary>
        public ProcResult SetHomeNode(int pid, int nid, int nodeCount)
        {
            int slot = SlotOf(pid);
            if (slot == NoSlot) return ProcResult.NoSuchProcess;
            if ((uint)nid >= (uint)nodeCount) return ProcResult.NoSuchNode;
            _procs[slot].HomeNid = nid;
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
        public ref Process At(int slot) => ref _procs[slot];

        /// <summary>The task with this pid by reference; call only after <see cref="Exists"/>.</summary>
        public ref Process Get(int pid) => ref _procs[_pidToSlot[pid]];

        /// <summary>A TaskContext ("current") for the process, as the allocator wants it.</summary>
        public TaskContext ContextOf(int pid)
        {
            ref Process t = ref Get(pid);
            TaskContext c = new TaskContext(t.Pid, t.Comm, t.Flags);
            c.Nid = t.HomeNid;
            return c;
        }

        /// <summary>Frees the slot and the pid of a process whose memory is already released (release_task).</summary>
        public ProcResult Release(int pid)
        {
            int slot = SlotOf(pid);
            if (slot == NoSlot) return ProcResult.NoSuchProcess;
            ref Process t = ref _procs[slot];
            if (t.RssAnon != 0 || t.RssFile != 0 || t.SwapEnts != 0 || t.NrPtes != 0) return ProcResult.NotOwner;
            t.State = ProcessState.Unused;
            t.Comm = null;
            t.Pid = 0;
            _pidToSlot[pid] = NoSlot;
            _live--;
            return ProcResult.Ok;
        }

        /// <summary>Software page-table entry of a task's virtual page, by reference.</summary>
        internal ref ulong PteOf(ref Process t, int vpage) => ref _ptes[t.PteBase + vpage];

        /// <summary>The pfn of the page-table page covering a virtual page, NoPfn if none yet.</summary>
        internal ref ulong PtPageOf(ref Process t, int vpage) => ref _ptPages[t.PtPageBase + vpage / PtrsPerPte];

        /// <summary>The page-table page pfn by page-table index.</summary>
        internal ref ulong PtPageAt(ref Process t, int index) => ref _ptPages[t.PtPageBase + index];

        /// <summary>Reads a task's software page-table entry (for tests and the simulator's display).</summary>
        public ulong ReadPte(int pid, int vpage)
        {
            if (!Exists(pid) || vpage < 0 || vpage >= _vpagesPerProcess) return Pte.None;
            return PteOf(ref Get(pid), vpage);
        }
    }
}
