using System;
using System.Collections.Generic;
using FsCheck;
using FsCheck.Fluent;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Core;
using MemoryManager.Slab;
using Microsoft.FSharp.Core;
using Xunit;

namespace MemoryManager.Tests.Slab
{
    /// <summary>
    /// FsCheck-driven random kmalloc/kfree sequences of random sizes (every class, large
    /// objects, the odd request above 4 MiB) with random gfp, bad frees and shrinks. Each
    /// object is filled with a pattern derived from its id and checked before its free (so
    /// overlapping objects or a heap write into live objects show up); the slab checker and
    /// the buddy checker run after every step; at the end everything is freed and shrunk and
    /// the buddy allocator's free page count is back where it started. Fixed seed;
    /// MM_PROPERTY_SEED=&lt;n&gt; explores others.
    /// </summary>
    public static class SlabProperties
    {
        public struct Op { public byte Kind; public int A, B; }

        public sealed class Scenario
        {
            public int SizeMiB;
            public bool Pcp, Poison;
            public int MaxEmpty;
            public Op[] Ops;
            public override string ToString() => "size " + SizeMiB + " MiB, pcp " + Pcp + ", poison " + Poison + ", max empty " + MaxEmpty + ", " + Ops.Length + " ops";
        }

        private static readonly Gfp[] Gfps = { Gfp.GFP_KERNEL, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL, Gfp.GFP_ATOMIC, Gfp.GFP_NOWAIT | Gfp.NoWarn, Gfp.GFP_NOFS, Gfp.GFP_KERNEL | Gfp.Zero };

        private static Gen<Op> OpGen =>
            from kind in Gen.Frequency(
                (50, Gen.Constant((byte)0)),   // alloc
                (40, Gen.Constant((byte)1)),   // free a random live object
                (6, Gen.Constant((byte)2)),    // bad free: double, interior, misaligned, foreign page
                (2, Gen.Constant((byte)3)),    // shrink
                (1, Gen.Constant((byte)4)),    // free everything
                (3, Gen.Constant((byte)5)))    // memory pressure: someone else takes a big buddy block
            from a in Gen.Choose(0, 1 << 24)
            from b in Gen.Choose(0, 1 << 24)
            select new Op { Kind = kind, A = a, B = b };

