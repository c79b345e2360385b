using System.Collections.Generic;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Oom;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public unsafe class OomTests
    {
        private static Process Proc(int pid, ulong anon, ulong file = 0, ulong swap = 0, ulong ptes = 0, int adj = 0, TaskFlags f = TaskFlags.None) => new Process
        {
            Pid = pid, Comm = "p", State = ProcessState.Running, Flags = f, OomScoreAdj = adj,
            RssAnon = anon, RssFile = file, SwapEnts = swap, NrPtes = ptes,
        };

        [Fact]
        public void Oom_badness_is_rss_plus_swap_plus_page_tables_plus_adj_thousandths_of_totalpages()
        {
            Process t = Proc(10, anon: 100, file: 20, swap: 5, ptes: 2, adj: 500);
            Assert.Equal(127UL + 500 * 10, OomKiller.OomBadness(ref t, 10_000));
            t.OomScoreAdj = 0;
            Assert.Equal(127UL, OomKiller.OomBadness(ref t, 10_000));
            t.OomScoreAdj = -10;
            Assert.Equal(27UL, OomKiller.OomBadness(ref t, 10_000));
        }

        [Fact]
        public void Oom_badness_divides_totalpages_by_1000_before_scaling_adj_as_linux_does()
        {
            Process t = Proc(10, anon: 100, adj: 1000);
            // totalpages / 1000 = 1 (integer division), so adj adds 1000, not 1999.
            Assert.Equal(1100UL, OomKiller.OomBadness(ref t, 1999));
        }

        [Fact]
        public void A_killable_task_scores_at_least_one()
        {
            Process t = Proc(10, anon: 100, adj: -999);
            Assert.Equal(1UL, OomKiller.OomBadness(ref t, 10_000));
        }

        [Fact]
        public void Init_kernel_threads_and_oom_score_adj_minus_1000_are_unkillable()
        {
            Process init = Proc(ProcessTable.InitPid, anon: 5000);
            Process kthread = Proc(7, anon: 5000, f: TaskFlags.KernelThread);
            Process protectedTask = Proc(8, anon: 5000, adj: -1000);
            Assert.Equal(0UL, OomKiller.OomBadness(ref init, 10_000));
            Assert.Equal(0UL, OomKiller.OomBadness(ref kthread, 10_000));
            Assert.Equal(0UL, OomKiller.OomBadness(ref protectedTask, 10_000));
        }

        [Fact]
        public void Oom_score_is_badness_times_1000_over_totalpages()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 1000);
            ulong total = r.Vm.Oom.TotalPages;
            Assert.Equal(r.Pa.TotalManagedPages + r.Swap.Slots - 1, total);
            Assert.Equal((long)(1001UL * 1000 / total), r.Vm.Oom.OomScore(p));   // 1000 anon + 1 page-table page
            Assert.Equal(0, r.Vm.Oom.OomScore(ProcessTable.InitPid));
            Assert.Equal(-1, r.Vm.Oom.OomScore(999));
        }

        [Fact]
        public void Out_of_memory_kills_the_highest_badness_process_and_logs_it_like_linux()
        {
            using var r = new Rig();
            int small = r.Spawn("small"), big = r.Spawn("big"), bystander = r.Spawn("bystander");
            int f = r.File(3);
            r.TouchAnon(small, 10);
            r.TouchAnon(big, 10);
            r.Read(big, f, 0, 3);
            r.TouchAnon(bystander, 5);
            var current = r.Vm.Procs.ContextOf(bystander);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Contains($"Out of memory: Killed process {big} (big) total-vm:52kB, anon-rss:40kB, file-rss:12kB\n", r.Log.ToString());
            Assert.Contains("bystander invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0", r.Log.ToString());
            Assert.Equal(1UL, r.Pa.Stat.OomKill);
            Assert.Equal(big, r.Vm.Oom.LastVictim);
            Assert.Equal(0UL, r.Process(big).RssAnon);                // the oom_reaper took its memory at once
            r.ReapExiting();
            Assert.False(r.Vm.Procs.Exists(big));                 // and it exits when it next runs
            Assert.True(r.Vm.Procs.Exists(small));
            r.AssertNoPageLost();
        }

        [Fact]
        public void An_oom_kill_is_told_to_the_event_hook_with_what_the_victim_held_before_the_reaper()
        {
            using var r = new Rig();
            var events = new EventsDouble();
            r.Pa.Events = events;
            int small = r.Spawn("small"), big = r.Spawn("big");
            int f = r.File(3);
            r.TouchAnon(small, 10);
            r.TouchAnon(big, 10);
            r.Read(big, f, 0, 3);
            var current = r.Vm.Procs.ContextOf(small);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            OomKill k = Assert.Single(events.Kills);
            Assert.Equal(big, k.Pid);
            Assert.Equal("big", k.Comm);
            Assert.Equal(10UL, k.RssAnon);
            Assert.Equal(3UL, k.RssFile);
            Assert.Equal(0UL, r.Process(big).RssAnon);           // reaped after the event
            Assert.Equal((ulong)events.Kills.Count, r.Pa.Stat.OomKill);
        }

        [Fact]
        public void Out_of_memory_never_kills_init_kswapd_or_a_minus_1000_task()
        {
            using var r = new Rig();
            int keeper = r.Spawn("keeper", adj: -1000);
            int other = r.Spawn("other");
            r.TouchAnon(keeper, 2000);
            r.Vm.Procs.Get(ProcessTable.InitPid).RssAnon = 5000;            // pretend init is huge (badness only)
            r.TouchAnon(other, 1);
            var current = r.Vm.Procs.ContextOf(other);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Equal(other, r.Vm.Oom.LastVictim);
            Assert.True(r.Vm.Procs.Exists(keeper));
            r.Vm.Procs.Get(ProcessTable.InitPid).RssAnon = 0;
        }

        [Fact]
        public void The_victim_gets_tif_memdie_and_may_allocate_below_the_min_watermark()
        {
            using var r = new Rig();
            r.OnWait = _ => { };                                   // time passes but nobody exits
            int victim = r.Spawn("victim"), other = r.Spawn("other");
            r.TouchAnon(victim, 100);
            var current = r.Vm.Procs.ContextOf(other);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            Assert.True((r.Vm.Procs.Get(victim).Flags & TaskFlags.MemDie) != 0);
            Assert.Equal(ProcessState.Exiting, r.Vm.Procs.Get(victim).State);
            r.TakeKernelPagesUntil(z => z.WatermarkMin / 2);
            var normal = r.Vm.Procs.ContextOf(other);
            Assert.Equal(PageAllocator.NoPfn, r.Pa.AllocPages(ref normal, Gfp.GFP_KERNEL | Gfp.NoRetry | Gfp.NoWarn, 0));
            var dying = r.Vm.Procs.ContextOf(victim);
            Assert.NotEqual(PageAllocator.NoPfn, r.Pa.AllocPages(ref dying, Gfp.GFP_KERNEL | Gfp.NoRetry | Gfp.NoWarn, 0));
        }

        [Fact]
        public void Out_of_memory_waits_for_an_earlier_victim_instead_of_killing_another()
        {
            var o = VmOptions.Default;
            o.OomReaper = false;                                   // the pre-4.6 rule: nobody reaps the victim
            using var r = new Rig(options: o);
            r.OnWait = _ => { };                                   // the victim does not get to exit
            int a = r.Spawn("a"), b = r.Spawn("b"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            r.TouchAnon(b, 200);
            var current = r.Vm.Procs.ContextOf(c);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Equal(a, r.Vm.Oom.LastVictim);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Equal(1UL, r.Pa.Stat.OomKill);
            Assert.True(r.Vm.Procs.Exists(b));
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(b).State);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Log.ToString(), "Killed process"));
        }

        [Fact]
        public void Out_of_memory_prefers_a_task_that_is_already_exiting()
        {
            using var r = new Rig();
            r.OnWait = _ => { };
            int big = r.Spawn("big"), leaving = r.Spawn("leaving"), c = r.Spawn("c");
            r.TouchAnon(big, 500);
            r.TouchAnon(leaving, 5);
            r.Vm.Memory.BeginExit(leaving);
            var current = r.Vm.Procs.ContextOf(c);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Equal(leaving, r.Vm.Oom.LastVictim);
            Assert.True((r.Vm.Procs.Get(leaving).Flags & TaskFlags.MemDie) != 0);
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(big).State);
            Assert.Equal(0UL, r.Pa.Stat.OomKill);                  // nobody had to be killed
        }

        [Fact]
        public void An_exiting_allocating_task_just_gets_the_reserves()
        {
            using var r = new Rig();
            int big = r.Spawn("big"), c = r.Spawn("c");
            r.TouchAnon(big, 500);
            r.Vm.Memory.BeginExit(c);
            var current = r.Vm.Procs.ContextOf(c);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.True((current.Flags & TaskFlags.MemDie) != 0);
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(big).State);
        }

        [Fact]
        public void Panic_on_oom_panics_instead_of_killing()
        {
            var o = VmOptions.Default;
            o.PanicOnOom = true;
            using var r = new Rig(options: o);
            int a = r.Spawn("a");
            r.TouchAnon(a, 10);
            var current = r.Vm.Procs.ContextOf(a);
            Assert.False(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.True(r.Vm.Oom.Panicked);
            Assert.Contains("Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled", r.Log.ToString());
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(a).State);
        }

        [Fact]
        public void Oom_kill_allocating_task_kills_the_caller_rather_than_the_biggest()
        {
            var o = VmOptions.Default;
            o.OomKillAllocatingTask = true;
            using var r = new Rig(options: o);
            int big = r.Spawn("big"), caller = r.Spawn("caller");
            r.TouchAnon(big, 500);
            r.TouchAnon(caller, 1);
            var current = r.Vm.Procs.ContextOf(caller);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Contains($"Out of memory (oom_kill_allocating_task): Killed process {caller} (caller)", r.Log.ToString());
            Assert.True((current.Flags & TaskFlags.MemDie) != 0);
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(big).State);
        }

        [Fact]
        public void With_nothing_killable_the_oom_killer_panics()
        {
            using var r = new Rig();
            int keeper = r.Spawn("keeper", adj: -1000);
            r.TouchAnon(keeper, 10);
            var current = r.Vm.Procs.ContextOf(keeper);
            Assert.False(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.True(r.Vm.Oom.Panicked);
            Assert.Contains("Out of memory and no killable processes...", r.Log.ToString());
        }

        private sealed class PanicRecorder : IPanicHandler
        {
            public readonly List<string> Reasons = new();
            public void Panic(string reason) => Reasons.Add(reason);
        }

        /// <summary>Only an oom_score_adj -1000 process exists and the OOM killer is called: it panics into a recorder.</summary>
        private static PanicRecorder PanicWithNothingKillable(Rig r)
        {
            var panic = new PanicRecorder();
            r.Pa.PanicHandler = panic;
            int keeper = r.Spawn("keeper", adj: -1000);
            r.TouchAnon(keeper, 10);
            var current = r.Vm.Procs.ContextOf(keeper);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            return panic;
        }

        [Fact]
        public void With_nothing_killable_the_panic_handler_stops_the_machine_with_the_reason()
        {
            using var r = new Rig();
            var panic = PanicWithNothingKillable(r);
            Assert.Equal(["Out of memory and no killable processes..."], panic.Reasons);
            Assert.EndsWith("Kernel panic - not syncing: Out of memory and no killable processes...\n", r.Log.ToString());
        }

        [Fact]
        public void Panic_on_oom_calls_the_panic_handler_and_kills_nobody()
        {
            var o = VmOptions.Default;
            o.PanicOnOom = true;
            using var r = new Rig(options: o);
            var panic = new PanicRecorder();
            r.Pa.PanicHandler = panic;
            int a = r.Spawn("a");
            r.TouchAnon(a, 10);
            var current = r.Vm.Procs.ContextOf(a);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            Assert.Equal(["Out of memory: system-wide panic_on_oom is enabled"], panic.Reasons);
            Assert.Equal(0UL, r.Pa.Stat.OomKill);
        }

        [Fact]
        public void After_a_panic_the_oom_killer_decides_nothing_more_and_the_handler_is_not_called_again()
        {
            using var r = new Rig();
            var panic = PanicWithNothingKillable(r);
            // A killable process appears later: a dead machine still kills nobody.
            int late = r.Spawn("late");
            r.TouchAnon(late, 100);
            var lateCtx = r.Vm.Procs.ContextOf(late);
            Assert.False(r.Vm.Oom.OutOfMemory(ref lateCtx, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Single(panic.Reasons);
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(late).State);
            Assert.Equal(0UL, r.Pa.Stat.OomKill);
        }

        [Fact]
        public void Only_one_oom_kill_runs_at_a_time()
        {
            var o = VmOptions.Default;
            o.OomReaper = false;                                   // the kill waits a tick (4.x), under the OOM lock
            using var r = new Rig(options: o);
            int a = r.Spawn("a"), b = r.Spawn("b"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            r.TouchAnon(b, 200);
            bool nested = false;
            r.OnWait = pid =>
            {
                // Another allocation hits OOM while the first kill is still waiting.
                var other = r.Vm.Procs.ContextOf(b);
                nested = r.Vm.Oom.OutOfMemory(ref other, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            };
            var current = r.Vm.Procs.ContextOf(c);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.True(nested);
            Assert.Equal(1UL, r.Pa.Stat.OomKill);
            Assert.Equal(ProcessState.Running, r.Vm.Procs.Get(b).State);
        }

        [Fact]
        public void The_victims_memory_is_released_when_it_exits()
        {
            using var r = new Rig();
            r.OnWait = _ => { };
            ulong free0 = r.Pa.NrFreePages;
            int a = r.Spawn("a"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            r.Reclaim();
            Assert.True(r.Vm.Procs.Get(a).SwapEnts > 0);
            var current = r.Vm.Procs.ContextOf(c);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            Assert.True(r.Vm.Procs.Exists(a));                     // killed, not yet exited
            r.ReapExiting();
            Assert.False(r.Vm.Procs.Exists(a));
            Assert.Equal(free0, r.Pa.NrFreePages);
            Assert.Equal(r.Swap.Slots - 1, r.Swap.FreeSlots);
            r.AssertNoPageLost();
        }

        [Fact]
        public void A_killed_task_gets_killed_back_from_its_next_fault()
        {
            using var r = new Rig();
            r.OnWait = _ => { };
            int a = r.Spawn("a"), c = r.Spawn("c");
            r.TouchAnon(a, 300);
            var current = r.Vm.Procs.ContextOf(c);
            r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal);
            Assert.Equal(ProcResult.Killed, r.Vm.Memory.TouchAnon(a, 400, true, out _));
        }
    }
}
