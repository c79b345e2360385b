using MemoryManager;
using MemoryManager.Core;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public class ProcessTableTests
    {
        private static ProcessTable Table(int capacity = 8)
        {
            Assert.Equal(MmResult.Ok, ProcessTable.Create(capacity, 64, out ProcessTable t));
            return t;
        }

        [Theory]
        [InlineData(-1001)]
        [InlineData(1001)]
        [InlineData(int.MinValue)]
        public void Oom_score_adj_outside_minus_1000_to_1000_is_refused_and_the_value_kept(int adj)
        {
            ProcessTable t = Table();
            Assert.Equal(ProcResult.Ok, t.Spawn("p", TaskFlags.None, 300, out int pid));
            Assert.Equal(ProcResult.OomScoreAdjOutOfRange, t.SetOomScoreAdj(pid, adj));
            Assert.Equal(300, t.Get(pid).OomScoreAdj);
            Assert.Equal(ProcResult.OomScoreAdjOutOfRange, t.Spawn("q", TaskFlags.None, adj, out _));
            Assert.Equal(1, t.Count);
        }

        [Theory]
        [InlineData(-1000)]
        [InlineData(0)]
        [InlineData(1000)]
        public void Oom_score_adj_within_the_range_is_accepted(int adj)
        {
            ProcessTable t = Table();
            Assert.Equal(ProcResult.Ok, t.Spawn("p", TaskFlags.None, 0, out int pid));
            Assert.Equal(ProcResult.Ok, t.SetOomScoreAdj(pid, adj));
            Assert.Equal(adj, t.Get(pid).OomScoreAdj);
        }

        [Fact]
        public void A_full_table_refuses_a_new_process_with_TableFull()
        {
            ProcessTable t = Table(3);
            for (int i = 0; i < 3; i++) Assert.Equal(ProcResult.Ok, t.Spawn("p", TaskFlags.None, 0, out _));
            Assert.Equal(ProcResult.TableFull, t.Spawn("one-too-many", TaskFlags.None, 0, out int pid));
            Assert.Equal(0, pid);
            Assert.Equal(3, t.Count);
        }

        [Fact]
        public void Pids_are_unique_and_a_released_slot_is_reused_with_a_new_pid()
        {
            ProcessTable t = Table(2);
            t.Spawn("a", TaskFlags.None, 0, out int a);
            t.Spawn("b", TaskFlags.None, 0, out int b);
            Assert.NotEqual(a, b);
            Assert.Equal(ProcResult.Ok, t.Release(a));
            Assert.False(t.Exists(a));
            Assert.Equal(ProcResult.Ok, t.Spawn("c", TaskFlags.None, 0, out int c));
            Assert.NotEqual(a, c);
            Assert.NotEqual(b, c);
            Assert.Equal("c", t.Get(c).Comm);
        }

        [Fact]
        public void A_process_needs_a_name()
        {
            ProcessTable t = Table();
            Assert.Equal(ProcResult.BadName, t.Spawn("", TaskFlags.None, 0, out _));
            Assert.Equal(ProcResult.BadName, t.Spawn(null, TaskFlags.None, 0, out _));
        }

        [Fact]
        public void Unknown_pids_are_refused()
        {
            ProcessTable t = Table();
            Assert.Equal(ProcResult.NoSuchProcess, t.SetOomScoreAdj(42, 0));
            Assert.Equal(ProcResult.NoSuchProcess, t.Release(42));
            Assert.False(t.Exists(-1));
        }

        [Fact]
        public void A_process_holding_memory_cannot_be_released()
        {
            ProcessTable t = Table();
            t.Spawn("p", TaskFlags.None, 0, out int pid);
            t.Get(pid).RssAnon = 1;
            Assert.NotEqual(ProcResult.Ok, t.Release(pid));
            Assert.True(t.Exists(pid));
        }

        [Fact]
        public void Spawn_does_not_inherit_memdie_memalloc_or_exiting()
        {
            ProcessTable t = Table();
            t.Spawn("p", TaskFlags.MemDie | TaskFlags.MemAlloc | TaskFlags.Exiting | TaskFlags.RealTime, 0, out int pid);
            Assert.Equal(TaskFlags.RealTime, t.Get(pid).Flags);
        }

        [Fact]
        public void Nonsense_table_sizes_are_refused()
        {
            Assert.Equal(MmResult.BadArgument, ProcessTable.Create(0, 64, out _));
            Assert.Equal(MmResult.BadArgument, ProcessTable.Create(8, 0, out _));
        }
    }
}
