using MemoryManager;
using MemoryManager.Processes;
using MemoryManager.Workloads;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>The workload programs (MemoryManager/Workloads) the simulator and the kernel both run.</summary>
    public unsafe class WorkloadTests
    {
        private static Workload Start(Rig r, WorkloadKind kind, int pages, int rate, int fileId = -1, int adj = 0)
            => Workload.Create(kind, r.Spawn(kind.ToString().ToLowerInvariant(), adj), pages, rate, fileId);

        [Fact]
        public void A_memhog_touches_rate_pages_per_step_up_to_its_size_and_is_charged_for_them()
        {
            using var r = new Rig();
            Workload w = Start(r, WorkloadKind.Memhog, pages: 100, rate: 30);
            Assert.Equal(WorkloadStatus.Running, w.Step(r.Vm));
            Assert.Equal(30, w.Touched);
            Assert.Equal(30UL, r.Process(w.Pid).RssAnon);
            for (int i = 0; i < 5; i++) w.Step(r.Vm);
            Assert.Equal(100, w.Touched);
            Assert.Equal(100UL, r.Process(w.Pid).RssAnon);
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_memhog_at_its_size_rereads_its_pages_and_finds_them_intact()
        {
            using var r = new Rig();
            Workload w = Start(r, WorkloadKind.Memhog, pages: 20, rate: 20);
            w.Step(r.Vm);
            w.Step(r.Vm);
            w.Step(r.Vm);
            Assert.Equal(20, w.Touched);
            Assert.Equal(40, w.Cursor);
            Assert.Equal(0UL, w.Corruptions);
        }

        [Fact]
        public void A_memhog_detects_a_page_whose_bytes_changed_behind_its_back()
        {
            using var r = new Rig();
            Workload w = Start(r, WorkloadKind.Memhog, pages: 4, rate: 4);
            w.Step(r.Vm);
            byte* page = r.Vm.Memory.PeekAnon(w.Pid, 2);
            page[100] ^= 1;
            w.Step(r.Vm);
            Assert.Equal(1UL, w.Corruptions);
        }

        [Fact]
        public void An_idle_process_touches_all_its_pages_in_its_first_step_then_sits_on_them()
        {
            using var r = new Rig();
            Workload w = Start(r, WorkloadKind.Idle, pages: 64, rate: 1);
            w.Step(r.Vm);
            Assert.Equal(64, w.Touched);
            w.Step(r.Vm);
            Assert.Equal(0, w.Cursor);
            Assert.Equal(64UL, r.Process(w.Pid).RssAnon);
        }

        [Fact]
        public void A_leaker_grows_by_its_rate_and_reports_full_when_its_address_space_is_used_up()
        {
            using var r = new Rig(options: new VmOptions { MaxProcesses = 8, VpagesPerProcess = 16384, MaxFiles = 1, MaxFilePages = 16, KswapdBatch = 32 });
            Workload w = Start(r, WorkloadKind.Leaker, pages: 50, rate: 20);
            Assert.Equal(WorkloadStatus.Running, w.Step(r.Vm));
            Assert.Equal(WorkloadStatus.Running, w.Step(r.Vm));
            Assert.Equal(40, w.Touched);
            Assert.Equal(WorkloadStatus.Full, w.Step(r.Vm));
            Assert.Equal(50, w.Touched);
            Assert.Equal(WorkloadStatus.Full, w.Step(r.Vm));
            Assert.Equal(0, w.Cursor);   // a leak never reads its pages again
        }

        [Fact]
        public void A_reader_goes_round_its_file_through_the_page_cache()
        {
            using var r = new Rig();
            int file = r.File(10);
            for (int i = 0; i < 10; i++) Workload.Fill(r.FileBacking(i), Workload.FileSeed(file, i));
            Workload w = Start(r, WorkloadKind.Reader, pages: 0, rate: 4, fileId: file);
            for (int i = 0; i < 5; i++) Assert.Equal(WorkloadStatus.Running, w.Step(r.Vm));
            Assert.Equal(20, w.Cursor);
            Assert.Equal(10UL, r.Vm.PageCache.File(file).NrCached);
            Assert.Equal(0UL, w.Corruptions);
        }

        [Fact]
        public void A_writer_dirties_the_pages_it_goes_through()
        {
            using var r = new Rig();
            int file = r.File(8);
            for (int i = 0; i < 8; i++) Workload.Fill(r.FileBacking(i), Workload.FileSeed(file, i));
            Workload w = Start(r, WorkloadKind.Writer, pages: 0, rate: 8, fileId: file);
            w.Step(r.Vm);
            Assert.Equal(8UL, r.Vm.PageCache.File(file).NrDirty);
            Assert.Equal(0UL, w.Corruptions);
        }

        [Fact]
        public void A_workload_chosen_by_the_oom_killer_reports_killed_at_its_next_step()
        {
            using var r = new Rig();
            Workload w = Start(r, WorkloadKind.Memhog, pages: 100, rate: 10);
            w.Step(r.Vm);
            r.Vm.Memory.BeginExit(w.Pid);
            Assert.Equal(WorkloadStatus.Killed, w.Step(r.Vm));
            Assert.Equal(ProcResult.Ok, r.Vm.Memory.ExitProcess(w.Pid));
            r.AssertNoPageLost();
        }

        [Fact]
        public void Memhogs_beyond_memory_end_in_a_kill_and_swapped_pages_come_back_bit_exact()
        {
            // 32 MiB of RAM and 16 MiB of swap: two hogs of 32 MiB each cannot both fit.
            using var r = new Rig(memory: 32 * Rig.MiB, swapSlots: 4096);
            Workload a = Start(r, WorkloadKind.Memhog, pages: 8192, rate: 64);
            Workload b = Start(r, WorkloadKind.Memhog, pages: 8192, rate: 64, adj: 500);
            // The rig's congestion wait reaps an exiting victim, as the kernel's scheduler would run it to its exit.
            for (int step = 0; step < 1000 && r.Vm.Procs.Exists(a.Pid) && r.Vm.Procs.Exists(b.Pid); step++)
            {
                if (a.Step(r.Vm) == WorkloadStatus.Killed) r.Vm.Memory.ExitProcess(a.Pid);
                if (r.Vm.Procs.Exists(b.Pid) && b.Step(r.Vm) == WorkloadStatus.Killed) r.Vm.Memory.ExitProcess(b.Pid);
                r.Vm.Kswapd.Step(0);
            }
            Assert.Equal(b.Pid, r.Vm.Oom.LastVictim);
            Assert.False(r.Vm.Procs.Exists(b.Pid), "the hog at oom_score_adj 500 is the victim and gone");
            Assert.True(r.Vm.Procs.Exists(a.Pid), "the other hog lives on");
            // The survivor grows to its size, partly in swap, and re-reads every page.
            for (int step = 0; step < 400; step++) { a.Step(r.Vm); r.Vm.Kswapd.Step(0); }
            Assert.Equal(8192, a.Touched);
            Assert.True(a.SwapIns > 0, "pages went out to swap and came back");
            Assert.True(r.Vm.Procs.Exists(a.Pid), "the survivor was not killed while it swapped");
            Assert.Equal(0UL, a.Corruptions + b.Corruptions);
            r.AssertNoPageLost();
        }
    }
}
