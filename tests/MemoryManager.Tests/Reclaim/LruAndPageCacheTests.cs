using MemoryManager;
using MemoryManager.Core;
using MemoryManager.Node;
using MemoryManager.Processes;
using Xunit;

namespace MemoryManager.Tests.Reclaim
{
    public unsafe class LruAndPageCacheTests
    {
        [Fact]
        public void A_new_anonymous_page_goes_to_the_active_anon_list()
        {
            using var r = new Rig();
            int p = r.Spawn("p");
            r.TouchAnon(p, 5);
            Assert.Equal(5UL, r.Vm.Nodes[0].Lru.Size(LruList.ActiveAnon));
            Assert.Equal(0UL, r.Vm.Nodes[0].Lru.Size(LruList.InactiveAnon));
            Assert.Equal(5UL, r.Process(p).RssAnon);
        }

        [Fact]
        public void A_page_read_into_the_page_cache_goes_to_the_inactive_file_list_and_counts_as_file_rss()
        {
            using var r = new Rig();
            int p = r.Spawn("reader");
            int f = r.File(8);
            r.Read(p, f, 0, 8);
            Assert.Equal(8UL, r.Vm.Nodes[0].Lru.Size(LruList.InactiveFile));
            Assert.Equal(8UL, r.Process(p).RssFile);
            Assert.Equal(8UL, r.Vm.PageCache.File(f).NrCached);
        }

        [Fact]
        public void A_page_cache_read_returns_the_file_bytes()
        {
            using var r = new Rig();
            int p = r.Spawn("reader");
            int f = r.File(4);
            Assert.Equal(ProcResult.Ok, r.Vm.PageCache.ReadFilePage(p, f, 3, out byte* data));
            Assert.True(Rig.Holds(data, Rig.Seed(-1, 3)));
        }

        [Fact]
        public void A_second_access_to_an_inactive_page_activates_it()
        {
            using var r = new Rig();
            int p = r.Spawn("reader");
            int f = r.File(2);
            r.Read(p, f, 0, 1);                // inactive, unreferenced
            r.Read(p, f, 0, 1);                // inactive, PG_referenced
            Assert.Equal(1UL, r.Vm.Nodes[0].Lru.Size(LruList.InactiveFile));
            r.Read(p, f, 0, 1);                // referenced again: activated
            Assert.Equal(1UL, r.Vm.Nodes[0].Lru.Size(LruList.ActiveFile));
            Assert.Equal(0UL, r.Vm.Nodes[0].Lru.Size(LruList.InactiveFile));
        }

        [Fact]
        public void Reading_a_page_another_process_cached_does_not_charge_the_reader()
        {
            using var r = new Rig();
            int a = r.Spawn("a"), b = r.Spawn("b");
            int f = r.File(2);
            r.Read(a, f, 0, 1);
            r.Read(b, f, 0, 1);
            Assert.Equal(1UL, r.Process(a).RssFile);
            Assert.Equal(0UL, r.Process(b).RssFile);
        }

        [Fact]
        public void A_write_marks_the_cached_page_dirty()
        {
            using var r = new Rig();
            int p = r.Spawn("writer");
            int f = r.File(2);
            Assert.Equal(ProcResult.Ok, r.Vm.PageCache.WriteFilePage(p, f, 1, out _));
            ulong pfn = r.Vm.PageCache.FindGetPage(f, 1);
            Assert.True((r.Pa.PfnToPage(pfn)->Flags & PageFlags.Dirty) != 0);
            Assert.Equal(1UL, r.Vm.PageCache.File(f).NrDirty);
        }

        [Fact]
        public void Fsync_writes_dirty_pages_to_the_backing_store_and_leaves_them_clean()
        {
            using var r = new Rig();
            int p = r.Spawn("writer");
            int f = r.File(2);
            r.Vm.PageCache.WriteFilePage(p, f, 0, out byte* data);
            Rig.Fill(data, 777);
            Assert.Equal(1UL, r.Vm.PageCache.WritebackFile(f));
            Assert.True(Rig.Holds(r.FileBacking(0), 777));
            Assert.Equal(0UL, r.Vm.PageCache.File(f).NrDirty);
            Assert.Equal(0UL, r.Vm.PageCache.WritebackFile(f));
        }

        [Fact]
        public void Reading_past_the_end_of_a_file_is_refused()
        {
            using var r = new Rig();
            int p = r.Spawn("reader");
            int f = r.File(2);
            Assert.Equal(ProcResult.NoSuchFile, r.Vm.PageCache.ReadFilePage(p, f, 2, out _));
            Assert.Equal(ProcResult.NoSuchFile, r.Vm.PageCache.ReadFilePage(p, 9, 0, out _));
        }

        [Fact]
        public void Lru_lists_stay_consistent_through_faults_reads_reclaim_and_exit()
        {
            using var r = new Rig();
            int a = r.Spawn("a"), b = r.Spawn("b");
            int f = r.File(64);
            r.TouchAnon(a, 100);
            r.Read(b, f, 0, 64);
            r.TouchAnon(a, 50);           // re-touch: referenced
            for (int i = 0; i < 4; i++) r.Reclaim();
            r.TouchAnon(b, 30);
            r.AssertNoPageLost();
            Assert.Equal(ProcResult.Ok, r.Vm.Memory.ExitProcess(a));
            r.AssertNoPageLost();
        }
    }
}
