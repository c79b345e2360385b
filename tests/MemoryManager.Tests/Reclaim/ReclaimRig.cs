using System;
using System.Runtime.InteropServices;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Processes;
using MemoryManager.Swap;
using MemoryManager.Workloads;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public sealed class TestClock : IClock
    {
        public ulong Ticks { get; set; }
        public uint Hz => 100;
    }

    /// <summary>
    /// A small machine with real memory behind the pages, reclaim (Vm) wired to the
    /// allocator, a RAM swap device and an optional file. The congestion hook lets time pass:
    /// by default it runs kswapd and lets killed tasks exit, like a scheduler would.
    /// </summary>
    public sealed unsafe class Rig : IDisposable, ICongestionWait
    {
        public const ulong MiB = 1UL << 20;
        public readonly Machine M;
        public readonly Vm Vm;
        public readonly RamSwapDevice Swap;
        public readonly TestClock Clock = new TestClock();
        public StringSink Log => M.Log;
        public PageAllocator Pa => M.Pa;
        /// <summary>What CongestionWait does; null = let time pass, run kswapd, let killed tasks exit.</summary>
        public Action<int> OnWait;
        public int Waits;
        private byte* _swapMem;
        private byte* _fileMem;

        public Rig(ulong memory = 32 * MiB, ulong swapSlots = 4096, VmOptions? options = null, bool congestion = true, MemoryMap map = null, bool pcp = false)
        {
            M = map == null ? Machine.Flat(memory, 1 * MiB, pcp: pcp, realMemory: true)
                            : new Machine(map, new AllocatorOptions { PerCpuLists = pcp, PoisonFreePages = true }, realMemory: true);
            M.Pa.Clock = Clock;
            if (swapSlots >= 2)
            {
                _swapMem = (byte*)NativeMemory.AllocZeroed((nuint)RamSwapDevice.StorageBytes(swapSlots));
                Assert.Equal(MmResult.Ok, RamSwapDevice.Create(_swapMem, swapSlots, out Swap));
            }
            VmOptions o = options ?? VmOptions.Default;
            if (o.VpagesPerProcess < 16384) o.VpagesPerProcess = 16384;   // one process can fill the machine
            Assert.Equal(MmResult.Ok, Vm.Create(M.Pa, Swap, o, out Vm));
            if (congestion) M.Pa.Congestion = this;
        }

        public void CongestionWait(ref TaskContext current, uint ticks)
        {
            Waits++;
            if (OnWait != null) { OnWait(current.Pid); return; }
            for (uint i = 0; i < ticks; i++)
            {
                ReapExiting();
                Vm.Kswapd.Step(0);
                Clock.Ticks++;
            }
        }

        /// <summary>Lets every task that is Exiting finish its exit (as the scheduler would run it).</summary>
        public void ReapExiting()
        {
            for (int s = 0; s < Vm.Procs.Capacity; s++)
            {
                ref Process t = ref Vm.Procs.At(s);
                if (t.State == ProcessState.Exiting) Vm.Memory.ExitProcess(t.Pid);
            }
        }

        public int Spawn(string name, int adj = 0, TaskFlags flags = TaskFlags.None)
        {
            Assert.Equal(ProcResult.Ok, Vm.Procs.Spawn(name, flags, adj, out int pid));
            return pid;
        }

        public ref Process Process(int pid) => ref Vm.Procs.Get(pid);

        public static ulong Seed(int pid, int vpage) => (ulong)pid * 0x9E3779B97F4A7C15UL ^ (ulong)vpage * 0xC2B2AE3D27D4EB4FUL;

        /// <summary>Touches (faults in) anonymous pages [from, from+count) of a process and writes a pattern into each.</summary>
        public void TouchAnon(int pid, int count, int from = 0)
        {
            for (int v = from; v < from + count; v++)
            {
                Assert.Equal(ProcResult.Ok, Vm.Memory.TouchAnon(pid, v, true, out byte* data));
                Fill(data, Seed(pid, v));
            }
        }

        /// <summary>The workloads' page pattern (MemoryManager.Workload), so that rig-written pages and workload-written pages check alike.</summary>
        public static void Fill(byte* page, ulong seed) => Workload.Fill(page, seed);

        public static bool Holds(byte* page, ulong seed) => Workload.Holds(page, seed);

        /// <summary>An in-memory file of <paramref name="pages"/> pages whose page i holds Seed(-1, i).</summary>
        public int File(int pages)
        {
            _fileMem = (byte*)NativeMemory.AllocZeroed((nuint)((ulong)pages * MmConstants.PageSize));
            for (int i = 0; i < pages; i++) Fill(_fileMem + (ulong)i * MmConstants.PageSize, Seed(-1, i));
            Assert.Equal(ProcResult.Ok, Vm.PageCache.CreateFile("data", pages, _fileMem, out int id));
            return id;
        }

        public byte* FileBacking(int index) => _fileMem + (ulong)index * MmConstants.PageSize;

        public void Read(int pid, int file, int from, int count)
        {
            for (int i = from; i < from + count; i++)
                Assert.Equal(ProcResult.Ok, Vm.PageCache.ReadFilePage(pid, file, i, out _));
        }

        /// <summary>A direct-reclaim pass with the given gfp, as the allocator's slow path would run it.</summary>
        public ulong Reclaim(Gfp gfp = Gfp.GFP_KERNEL)
        {
            var ctx = new TaskContext(0, "test", TaskFlags.MemAlloc);
            return Vm.Vmscan.TryToFreePages(ref ctx, gfp, 0, ZoneType.Normal);
        }

        public string NoPageLost()
        {
            var s = new StringSink();
            bool ok = Vm.Census.CheckNoPageLost(s) & Pa.CheckInvariants(s);
            return ok ? "" : s.ToString();
        }

        public void AssertNoPageLost() => Assert.Equal("", NoPageLost());

        /// <summary>Takes order-0 kernel pages (not on any LRU, charged to pid 0) until every zone's free count is at most <paramref name="target"/>(zone).</summary>
        public int TakeKernelPagesUntil(Func<Zone, long> target)
        {
            int n = 0;
            var k = new TaskContext(0, "kernel", TaskFlags.MemAlloc);
            for (int t = 0; t < MmConstants.MaxNrZones; t++)
            {
                if (!Pa.HasZone(0, (ZoneType)t)) continue;
                Gfp g = Gfp.NoWarn | Gfp.NoKswapd | (t == 0 ? Gfp.Dma : t == 1 ? Gfp.Dma32 : Gfp.None);
                while (Pa.GetZone(0, (ZoneType)t).NrFree > target(Pa.GetZone(0, (ZoneType)t)))
                {
                    if (Pa.AllocPages(ref k, g, 0) == PageAllocator.NoPfn) break;
                    n++;
                }
            }
            return n;
        }

        public void Dispose()
        {
            M.Dispose();
            if (_swapMem != null) { NativeMemory.Free(_swapMem); _swapMem = null; }
            if (_fileMem != null) { NativeMemory.Free(_fileMem); _fileMem = null; }
        }
    }
}
