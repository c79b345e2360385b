using System.Collections.Generic;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Oom;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    /// <summary>The OOM killer's replaceable badness function (IOomPolicy): what a policy decides, and what it may not.</summary>
    public unsafe class OomPolicyTests
    {
        /// <summary>Prefers the process with the least resident memory: the opposite of oom_badness.</summary>
        private sealed class SmallestFirst : IOomPolicy
        {
            public readonly List<int> Asked = new();
            public ulong Badness(ref Process t, ulong totalpages)
            {
                Asked.Add(t.Pid);
                return 1_000_000 - (t.RssAnon + t.RssFile);
            }
        }

        /// <summary>Scores every process it is asked about the same, very high.</summary>
        private sealed class EveryoneIsBad : IOomPolicy
        {
            public readonly List<int> Asked = new();
            public ulong Badness(ref Process t, ulong totalpages) { Asked.Add(t.Pid); return ulong.MaxValue / 2; }
        }

        [Fact]
        public void A_policy_that_prefers_the_smallest_process_kills_it_where_oom_badness_kills_the_biggest()
        {
            foreach (bool withPolicy in new[] { false, true })
            {
                using var r = new Rig();
                if (withPolicy) r.Vm.Oom.Policy = new SmallestFirst();
                int small = r.Spawn("small"), big = r.Spawn("big");
                r.TouchAnon(small, 3);
                r.TouchAnon(big, 30);
                var current = r.Vm.Procs.ContextOf(small);
                Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
                Assert.Equal(withPolicy ? small : big, r.Vm.Oom.LastVictim);
                r.AssertNoPageLost();
            }
        }

        [Fact]
        public void No_policy_is_asked_about_init_kernel_threads_or_an_oom_score_adj_minus_1000_process()
        {
            using var r = new Rig();
            var policy = new EveryoneIsBad();
            r.Vm.Oom.Policy = policy;
            int keeper = r.Spawn("keeper", adj: -1000);
            int other = r.Spawn("other");
            r.TouchAnon(keeper, 20);
            r.TouchAnon(other, 1);
            var current = r.Vm.Procs.ContextOf(other);
            Assert.True(r.Vm.Oom.OutOfMemory(ref current, Gfp.GFP_KERNEL, 0, ZoneType.Normal));
            Assert.Equal(other, r.Vm.Oom.LastVictim);
            Assert.DoesNotContain(ProcessTable.InitPid, policy.Asked);
            Assert.DoesNotContain(keeper, policy.Asked);
            for (int s = 0; s < r.Vm.Procs.Capacity; s++)
            {
                ref Process t = ref r.Vm.Procs.At(s);
                if ((t.Flags & TaskFlags.KernelThread) != 0) Assert.DoesNotContain(t.Pid, policy.Asked);
            }
            Assert.True(r.Vm.Procs.Exists(keeper));
        }

        [Fact]
        public void Oom_score_reports_the_policys_points_per_thousand_of_totalpages()
        {
            using var r = new Rig();
            int a = r.Spawn("a"), b = r.Spawn("b");
            r.TouchAnon(a, 2);
            r.TouchAnon(b, 40);
            Assert.True(r.Vm.Oom.OomScore(b) > r.Vm.Oom.OomScore(a));
            r.Vm.Oom.Policy = new SmallestFirst();
            ulong total = r.Vm.Oom.TotalPages;
            Assert.Equal((long)((1_000_000 - 2UL) * 1000 / total), r.Vm.Oom.OomScore(a));
            Assert.True(r.Vm.Oom.OomScore(a) > r.Vm.Oom.OomScore(b));
            Assert.Equal(0, r.Vm.Oom.OomScore(ProcessTable.InitPid));
        }

        [Fact]
        public void Linux_policy_object_scores_exactly_as_oom_badness()
        {
            using var r = new Rig();
            int a = r.Spawn("a", adj: 300);
            r.TouchAnon(a, 7);
            long before = r.Vm.Oom.OomScore(a);
            r.Vm.Oom.Policy = new LinuxOomPolicy();
            Assert.Equal(before, r.Vm.Oom.OomScore(a));
        }
    }
}
