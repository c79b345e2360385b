using System.Text.RegularExpressions;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Oom;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>The oom_reaper (Linux 4.6+): the victim's memory comes back without waiting for the victim to run.</summary>
    public unsafe class OomReaperTests
    {
        /// <summary>A rig whose congestion wait lets no time pass: nobody else runs, as inside a kernel heap allocation.</summary>
        private static Rig NobodyRuns(VmOptions? o = null)
        {
            var r = new Rig(options: o);
            r.OnWait = _ => { };
            return r;
        }

        private static void Oom(Rig r, int pid)
        {
            var current = pid == 0 ? TaskContext.Kernel : r.Vm.Procs.ContextOf(pid);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
        }

        [Fact]
        public void The_oom_reaper_is_on_by_default()
        {
            Assert.True(VmOptions.Default.OomReaper);
        }

        [Fact]
        public void The_oom_reaper_frees_the_victims_anonymous_memory_before_it_runs()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            ulong freeBefore = r.Pa.NrFreePages;
            Oom(r, c);
            Assert.Equal(a, r.Vm.Oom.LastVictim);
            Assert.Equal(0, r.Waits);                                    // the killer did not wait for anybody
            ref Process t = ref r.Process(a);
            Assert.True(r.Vm.Procs.Exists(a));                           // it has not run: still in the table
            Assert.Equal(ProcessState.Exiting, t.State);
            Assert.True((t.Flags & TaskFlags.MemDie) != 0);
            Assert.True((t.Flags & TaskFlags.OomSkip) != 0);
            Assert.Equal(0UL, t.RssAnon);
            Assert.Equal(1UL, t.NrPtes);                                 // page-table pages stay until exit
            Assert.Equal(freeBefore + 300, r.Pa.NrFreePages);
            Assert.Equal(1UL, r.Vm.OomReaper.Reaped);
            r.AssertNoPageLost();
        }

        [Fact]
        public void The_swap_slots_of_a_reaped_victim_are_free_again()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            for (int i = 0; i < 20; i++) r.Reclaim();
            Assert.True(r.Process(a).SwapEnts > 0);
            Oom(r, c);
            Assert.Equal(0UL, r.Process(a).SwapEnts);
            Assert.Equal(r.Swap.Slots - 1, r.Swap.FreeSlots);
            Assert.Equal(r.Swap.Slots - 1, r.Pa.Stat.SwapFreePages);
            r.AssertNoPageLost();
        }

        [Fact]
        public void The_oom_reaper_logs_linuxs_line_and_leaves_the_page_cache_cached()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("memhog"), c = r.Spawn("c");
            int f = r.File(8);
            r.TouchAnon(a, 100);
            r.Read(a, f, 0, 8);
            ulong cached = r.Vm.PageCache.NrFilePages;
            Oom(r, c);
            Assert.Contains($"Out of memory: Killed process {a} (memhog)", r.Log.ToString());
            Assert.Contains($"oom_reaper: reaped process {a} (memhog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB\n", r.Log.ToString());
            Assert.True(r.Log.ToString().IndexOf("Killed process") < r.Log.ToString().IndexOf("oom_reaper:"));
            Assert.Equal(0UL, r.Process(a).RssFile);
            Assert.Equal(cached, r.Vm.PageCache.NrFilePages);                      // zapping a file mapping frees nothing
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_reaped_victim_is_skipped_by_the_next_oom_kill()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), b = r.Spawn("b"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            r.TouchAnon(b, 200);
            Oom(r, c);
            Assert.Equal(a, r.Vm.Oom.LastVictim);
            Assert.True(r.Vm.Procs.Exists(a));                           // still there (not run yet), but reaped
            Oom(r, c);
            Assert.Equal(b, r.Vm.Oom.LastVictim);                         // the next-worst, not a wait for a
            Assert.Equal(2UL, r.Pa.Stat.OomKill);
            Assert.Equal(2, Regex.Matches(r.Log.ToString(), "oom_reaper: reaped process").Count);
            Assert.Equal(ProcessState.Running, r.Process(c).State);
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_reaped_victim_scores_zero_and_is_never_chosen_again_even_though_it_is_exiting()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), keeper = r.Spawn("keeper", adj: -1000);
            r.TouchAnon(a, 300);
            r.TouchAnon(keeper, 10);
            Oom(r, keeper);
            Assert.Equal(0, r.Vm.Oom.OomScore(a));
            Assert.Equal(OomScan.NoVictim, r.Vm.Oom.SelectBadProcess(r.Vm.Oom.TotalPages, out _, out _));
        }

        [Fact]
        public void With_every_killable_process_reaped_the_next_oom_kill_panics()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), keeper = r.Spawn("keeper", adj: -1000);
            r.TouchAnon(a, 50);
            var current = r.Vm.Procs.ContextOf(keeper);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.False(r.Vm.Oom.Panicked);
            Assert.False(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.True(r.Vm.Oom.Panicked);
            Assert.Contains("Out of memory and no killable processes...", r.Log.ToString());
            Assert.True(r.Vm.Procs.Exists(keeper));
        }

        [Fact]
        public void An_exiting_task_chosen_by_the_killer_is_reaped_too()
        {
            using var r = NobodyRuns();
            int big = r.Spawn("big"), leaving = r.Spawn("leaving"), c = r.Spawn("c");
            r.TouchAnon(big, 500);
            r.TouchAnon(leaving, 40);
            r.Vm.Memory.BeginExit(leaving);
            Oom(r, c);
            Assert.Equal(leaving, r.Vm.Oom.LastVictim);
            Assert.Equal(0UL, r.Process(leaving).RssAnon);
            Assert.Equal(0UL, r.Pa.Stat.OomKill);                         // nobody had to be killed
            Oom(r, c);                                                    // still short: the next one is big
            Assert.Equal(big, r.Vm.Oom.LastVictim);
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_reaped_victim_gets_killed_back_from_its_next_fault_and_read()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a"), c = r.Spawn("c");
            int f = r.File(4);
            r.TouchAnon(a, 30);
            Oom(r, c);
            Assert.Equal(ProcResult.Killed, r.Vm.Memory.TouchAnon(a, 3, false, out _));
            Assert.Equal(ProcResult.Killed, r.Vm.Memory.TouchAnon(a, 400, true, out _));
            Assert.Equal(ProcResult.Killed, r.Vm.PageCache.ReadFilePage(a, f, 0, out _));
            Assert.Equal(0UL, r.Process(a).RssAnon);
            r.AssertNoPageLost();
        }

        [Fact]
        public void Exit_after_reaping_frees_the_rest_and_loses_no_page()
        {
            using var r = NobodyRuns();
            ulong free0 = r.Pa.NrFreePages;
            int a = r.Spawn("a"), c = r.Spawn("c");
            int f = r.File(16);
            r.TouchAnon(a, 1500);                                         // three page-table pages
            r.Read(a, f, 0, 16);
            for (int i = 0; i < 10; i++) r.Reclaim();
            ulong cached = r.Vm.PageCache.NrFilePages;
            Oom(r, c);
            Assert.Equal(3UL, r.Process(a).NrPtes);
            Assert.Equal(ProcResult.Ok, r.Vm.Memory.ExitProcess(a));             // no double free: nothing left to unmap
            Assert.False(r.Vm.Procs.Exists(a));
            Assert.Equal(free0 - cached, r.Pa.NrFreePages);               // only the page cache is still in use
            Assert.Equal(r.Swap.Slots - 1, r.Swap.FreeSlots);
            r.AssertNoPageLost();
            Assert.Equal(ProcResult.Ok, r.Vm.Procs.Spawn("next", TaskFlags.None, 0, out int next));
            Assert.Equal(TaskFlags.None, r.Process(next).Flags & TaskFlags.OomSkip);   // the slot starts clean
        }

        [Fact]
        public void Oom_reap_refuses_unknown_unkillable_and_already_reaped_processes()
        {
            using var r = NobodyRuns();
            int a = r.Spawn("a");
            r.TouchAnon(a, 10);
            Assert.Equal(ProcResult.NoSuchProcess, r.Vm.OomReaper.Reap(999));
            Assert.Equal(ProcResult.NotOwner, r.Vm.OomReaper.Reap(ProcessTable.InitPid));
            Assert.Equal(ProcResult.NotOwner, r.Vm.OomReaper.Reap(r.Vm.Nodes[0].Kswapd.Pid));
            r.Vm.Memory.BeginExit(a);
            Assert.Equal(ProcResult.Ok, r.Vm.OomReaper.Reap(a, out ulong freed));
            Assert.Equal(10UL, freed);
            Assert.Equal(ProcResult.NotOwner, r.Vm.OomReaper.Reap(a));
            r.AssertNoPageLost();
        }

        [Fact]
        public void Without_the_reaper_the_killer_waits_for_its_victim_as_before()
        {
            var o = VmOptions.Default;
            o.OomReaper = false;
            using var r = NobodyRuns(o);
            int a = r.Spawn("a"), b = r.Spawn("b"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            r.TouchAnon(b, 200);
            Oom(r, c);
            Assert.Equal(300UL, r.Process(a).RssAnon);
            Assert.True(r.Waits > 0);
            Oom(r, c);
            Assert.Equal(a, r.Vm.Oom.LastVictim);
            Assert.Equal(1UL, r.Pa.Stat.OomKill);
            Assert.DoesNotContain("oom_reaper", r.Log.ToString());
        }

        /// <summary>
        /// The kernel's own allocations: GFP_KERNEL | __GFP_HIGH from pid 0, with a congestion
        /// wait that lets no time pass (no sleep inside the kernel heap). While RAM and swap are
        /// full of processes, each allocation reclaims, then OOM-kills the highest-badness process
        /// (whose memory the reaper frees at once), and once nothing killable is left the
        /// allocation fails with the "no killable processes" panic: it never spins. Orders 0 and
        /// 3 (3 = PAGE_ALLOC_COSTLY_ORDER, the largest that retries "forever").
        /// </summary>
        [Fact]
        public void Kernel_allocations_that_cannot_sleep_oom_kill_their_way_through_and_then_fail_without_spinning()
        {
            using var r = new Rig();
            int waitsThisAllocation = 0;
            r.OnWait = _ =>
            {
                if (++waitsThisAllocation > 100_000) throw new Xunit.Sdk.XunitException("the slow path spins");
            };
            ulong free0 = r.Pa.NrFreePages;
            int keeper = r.Spawn("keeper", adj: -1000);
            int small = r.Spawn("small"), medium = r.Spawn("medium"), big = r.Spawn("big");
            r.TouchAnon(keeper, 200);
            r.TouchAnon(small, 1500);
            r.TouchAnon(medium, 2500);
            r.TouchAnon(big, 3500);
            var held = new System.Collections.Generic.List<(ulong pfn, int order)>();
            var kernel = new TaskContext(0, "swapper", TaskFlags.KernelThread);
            Gfp gfp = Gfp.GFP_KERNEL | Gfp.High;
            var victims = new System.Collections.Generic.List<int>();
            for (int i = 0; ; i++)
            {
                int order = i % 8 == 7 ? 3 : 0;
                waitsThisAllocation = 0;
                ulong killsBefore = r.Pa.Stat.OomKill;
                ulong pfn = r.Pa.AllocPages(ref kernel, gfp, order);
                if (r.Pa.Stat.OomKill != killsBefore)
                {
                    victims.Add(r.Vm.Oom.LastVictim);
                    Assert.Equal(0UL, r.Process(r.Vm.Oom.LastVictim).RssAnon);   // reaped before it ever ran
                }
                if (pfn == PageAllocator.NoPfn) break;
                held.Add((pfn, order));
                Assert.True(i < 100_000);
            }
            Assert.Equal(new[] { big, medium, small }, victims.ToArray());     // highest badness first
            Assert.True(r.Vm.Oom.Panicked);
            Assert.Contains("Out of memory and no killable processes...", r.Log.ToString());
            Assert.Contains("swapper: page allocation failure.", r.Log.ToString());
            Assert.True(r.Vm.Procs.Exists(keeper));
            Assert.Equal(ProcessState.Running, r.Process(keeper).State);
            r.AssertNoPageLost();
            foreach (var (pfn, order) in held) Assert.Equal(MmResult.Ok, r.Pa.FreePages(pfn, order, 0));
            r.ReapExiting();
            r.Vm.Memory.ExitProcess(keeper);
            r.AssertNoPageLost();
            Assert.Equal(free0, r.Pa.NrFreePages);
        }
    }
}