        public static Gen<Scenario> ScenarioGen(int opsMin, int opsMax) =>
            from size in Gen.Elements(8, 16, 32)
            from pcp in Gen.Elements(true, false)
            from poison in Gen.Elements(true, false)
            from maxEmpty in Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Constant(1)), (1, Gen.Constant(3)))
            from n in Gen.Choose(opsMin, opsMax)
            from ops in Gen.ArrayOf(OpGen, n)
            select new Scenario { SizeMiB = size, Pcp = pcp, Poison = poison, MaxEmpty = maxEmpty, Ops = ops };

        private sealed class NullSink : ITextSink
        {
            public void Write(string s) { }
            public void Write(char c) { }
        }

        /// <summary>Over all runs: allocations that failed for want of memory, slabs given back, large objects served (proof the paths ran).</summary>
        public static long NoMemory, SlabsFreed, Large;

        private struct Live { public IntPtr P; public ulong Size; public ulong Id; }

        /// <summary>A request size: mostly small, every class boundary, sometimes large, rarely too large.</summary>
        private static ulong SizeOf(int a, int b)
        {
            switch (a % 20)
            {
                case 0: return (ulong)(8192 + b % 60_000);                 // large: order 2 .. 4
                case 1: return a % 7 == 0 ? (4UL << 20) + 1 : (ulong)(b % (1 << 20)) + 8193;   // too large, or up to 1 MiB
                case 2: return (ulong)(b % 8192) + 1;                      // any cache size
                case 3: { uint[] edges = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 }; ulong e = edges[b % edges.Length]; return (b & 1) != 0 ? e : e + 1; }
                default: return (ulong)(b % 300) + 1;                      // small objects dominate
            }
        }

        private static unsafe void Fill(byte* p, ulong size, ulong id)
        {
            ulong seed = id * 0x9E3779B97F4A7C15UL + 1;
            ulong words = size / 8;
            for (ulong j = 0; j < words; j++) ((ulong*)p)[j] = seed + j;
            for (ulong j = words * 8; j < size; j++) p[j] = (byte)(seed + j);
        }

        private static unsafe bool Intact(byte* p, ulong size, ulong id)
        {
            ulong seed = id * 0x9E3779B97F4A7C15UL + 1;
            ulong words = size / 8;
            for (ulong j = 0; j < words; j++) if (((ulong*)p)[j] != seed + j) return false;
            for (ulong j = words * 8; j < size; j++) if (p[j] != (byte)(seed + j)) return false;
            return true;
        }

        private static unsafe bool AllZero(byte* p, ulong size)
        {
            for (ulong j = 0; j < size; j++) if (p[j] != 0) return false;
            return true;
        }

        /// <summary>Runs one scenario; throws on the first broken property; returns the operations run.</summary>
        public static unsafe int Run(Scenario sc)
        {
            using var r = new SlabRig((ulong)sc.SizeMiB, sc.Pcp, sc.Poison);
            var sink = new NullSink();
            r.Pa.Log = sink;
            r.Slab.Log = sink;
            r.Slab.MaxEmptySlabs = sc.MaxEmpty;
            ulong initialFree = r.FreePages;
            var live = new List<Live>();
            var pressure = new List<(ulong pfn, int order)>();
            var freed = new List<IntPtr>();   // recently freed slab objects, for double frees
            ulong nextId = 1;
            ulong foreignPfn = r.Pa.AllocPages(ref r.Task, Gfp.GFP_KERNEL, 1);   // a block that is not the heap's
            Require(foreignPfn != PageAllocator.NoPfn, "foreign block", sc, -1, r);

            for (int step = 0; step < sc.Ops.Length; step++)
            {
                Op op = sc.Ops[step];
                switch (op.Kind)
                {
                    case 0:
                    {
                        ulong size = SizeOf(op.A, op.B);
                        Gfp gfp = Gfps[op.A % Gfps.Length];
                        byte* p = (byte*)r.Slab.Alloc((nuint)size, gfp, ref r.Task, out SlabResult res);
                        if (size > SlabAllocator.MaxObjectSize) { Require(p == null && res == SlabResult.TooLarge, "too large refused", sc, step, r); break; }
                        if (p == null) { Require(res == SlabResult.NoMemory, "failure is NoMemory", sc, step, r); NoMemory++; break; }
                        if (size > SlabAllocator.MaxCacheSize) Large++;
                        Require(res == SlabResult.Ok, "Ok with a pointer", sc, step, r);
                        Require((ulong)(p - r.Pa.PageAddress(r.Pa.MinPfn)) % (size >= 16 ? 16UL : 8UL) == 0, "alignment", sc, step, r);
                        Require((ulong)r.Slab.SizeOf(p) >= size, "ksize covers the request", sc, step, r);
                        Require(AllZero(p, size), "zeroed", sc, step, r);
                        ulong id = nextId++;
                        Fill(p, size, id);
                        live.Add(new Live { P = (IntPtr)p, Size = size, Id = id });
                        freed.Remove((IntPtr)p);
                        break;
                    }
                    case 1:
                    {
                        if (live.Count == 0) break;
                        int k = op.A % live.Count;
                        Live o = live[k];
                        live[k] = live[^1];
                        live.RemoveAt(live.Count - 1);
                        Require(Intact((byte*)o.P, o.Size, o.Id), "object contents intact until its free", sc, step, r);
                        Require(r.Slab.Free((void*)o.P) == SlabResult.Ok, "free Ok", sc, step, r);
                        if (o.Size <= SlabAllocator.MaxCacheSize) { freed.Add(o.P); if (freed.Count > 64) freed.RemoveAt(0); }
                        break;
                    }
                    case 2:
                    {
                        ulong rejected = r.Slab.RejectedFrees;
                        SlabResult res;
                        switch (op.B % 4)
                        {
                            case 0:
                            {
                                // A pointer freed before, not covered by any live object now (its
                                // slab may be gone, or reused by another cache: still no object of ours).
                                if (freed.Count == 0) continue;
                                IntPtr q = freed[op.A % freed.Count];
                                bool covered = false;
                                foreach (var o in live) if ((ulong)q >= (ulong)o.P && (ulong)q < (ulong)o.P + (ulong)r.Slab.SizeOf((void*)o.P)) covered = true;
                                if (covered) continue;
                                res = r.Slab.Free((void*)q);
                                Require(res == SlabResult.DoubleFree || res == SlabResult.NotSlabObject || res == SlabResult.NotObjectBoundary,
                                    "double free refused (" + res + ")", sc, step, r);
                                break;
                            }
                            case 1:
                            {
                                if (live.Count == 0) continue;
                                Live o = live[op.A % live.Count];
                                ulong off = 1 + (ulong)op.B % (o.Size < 2 ? 1 : o.Size - 1);
                                if (off == 0 || off >= o.Size) off = 1;
                                res = r.Slab.Free((byte*)o.P + off);
                                Require(res == SlabResult.NotObjectBoundary || res == SlabResult.InteriorPointer,
                                    "interior pointer refused (" + res + ")", sc, step, r);
                                break;
                            }
                            case 2:
                                res = r.Slab.Free(r.Pa.PageAddress(foreignPfn) + (op.A % 8192));
                                Require(res == SlabResult.NotSlabObject, "foreign page refused", sc, step, r);
                                break;
                            default:
                            {
                                long local = 0;
                                res = r.Slab.Free(&local);
                                Require(res == SlabResult.NotManaged, "outside pointer refused", sc, step, r);
                                break;
                            }
                        }
                        Require(r.Slab.RejectedFrees == rejected + 1, "refusal counted", sc, step, r);
                        break;
                    }
                    case 3:
                        r.Slab.Shrink();
                        freed.Clear();
                        break;
                    case 4:
                        FreeAll(r, live, sc, step);
                        ReleasePressure(r, pressure, sc);
                        freed.Clear();
                        break;
                    default:
                    {
                        int order = 5 + op.A % 5;
                        ulong pfn = r.Pa.AllocPages(ref r.Task, Gfp.GFP_KERNEL | Gfp.NoWarn, order);
                        if (pfn != PageAllocator.NoPfn) pressure.Add((pfn, order));
                        break;
                    }
                }
                Check(r, sc, step, step % 64 == 0);
            }
            FreeAll(r, live, sc, sc.Ops.Length);
            ReleasePressure(r, pressure, sc);
            r.Slab.Shrink();
            Require(r.Pa.FreePages(foreignPfn, 1, r.Task.Pid) == MmResult.Ok, "foreign block freed", sc, -1, r);
            Check(r, sc, sc.Ops.Length, true);
            Require(r.FreePages == initialFree, "all freed and shrunk: free pages back to " + initialFree + ", are " + r.FreePages, sc, -1, r);
            Require(r.Slab.SlabPages == 0 && r.Slab.LargeObjects == 0, "no slab or large block left", sc, -1, r);
            for (int i = 0; i < SlabAllocator.CacheCount; i++) SlabsFreed += (long)r.Slab.Cache(i).SlabsFreed;
            return sc.Ops.Length;
        }

        private static void ReleasePressure(SlabRig r, List<(ulong pfn, int order)> pressure, Scenario sc)
        {
            foreach (var (pfn, order) in pressure) Require(r.Pa.FreePages(pfn, order, r.Task.Pid) == MmResult.Ok, "pressure block freed", sc, -1, r);
            pressure.Clear();
        }

        private static unsafe void FreeAll(SlabRig r, List<Live> live, Scenario sc, int step)
        {
            foreach (var o in live)
            {
                Require(Intact((byte*)o.P, o.Size, o.Id), "object contents intact until its free", sc, step, r);
                Require(r.Slab.Free((void*)o.P) == SlabResult.Ok, "free Ok", sc, step, r);
            }
            live.Clear();
        }

        private static void Check(SlabRig r, Scenario sc, int step, bool poison)
        {
            var s = new StringSink();
            bool ok = r.Slab.CheckInvariants(s);
            ok &= r.Pa.CheckInvariants(s, poison);
            if (!ok) Require(false, "checkers green", sc, step, r, s.ToString());
        }

        private static void Require(bool ok, string property, Scenario sc, int step, SlabRig r, string report = null)
        {
            if (ok) return;
            throw new Xunit.Sdk.XunitException("property broken: " + property + " at step " + step + " of " + sc +
                (step >= 0 && step < sc.Ops.Length ? " (op " + sc.Ops[step].Kind + ")" : "") + (report != null ? "\n" + report : ""));
        }

        public static long CheckAll(int scenarios, int opsMin, int opsMax, ulong defaultSeed)
        {
            return SeededProperty.Check(ScenarioGen(opsMin, opsMax), scenarios, defaultSeed, sc => Run(sc));
        }
    }

    public class SlabPropertyTests
    {
        [Fact]
        public void Random_kmalloc_kfree_sequences_keep_contents_and_every_invariant_and_return_every_page()
        {
            long noMemory = SlabProperties.NoMemory, slabsFreed = SlabProperties.SlabsFreed, large = SlabProperties.Large;
            long ops = SlabProperties.CheckAll(scenarios: 60, opsMin: 400, opsMax: 1200, defaultSeed: 8192);
            Assert.True(ops >= 30_000, "ran only " + ops + " operations");
            Assert.True(SlabProperties.NoMemory > noMemory, "no allocation ever failed for want of memory");
            Assert.True(SlabProperties.SlabsFreed - slabsFreed > 1000 && SlabProperties.Large - large > 1000,
                "slabs freed " + (SlabProperties.SlabsFreed - slabsFreed) + ", large objects " + (SlabProperties.Large - large));
        }
    }
}
