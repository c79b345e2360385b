using System.Collections.Generic;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Xunit;
using static MemoryManager.Tests.Machine;

namespace MemoryManager.Tests
{
    /// <summary>
    /// AllocPages' per-cpu entry (rmqueue_pcplist ahead of the zonelist walk): an order-0 request
    /// for ZONE_NORMAL's zonelist is served from the preferred zone's per-cpu list when the first
    /// attempt of get_page_from_freelist would serve it there, with the same counters, and every
    /// other request takes the walk. __GFP_ZERO keeps a request off the entry, and on a machine of
    /// descriptors only there is nothing to zero, so a GFP_KERNEL | __GFP_ZERO twin of a
    /// GFP_KERNEL run is the walk's own result to compare with.
    /// </summary>
    public unsafe class PcpEntryTests
    {
        /// <summary>Node 0 with DMA and DMA32 (0..512 MiB), node 1 with DMA32 (512 MiB..1 GiB), per-cpu lists on (batch 31).</summary>
        private static Machine TwoNodes()
        {
            var map = new MemoryMap();
            map.Add(0, 512 * MiB, 0);
            map.Add(512 * MiB, 512 * MiB, 1);
            return new Machine(map, new AllocatorOptions());
        }

        /// <summary>
        /// Runs one seeded script of order-0 allocations and frees (a hot set that refills and
        /// drains the per-cpu lists, the fair batches used up and reset, the zones driven below
        /// their low watermark into the slow path) with <paramref name="gfp"/>, and returns the
        /// pfns handed out with a digest of the allocator's whole state (Machine.Snapshot) after each phase.
        /// </summary>
        private static (List<ulong> pfns, List<string> snaps) Script(Machine m, Gfp gfp, int nid)
        {
            m.Task.Nid = nid;
            var rng = new System.Random(17);
            var live = new List<ulong>();
            var pfns = new List<ulong>();
            var snaps = new List<string>();
            for (int step = 0; step < 20000; step++)
            {
                if (live.Count > 0 && rng.Next(3) == 0)
                {
                    int i = rng.Next(live.Count);
                    Assert.Equal(MmResult.Ok, m.Free(live[i], 0));
                    live[i] = live[live.Count - 1];
                    live.RemoveAt(live.Count - 1);
                }
                else
                {
                    ulong pfn = m.Alloc(gfp | Gfp.NoWarn, 0);
                    pfns.Add(pfn);
                    if (pfn != PageAllocator.NoPfn) live.Add(pfn);
                }
                if (step % 2000 == 1999) snaps.Add(Digest(m));
            }
            // Then allocate until the zones are at their reserves (the walk, the slow path) and 100 requests have failed.
            for (int failed = 0; failed < 100; )
            {
                ulong pfn = m.Alloc(gfp | Gfp.NoWarn | Gfp.NoRetry, 0);
                pfns.Add(pfn);
                if (pfn == PageAllocator.NoPfn) failed++;
            }
            snaps.Add(Digest(m));
            m.AssertInvariants();
            return (pfns, snaps);
        }

        private static string Digest(Machine m) => System.Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(m.Snapshot()));

        [Theory]
        [InlineData(true, 0)]
        [InlineData(false, 0)]
        [InlineData(true, 1)]
        public void The_per_cpu_entry_leaves_the_allocator_exactly_as_the_zonelist_walk_does(bool fair, int nid)
        {
            using var entry = TwoNodes();
            using var walk = TwoNodes();
            entry.Pa.Options.FairZoneAllocation = fair;
            walk.Pa.Options.FairZoneAllocation = fair;
            var a = Script(entry, Gfp.GFP_KERNEL, nid);
            var b = Script(walk, Gfp.GFP_KERNEL | Gfp.Zero, nid);
            Assert.Equal(b.pfns, a.pfns);
            Assert.Equal(b.snaps.Count, a.snaps.Count);
            for (int i = 0; i < a.snaps.Count; i++) Assert.True(b.snaps[i] == a.snaps[i], "allocator state differs after phase " + i);
        }

        [Fact]
        public void An_order0_page_from_the_per_cpu_list_counts_pgalloc_numa_hit_and_local_and_the_fair_batch()
        {
            using var m = Flat(1 * GiB);
            m.Free(m.Alloc(Gfp.GFP_KERNEL, 0), 0);   // the list of DMA32 (GFP_KERNEL's preferred zone here) now has pages
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            int count = z.Pcp.Count;
            long batch = z.AllocBatch;
            ulong pgalloc = m.Pa.Stat.PgallocDma32, hit = z.NumaHit, local = z.NumaLocal;
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(ZoneType.Dma32, (ZoneType)m.Pa.PfnToPage(pfn)->Zone);
            Assert.Equal(count - 1, z.Pcp.Count);
            Assert.Equal(batch - 1, z.AllocBatch);
            Assert.Equal(pgalloc + 1, m.Pa.Stat.PgallocDma32);
            Assert.Equal(hit + 1, z.NumaHit);
            Assert.Equal(local + 1, z.NumaLocal);
            Assert.Equal(1, m.Pa.PfnToPage(pfn)->RefCount);
            Assert.Equal(m.Task.Pid, m.Pa.PfnToPage(pfn)->Owner);
            m.AssertInvariants();
        }

        [Fact]
        public void A_preferred_zone_at_its_low_watermark_is_passed_over_although_its_per_cpu_list_has_pages()
        {
            using var m = Flat(1 * GiB);
            m.Pa.Options.FairZoneAllocation = false;
            m.Free(m.Alloc(Gfp.GFP_KERNEL, 0), 0);
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            Assert.True(z.Pcp.Count > 0);
            int count = z.Pcp.Count;
            z.WatermarkLow = z.NrFree;   // free pages no longer above low + lowmem_reserve
            z.PcpFloor = z.WatermarkLow + z.LowmemReserve[(int)z.Type];   // as SetupPerZoneWmarks keeps it
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(ZoneType.Dma, (ZoneType)m.Pa.PfnToPage(pfn)->Zone);   // the next zone of the zonelist
            Assert.Equal(count, z.Pcp.Count);
        }

        [Fact]
        public void A_fair_depleted_preferred_zone_is_skipped_although_its_per_cpu_list_has_pages()
        {
            using var m = Flat(1 * GiB);
            m.Free(m.Alloc(Gfp.GFP_KERNEL, 0), 0);
            ref Zone z = ref m.Zone(ZoneType.Dma32);
            int count = z.Pcp.Count;
            z.FairDepleted = true;
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL, 0);
            Assert.Equal(ZoneType.Dma, (ZoneType)m.Pa.PfnToPage(pfn)->Zone);   // the fair pass goes on to DMA
            Assert.Equal(count, z.Pcp.Count);
        }

        [Fact]
        public void A_dma_request_is_not_served_from_the_per_cpu_list_of_the_normal_zonelists_first_zone()
        {
            using var m = Flat(1 * GiB);
            m.Pa.Options.FairZoneAllocation = false;
            m.Free(m.Alloc(Gfp.GFP_KERNEL, 0), 0);
            Assert.True(m.Zone(ZoneType.Dma32).Pcp.Count > 0);
            ulong pfn = m.Alloc(Gfp.GFP_KERNEL | Gfp.Dma, 0);
            Assert.Equal(ZoneType.Dma, (ZoneType)m.Pa.PfnToPage(pfn)->Zone);
            m.AssertInvariants();
        }
    }
}
