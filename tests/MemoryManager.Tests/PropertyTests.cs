using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using Microsoft.FSharp.Core;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>
    /// FsCheck-driven random alloc/free sequences over random memory maps (holes, reserved
    /// ranges, up to three nodes, zone boundaries at 16 MiB and 4 GiB, per-cpu lists on and
    /// off, poisoning), with the invariant checker after every step and a model of who holds
    /// what. Runs with a fixed seed so CI is repeatable; set MM_PROPERTY_SEED=&lt;n&gt; to explore
    /// other seeds (a failure prints the seed to replay it).
    /// </summary>
    public static class AllocatorProperties
    {
        public sealed class RangeSpec { public int Gap, Pages, Nid, HeadSlack, TailSlack; }
        public sealed class ReserveSpec { public int Offset, Pages; }
        public struct Op { public byte Kind; public int A, B, C; }

        public sealed class Scenario
        {
            public int Base;
            public RangeSpec[] Ranges;
            public ReserveSpec[] Reserves;
            public bool Pcp, Modern, Poison;
            /// <summary>Install reclaim, OOM, kswapd and congestion doubles that free held blocks.</summary>
            public bool Hooks;
            public int MinFreeKbytes;
            public Op[] Ops;
            public override string ToString()
            {
                var s = new System.Text.StringBuilder();
                s.Append("base pfn ").Append(Base).Append(", pcp ").Append(Pcp).Append(", modern ").Append(Modern)
                 .Append(", poison ").Append(Poison).Append(", hooks ").Append(Hooks).Append(", min_free_kbytes ").Append(MinFreeKbytes).Append(", ranges");
                foreach (var r in Ranges) s.Append(" [gap ").Append(r.Gap).Append(" pages ").Append(r.Pages).Append(" nid ").Append(r.Nid).Append(']');
                foreach (var r in Reserves) s.Append(" reserve[").Append(r.Offset).Append('+').Append(r.Pages).Append(']');
                s.Append(", ").Append(Ops.Length).Append(" ops");
                return s.ToString();
            }
        }

        private static readonly Gfp[] Gfps =
        {
            Gfp.GFP_KERNEL, Gfp.GFP_KERNEL, Gfp.GFP_ATOMIC, Gfp.GFP_NOFS, Gfp.GFP_NOWAIT, Gfp.GFP_KERNEL | Gfp.Dma,
            Gfp.GFP_KERNEL | Gfp.Dma32, Gfp.GFP_KERNEL | Gfp.NoRetry, Gfp.GFP_USER | Gfp.Cold, Gfp.GFP_KERNEL | Gfp.Zero,
            Gfp.GFP_KERNEL | Gfp.GFP_THISNODE, Gfp.GFP_HIGHUSER_MOVABLE | Gfp.NoFail, Gfp.GFP_KERNEL | Gfp.Repeat,
        };

        private static Gen<RangeSpec> RangeGen =>
            from gap in Gen.Frequency((3, Gen.Constant(0)), (2, Gen.Choose(1, 300)))
            from pages in Gen.Frequency((3, Gen.Choose(1, 600)), (2, Gen.Choose(600, 1500)))
            from nid in Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
            from head in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Choose(1, 4095)))
            from tail in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Choose(1, 4095)))
            select new RangeSpec { Gap = gap, Pages = pages, Nid = nid, HeadSlack = head, TailSlack = tail };

        private static Gen<ReserveSpec> ReserveGen =>
            from off in Gen.Choose(0, 4000)
            from pages in Gen.Choose(1, 64)
            select new ReserveSpec { Offset = off, Pages = pages };

        private static Gen<Op> OpGen =>
            from kind in Gen.Frequency(
                (45, Gen.Constant((byte)0)),   // alloc
                (38, Gen.Constant((byte)1)),   // free
                (9, Gen.Constant((byte)2)),    // bad free
                (3, Gen.Constant((byte)3)),    // set owner
                (2, Gen.Constant((byte)4)),    // drain pcp
                (1, Gen.Constant((byte)5)))    // free everything: back to the initial free lists
            from a in Gen.Choose(0, 1 << 20)
            from b in Gen.Choose(0, 1 << 20)
            from c in Gen.Choose(0, 1 << 20)
            select new Op { Kind = kind, A = a, B = b, C = c };

        public static Gen<Scenario> ScenarioGen(int opsMin, int opsMax, bool hooks) =>
            from baseSel in Gen.Frequency((4, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)))
            from baseOff in Gen.Choose(0, 2048)
            from ranges in Gen.ArrayOf(RangeGen, 3).Select(a => a).SelectMany(a => Gen.Choose(1, 3).Select(n => a[..n]))
            from reserves in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(ReserveGen, n))
            from pcp in Gen.Elements(true, false)
            from modern in Gen.Elements(true, false, false)
            from poison in Gen.Frequency((7, Gen.Constant(false)), (1, Gen.Constant(true)))
            from minFree in Gen.Frequency((2, Gen.Constant(-1)), (1, Gen.Constant(0)), (2, Gen.Choose(1, 512)))
            from n in Gen.Choose(opsMin, opsMax)
            from ops in Gen.ArrayOf(OpGen, n)
            select new Scenario
            {
                Base = baseSel == 0 ? baseOff : baseSel == 1 ? 4096 - baseOff : (1 << 20) - baseOff,
                Ranges = ranges, Reserves = reserves, Pcp = pcp, Modern = modern, Poison = poison,
                MinFreeKbytes = minFree, Ops = ops, Hooks = hooks,
            };

        /// <summary>Calls the reclaim, OOM and congestion doubles received over all runs (proof the hooks were exercised).</summary>
        public static long HookCalls;

        private sealed class NullSink : ITextSink
        {
            public long Chars;
            public void Write(string s) => Chars += s.Length;
            public void Write(char c) => Chars++;
        }

        /// <summary>Runs one scenario; throws with a description on the first broken property; returns the number of operations run.</summary>
        public static unsafe int Run(Scenario sc)
        {
            var map = new MemoryMap();
            ulong pfn0 = (ulong)sc.Base;
            foreach (var r in sc.Ranges)
            {
                pfn0 += (ulong)r.Gap;
                ulong start = pfn0 * 4096 + (ulong)r.HeadSlack;
                ulong end = (pfn0 + (ulong)r.Pages) * 4096 - (ulong)(r.TailSlack > 0 && r.Pages > 1 ? r.TailSlack : 0);
                if (end > start) Require(map.Add(start, end - start, r.Nid) == MmResult.Ok, "map.Add", sc, -1, null);
                pfn0 += (ulong)r.Pages;
            }
            foreach (var r in sc.Reserves) map.Reserve(((ulong)sc.Base + (ulong)r.Offset) * 4096, (ulong)r.Pages * 4096);
            if (map.UsablePages == 0) return 0;
            var o = new AllocatorOptions { PerCpuLists = sc.Pcp, ModernWatermarks = sc.Modern, ModernWatermarkCheck = sc.Modern, PoisonFreePages = sc.Poison };
            using var m = new Machine(map, o, realMemory: sc.Poison);
            var sink = new NullSink();
            m.Pa.Log = sink;
            if (sc.MinFreeKbytes >= 0) m.Pa.SetMinFreeKbytes(sc.MinFreeKbytes);
            if (m.Pa.TotalManagedPages == 0) return 0;
            string fresh = m.BuddyInfo();
            var report = new StringSink();
            Require(m.Pa.CheckInvariants(report), "invariants after set-up", sc, -1, report);

            // The model: blocks held, and which pfns they cover.
            var held = new List<(ulong pfn, int order, int pid)>();
            var recentlyFreed = new List<(ulong pfn, int order, int pid)>();
            var owned = new bool[m.Pa.MaxPfn - m.Pa.MinPfn];
            ulong heldPages = 0;

            // Frees held[i] as its owner would, keeping the model in step.
            void FreeHeld(int i)
            {
                var (pfn, order, pid) = held[i];
                Require(m.Pa.FreePages(pfn, order, pid) == MmResult.Ok, "a double frees a held block", sc, -1, null);
                held[i] = held[held.Count - 1];
                held.RemoveAt(held.Count - 1);
                for (ulong k = 0; k < (1UL << order); k++) owned[pfn - m.Pa.MinPfn + k] = false;
                heldPages -= 1UL << order;
                recentlyFreed.Add((pfn, order, pid));
                if (recentlyFreed.Count > 16) recentlyFreed.RemoveAt(0);
            }
            int hookCalls = 0;
            ReclaimDouble reclaim = null;
            OomDouble oom = null;
            CongestionDouble congestion = null;
            if (sc.Hooks)
            {
                reclaim = new ReclaimDouble();
                reclaim.Action = n =>
                {
                    // Reclaim up to a few blocks (progress = pages freed), as try_to_free_pages would.
                    ulong freed = 0;
                    for (int k = 0; k < 1 + (hookCalls++ % 4) && held.Count > 0; k++)
                    {
                        int i = (hookCalls * 7919) % held.Count;
                        freed += 1UL << held[i].order;
                        FreeHeld(i);
                    }
                    return freed;
                };
                oom = new OomDouble();
                oom.Action = n =>
                {
                    // Kill the pid holding the most recent block: all its blocks go.
                    if (held.Count == 0) return false;
                    int victim = held[held.Count - 1].pid;
                    for (int i = held.Count - 1; i >= 0; i--) if (held[i].pid == victim) FreeHeld(i);
                    return true;
                };
                congestion = new CongestionDouble();
                congestion.Action = n => { if (held.Count > 0 && (hookCalls++ & 1) == 0) FreeHeld(held.Count - 1); };
                m.Pa.Kswapd = new KswapdDouble();
                m.Pa.DirectReclaim = reclaim;
                m.Pa.OomKiller = oom;
                m.Pa.Congestion = congestion;
            }

            for (int step = 0; step < sc.Ops.Length; step++)
            {
                Op op = sc.Ops[step];
                switch (op.Kind)
                {
                    case 0:
                    {
                        int order = op.A % 10 < 7 ? 0 : op.A % 10 < 9 ? 1 + op.B % 3 : 4 + op.B % 7;
                        Gfp gfp = Gfps[op.C % Gfps.Length];
                        // With partners installed, __GFP_NOFAIL and small GFP_NOFS requests retry for as long
                        // as nothing can be freed (the seed's "too small to fail"): keep them out.
                        if (sc.Hooks && ((gfp & Gfp.NoFail) != 0 || (gfp & (Gfp.Wait | Gfp.Fs)) == Gfp.Wait)) gfp = Gfp.GFP_KERNEL;
                        var task = new TaskContext(1 + op.B % 4, "prop", TaskFlags.None) { Nid = op.C % 3 };
                        int f = (op.A >> 8) % 20;
                        if (f == 0) task.Flags = TaskFlags.MemAlloc;
                        else if (f == 1) task.Flags = TaskFlags.RealTime;
                        else if (f == 2) task.Flags = TaskFlags.MemDie;
                        if (reclaim != null)
                        {
                            // The doubles' endless-loop guards count calls within one allocation.
                            System.Threading.Interlocked.Add(ref HookCalls, reclaim.Calls + oom.Calls + congestion.Calls);
                            reclaim.Calls = 0; oom.Calls = 0; congestion.Calls = 0;
                        }
                        ulong pfn = m.Pa.AllocPages(ref task, gfp, order);
                        if (pfn == PageAllocator.NoPfn) break;
                        Require((pfn & ((1UL << order) - 1)) == 0, "allocated block is aligned", sc, step, null);
                        Require(pfn >= m.Pa.MinPfn && pfn + (1UL << order) <= m.Pa.MaxPfn, "allocated block is inside the map", sc, step, null);
                        int high = PageAllocator.GfpZone(gfp);
                        Require(m.Pa.PfnToPage(pfn)->Zone <= high, "allocated block comes from a zone the gfp mask allows", sc, step, null);
                        if ((gfp & Gfp.ThisNode) != 0) Require(m.Pa.PfnToPage(pfn)->Nid == (task.Nid < m.Pa.NodeCount ? task.Nid : 0), "__GFP_THISNODE stays on the node", sc, step, null);
                        Require(m.Pa.PfnToPage(pfn)->Owner == task.Pid, "allocated block is charged to the task", sc, step, null);
                        Require((task.Flags & TaskFlags.MemAlloc) == (f == 0 ? TaskFlags.MemAlloc : 0), "PF_MEMALLOC is restored", sc, step, null);
                        for (ulong k = 0; k < (1UL << order); k++)
                        {
                            Require(!owned[pfn - m.Pa.MinPfn + k], "allocated block does not overlap a held one", sc, step, null);
                            owned[pfn - m.Pa.MinPfn + k] = true;
                        }
                        held.Add((pfn, order, task.Pid));
                        heldPages += 1UL << order;
                        break;
                    }
                    case 1:
                    {
                        if (held.Count == 0) break;
                        int i = op.A % held.Count;
                        var (pfn, order, pid) = held[i];
                        Require(m.Pa.FreePages(pfn, order, pid) == MmResult.Ok, "freeing a held block succeeds", sc, step, null);
                        held[i] = held[held.Count - 1];
                        held.RemoveAt(held.Count - 1);
                        for (ulong k = 0; k < (1UL << order); k++) owned[pfn - m.Pa.MinPfn + k] = false;
                        heldPages -= 1UL << order;
                        recentlyFreed.Add((pfn, order, pid));
                        if (recentlyFreed.Count > 16) recentlyFreed.RemoveAt(0);
                        break;
                    }
                    case 2:
                    {
                        ulong nrFree = m.Pa.NrFreePages, pcp = m.Pa.PcpPages;
                        MmResult r = BadFree(m, op, held, recentlyFreed, owned, out string what);
                        if (r == MmResult.Ok && what == null) break;   // nothing bad to try
                        Require(r != MmResult.Ok, "bad free is refused: " + what, sc, step, null);
                        Require(m.Pa.NrFreePages == nrFree && m.Pa.PcpPages == pcp, "bad free changes nothing: " + what, sc, step, null);
                        break;
                    }
                    case 3:
                    {
                        if (held.Count == 0) break;
                        int i = op.A % held.Count;
                        var (pfn, order, _) = held[i];
                        int newPid = 1 + op.B % 4;
                        Require(m.Pa.SetOwner(pfn, order, newPid) == MmResult.Ok, "set owner of a held block", sc, step, null);
                        held[i] = (pfn, order, newPid);
                        break;
                    }
                    case 4:
                        m.Pa.DrainPerCpuLists();
                        Require(m.Pa.PcpPages == 0, "drain empties the per-cpu lists", sc, step, null);
                        break;
                    case 5:
                        if (op.A % 4 != 0) break;   // rarer still
                        foreach (var (pfn, order, pid) in held)
                        {
                            Require(m.Pa.FreePages(pfn, order, pid) == MmResult.Ok, "freeing everything", sc, step, null);
                            for (ulong k = 0; k < (1UL << order); k++) owned[pfn - m.Pa.MinPfn + k] = false;
                        }
                        held.Clear();
                        recentlyFreed.Clear();
                        heldPages = 0;
                        m.Pa.DrainPerCpuLists();
                        Require(m.BuddyInfo() == fresh, "with everything freed the free lists are back to their initial, fully merged shape", sc, step, null);
                        break;
                }
                Require(m.Pa.NrFreePages + m.Pa.PcpPages + heldPages == m.Pa.TotalManagedPages, "free + pcp + held = managed", sc, step, null);
                report.Clear();
                Require(m.Pa.CheckInvariants(report, (step & 63) == 0), "invariants", sc, step, report);
            }
            return sc.Ops.Length;
        }

        // One kind of bad free chosen by op.B; r = Ok with what = null when there is nothing to try.
        private static unsafe MmResult BadFree(Machine m, Op op, List<(ulong pfn, int order, int pid)> held,
            List<(ulong pfn, int order, int pid)> recentlyFreed, bool[] owned, out string what)
        {
            what = null;
            switch (op.B % 8)
            {
                case 0:
                    if (recentlyFreed.Count == 0) return MmResult.Ok;
                    var f = recentlyFreed[op.A % recentlyFreed.Count];
                    if (owned[f.pfn - m.Pa.MinPfn]) return MmResult.Ok;   // reallocated since
                    what = "double free";
                    return m.Pa.FreePages(f.pfn, f.order, f.pid);
                case 1:
                    what = "pfn beyond the map";
                    return m.Pa.FreePages(m.Pa.MaxPfn + (ulong)(op.A % 100), 0, 1);
                case 2:
                    what = "order 11";
                    return m.Pa.FreePages(m.Pa.MinPfn, MmConstants.MaxOrder + op.A % 3, 1);
                default:
                    if (held.Count == 0) return MmResult.Ok;
                    var h = held[op.A % held.Count];
                    switch (op.B % 8)
                    {
                        case 3: what = "wrong owner"; return m.Pa.FreePages(h.pfn, h.order, h.pid + 10);
                        case 4: what = "wrong order"; return m.Pa.FreePages(h.pfn, h.order == 0 ? 1 : h.order - 1, h.pid);
                        case 5:
                            if (h.order == 0) return MmResult.Ok;
                            what = "tail page"; return m.Pa.FreePages(h.pfn + 1 + (ulong)(op.C % ((1 << h.order) - 1)), 0, h.pid);
                        case 6:
                            if (h.order == 0) return MmResult.Ok;
                            what = "misaligned"; return m.Pa.FreePages(h.pfn + 1, h.order, h.pid);
                        default:
                            // A random pfn that nobody holds: a hole, a reserved page, or a free page.
                            ulong pfn = m.Pa.MinPfn + (ulong)op.C % (m.Pa.MaxPfn - m.Pa.MinPfn);
                            if (owned[pfn - m.Pa.MinPfn]) return MmResult.Ok;
                            what = "a pfn nobody holds";
                            return m.Pa.FreePages(pfn, 0, 1);
                    }
            }
        }

        private static void Require(bool ok, string property, Scenario sc, int step, StringSink report)
        {
            if (ok) return;
            throw new Xunit.Sdk.XunitException("property broken: " + property + " at step " + step + " of " + sc +
                (step >= 0 ? " (op " + sc.Ops[step].Kind + ")" : "") + (report != null ? "\n" + report : ""));
        }

        /// <summary>Checks the property over <paramref name="scenarios"/> generated scenarios with a fixed (or MM_PROPERTY_SEED) seed; returns the operations run.</summary>
        public static long CheckAll(int scenarios, int opsMin, int opsMax, ulong defaultSeed, bool hooks = false)
        {
            return SeededProperty.Check(ScenarioGen(opsMin, opsMax, hooks), scenarios, defaultSeed, sc => Run(sc));
        }
    }

    public class PropertyTestsPart1
    {
        [Fact]
        public void Random_alloc_free_sequences_over_random_memory_maps_keep_every_invariant_part_1()
        {
            long ops = AllocatorProperties.CheckAll(scenarios: 130, opsMin: 3000, opsMax: 5000, defaultSeed: 20261122);
            Assert.True(ops >= 500_000, "ran only " + ops + " operations");
        }
    }

    public class PropertyTestsPart2
    {
        [Fact]
        public void Random_alloc_free_sequences_over_random_memory_maps_keep_every_invariant_part_2()
        {
            long ops = AllocatorProperties.CheckAll(scenarios: 130, opsMin: 3000, opsMax: 5000, defaultSeed: 4051);
            Assert.True(ops >= 500_000, "ran only " + ops + " operations");
        }
    }

    public class PropertyTestsWithReclaimAndOom
    {
        [Fact]
        public void Random_sequences_with_reclaim_and_OOM_doubles_freeing_memory_keep_every_invariant()
        {
            long before = AllocatorProperties.HookCalls;
            long ops = AllocatorProperties.CheckAll(scenarios: 60, opsMin: 2000, opsMax: 4000, defaultSeed: 777, hooks: true);
            Assert.True(ops >= 100_000, "ran only " + ops + " operations");
            Assert.True(AllocatorProperties.HookCalls - before > 1000, "the slow-path partners were called only " + (AllocatorProperties.HookCalls - before) + " times");
        }
    }
}

namespace MemoryManager.Tests
{
    /// <summary>
    /// Runs an FsCheck property over generated scenarios with a fixed, replayable seed
    /// (MM_PROPERTY_SEED overrides it; a failure names the seed to replay with).
    /// </summary>
    public static class SeededProperty
    {
        /// <summary>Checks <paramref name="run"/> on <paramref name="scenarios"/> values of <paramref name="gen"/>; returns the operations the runs report.</summary>
        public static long Check<T>(Gen<T> gen, int scenarios, ulong defaultSeed, Func<T, long> run)
        {
            ulong seed = defaultSeed;
            string env = Environment.GetEnvironmentVariable("MM_PROPERTY_SEED");
            if (!string.IsNullOrEmpty(env)) seed = ulong.Parse(env);
            long ops = 0;
            var config = Config.QuickThrowOnFailure
                .WithMaxTest(scenarios)
                .WithQuietOnSuccess(true)
                .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None)));
            try
            {
                FsCheck.Check.One(config, Prop.ForAll(Arb.From(gen), (T sc) => { ops += run(sc); return true; }));
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException("replay with MM_PROPERTY_SEED=" + seed + "\n" + e.Message);
            }
            return ops;
        }
    }
}
