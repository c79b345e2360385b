using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using FsCheck;
using FsCheck.Fluent;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Gc;
using MemoryManager.Slab;
using Xunit;

namespace MemoryManager.Tests.Gc
{
    /// <summary>
    /// FsCheck-driven random object graphs and root sets on the real slab. Each scenario picks a
    /// heap, a mark stack (down to one entry, so overflow rescans run) and a number of rounds;
    /// each round (one graph) allocates objects of every shape (plain, one and two series,
    /// arrays of references small and large, arrays of structs, strings) and raw blocks, wires
    /// references at random (also to survivors of earlier rounds), writes object addresses
    /// into data words (a precise scan ignores them), and fills a root range with exact,
    /// interior and junk words. An oracle independent of the collector (the test's own list of
    /// blocks and references) computes what is reachable. After the collection: every reachable
    /// object survives byte for byte, every unreachable one is freed exactly once, raw blocks
    /// are untouched, the slab and buddy checkers are green. At the end, a collection with no
    /// roots frees everything and the free pages are back. Fixed seed; MM_PROPERTY_SEED=&lt;n&gt;.
    /// </summary>
    public static class GcProperties
    {
        public sealed class Scenario
        {
            public int SizeMiB, StackEntries, MaxEmpty;
            public int[][] Rounds;
            public override string ToString() => "heap " + SizeMiB + " MiB, mark stack " + StackEntries + ", max empty " + MaxEmpty + ", " + Rounds.Length + " rounds";
        }

        public static Gen<Scenario> ScenarioGen(int roundsMin, int roundsMax) =>
            from size in Gen.Elements(8, 16)
            from stack in Gen.Elements(1, 2, 3, 8, 64, 4096)
            from maxEmpty in Gen.Elements(0, 1)
            from n in Gen.Choose(roundsMin, roundsMax)
            from rounds in Gen.ArrayOf(Gen.ArrayOf(Gen.Choose(0, int.MaxValue), 48), n)
            select new Scenario { SizeMiB = size, StackEntries = stack, MaxEmpty = maxEmpty, Rounds = rounds };

        /// <summary>Totals over all runs (proof that each path ran).</summary>
        public static long Graphs, Overflows, Interior, Large, Freed, Survived;

        private sealed class Obj
        {
            public ulong Ref, Start, Usable, Size;
            public bool Raw;
            public readonly List<Obj> Refs = new List<Obj>();
            public byte[] Image;
            public bool Reached;
        }

        /// <summary>A deterministic stream of choices from the round's generated numbers.</summary>
        private sealed class Choices
        {
            private readonly int[] _v;
            private int _i;
            private ulong _x;
            public Choices(int[] v) { _v = v; _i = 0; _x = 0x9E3779B97F4A7C15UL; }
            public int Next(int bound)
            {
                _x ^= (ulong)_v[_i++ % _v.Length] + 0x632BE59BD9B4E019UL;
                _x *= 0xBF58476D1CE4E5B9UL;
                _x ^= _x >> 31;
                return bound <= 1 ? 0 : (int)(_x % (ulong)bound);
            }
        }

        public static unsafe long Run(Scenario sc)
        {
            using var h = new GcTestHeap((ulong)sc.SizeMiB, (ulong)sc.StackEntries, sc.MaxEmpty);
            h.Rig.Slab.Log = null;
            h.Rig.Pa.Log = null;
            ulong initialFree = h.Rig.FreePages;
            var live = new List<Obj>();
            IntPtr rootMem = Marshal.AllocHGlobal(64 * 8);
            ulong* roots = (ulong*)rootMem;
            try
            {
                for (int round = 0; round < sc.Rounds.Length; round++)
                {
                    var ch = new Choices(sc.Rounds[round]);
                    var fresh = new List<Obj>();
                    int count = ch.Next(40);
                    for (int i = 0; i < count; i++)
                    {
                        Obj o = NewObject(h, ch);
                        if (o == null) break;   // the heap is full: collect what we have
                        fresh.Add(o);
                    }
                    live.AddRange(fresh);
                    var managed = live.FindAll(o => !o.Raw);
                    // References: each reference word of a fresh object points at a random managed object, or null.
                    foreach (Obj o in fresh) if (!o.Raw) Wire(h, o, managed, ch);
                    // Old objects sometimes get a new reference too.
                    for (int k = ch.Next(4); k > 0 && managed.Count > 0; k--) Wire(h, managed[ch.Next(managed.Count)], managed, ch);
                    foreach (Obj o in live) o.Image = Snapshot(o);

                    int nroots = ch.Next(64);
                    for (int r = 0; r < nroots; r++) roots[r] = RootWord(h, live, ch);

                    // The oracle: words inside a live managed object's block are roots; references are followed.
                    foreach (Obj o in live) o.Reached = false;
                    var work = new Stack<Obj>();
                    for (int r = 0; r < nroots; r++)
                    {
                        Obj o = Containing(live, roots[r]);
                        if (o != null && !o.Raw && !o.Reached) { o.Reached = true; work.Push(o); }
                    }
                    while (work.Count > 0) foreach (Obj t in work.Pop().Refs) if (!t.Reached) { t.Reached = true; work.Push(t); }

                    GcCycleStats s = h.Collect(roots, nroots);
                    long reached = 0, dead = 0;
                    foreach (Obj o in live)
                    {
                        if (o.Raw || o.Reached)
                        {
                            Require(o.Raw || h.IsLive(o.Ref), "a reachable object survives", sc, round);
                            Require(o.Raw == !h.Managed.Test(o.Ref), "raw blocks stay raw", sc, round);
                            Require(h.Rig.Slab.SizeOf((void*)o.Start) == (nuint)o.Usable, "survivor still allocated", sc, round);
                            Require(Same(o.Image, Snapshot(o)), "a survivor's contents are intact", sc, round);
                            if (!o.Raw) reached++;
                        }
                        else
                        {
                            Require(!h.Managed.Test(o.Ref) && h.Frees.TryGetValue(o.Ref, out int n) && n == 1, "an unreachable object is freed once", sc, round);
                            dead++;
                        }
                    }
                    Require(s.LiveObjects == (ulong)reached && s.FreedObjects == (ulong)dead, "the collector's counts match the oracle (live " + s.LiveObjects + " vs " + reached + ", freed " + s.FreedObjects + " vs " + dead + ")", sc, round);
                    Require(h.Corruptions.Count == 0 && h.Rig.Slab.RejectedFrees == 0, "no corruption, no refused free", sc, round);
                    live.RemoveAll(o => !o.Raw && !o.Reached);
                    // Raw blocks are the test's to free.
                    for (int k = live.Count - 1; k >= 0; k--)
                        if (live[k].Raw && ch.Next(3) == 0) { h.Rig.Free((void*)live[k].Start); live.RemoveAt(k); }
                    var sink = new StringSink();
                    bool ok = h.Rig.Slab.CheckInvariants(sink) & h.Rig.Pa.CheckInvariants(sink, false);
                    Require(ok, "the slab and buddy checkers are green", sc, round, sink.ToString());
                    Graphs++;
                    Overflows += (long)s.Overflows;
                    Freed += (long)s.FreedObjects;
                    Survived += reached;
                }
                foreach (Obj o in live) if (o.Raw) h.Rig.Free((void*)o.Start);
                GcCycleStats last = h.Collect();
                Require(last.LiveObjects == 0 && h.Managed.Count() == 0, "a collection without roots frees everything", sc, -1);
                h.Rig.Slab.Shrink();
                Require(h.Rig.FreePages == initialFree, "every page is back (" + h.Rig.FreePages + " of " + initialFree + ")", sc, -1);
            }
            finally { Marshal.FreeHGlobal(rootMem); }
            return sc.Rounds.Length;
        }

        private static unsafe Obj NewObject(GcTestHeap h, Choices ch)
        {
            GcTypes t = h.Types;
            ulong mt; int len = 0;
            switch (ch.Next(9))
            {
                case 0: mt = t.Leaf; break;
                case 1: case 2: mt = t.Node3; break;
                case 3: mt = t.Split; break;
                case 4: mt = t.RefArray; len = ch.Next(20) == 0 ? 1025 + ch.Next(400) : ch.Next(12); break;
                case 5: mt = t.StructArray; len = ch.Next(9); break;
                case 6: mt = t.Chars; len = ch.Next(5000); break;
                case 7: mt = 0; len = 1 + ch.Next(300); break;   // a raw block
                default: mt = t.Node3; break;
            }
            if (mt == 0)
            {
                byte* p = (byte*)h.Rig.Slab.Alloc((nuint)len, Gfp.GFP_KERNEL | Gfp.NoWarn, ref h.Rig.Task, out SlabResult r);
                if (p == null) return null;
                for (int i = 0; i < len; i++) p[i] = (byte)(ch.Next(256));
                return new Obj { Ref = (ulong)p + 8, Start = (ulong)p, Usable = (ulong)h.Rig.Slab.SizeOf(p), Size = (ulong)len, Raw = true };
            }
            ulong size = *(uint*)(mt + 4);
            uint flags = *(uint*)mt;
            if ((flags & NativeAotLayout.HasComponentSizeFlag) != 0) size += (ulong)len * (flags & 0xFFFF);
            size = (size + 7) & ~7UL;
            ulong free = h.Rig.FreePages;
            if (free < 64 + (size >> 12) * 2) return null;   // leave the heap room: a full heap is not what this checks
            ulong obj = h.New(mt, len);
            if (size > SlabAllocator.MaxCacheSize) Large++;
            var o = new Obj { Ref = obj, Start = obj - 8, Usable = (ulong)h.Rig.Slab.SizeOf((void*)(obj - 8)), Size = size };
            // Data words: a pattern, or now and then the address of some block (a precise scan must ignore it).
            ForEachWord(h, o, isRef: false, (ulong* w) => *w = ch.Next(4) == 0 ? 0x4000_0000_0000UL | (ulong)(uint)ch.Next(int.MaxValue) : (ulong)(uint)ch.Next(int.MaxValue) * 16 + 0xAB);
            if (mt == t.Chars) for (int i = 0; i < len; i++) *(ushort*)(obj + 12 + 2 * (ulong)i) = (ushort)ch.Next(65536);
            return o;
        }

        private unsafe delegate void WordAction(ulong* w);

        /// <summary>Visits the reference words (or the data words) of a managed object, as its type lays them out.</summary>
        private static unsafe void ForEachWord(GcTestHeap h, Obj o, bool isRef, WordAction act)
        {
            GcTypes t = h.Types;
            ulong obj = o.Ref, mt = *(ulong*)obj;
            int len = *(int*)(obj + 8);
            if (mt == t.Leaf) { if (!isRef) { act((ulong*)(obj + 8)); act((ulong*)(obj + 16)); } }
            else if (mt == t.Node3) { if (isRef) for (ulong k = 0; k < 3; k++) act((ulong*)(obj + 8 + 8 * k)); else { act((ulong*)(obj + 32)); act((ulong*)(obj + 40)); } }
            else if (mt == t.Split)
            {
                ulong[] refs = { 8, 32, 40 }, data = { 16, 24, 48 };
                foreach (ulong off in isRef ? refs : data) act((ulong*)(obj + off));
            }
            else if (mt == t.RefArray) { if (isRef) for (int i = 0; i < len; i++) act((ulong*)(obj + 16 + 8 * (ulong)i)); }
            else if (mt == t.StructArray)
                for (int i = 0; i < len; i++)
                {
                    ulong e = obj + 16 + 24 * (ulong)i;
                    if (isRef) { act((ulong*)e); act((ulong*)(e + 16)); } else act((ulong*)(e + 8));
                }
        }

        private static unsafe void Wire(GcTestHeap h, Obj o, List<Obj> managed, Choices ch)
        {
            var refs = new List<ulong>();
            Choices c = ch;
            ForEachWord(h, o, isRef: true, (ulong* w) =>
            {
                Obj target = c.Next(3) == 0 || managed.Count == 0 ? null : managed[c.Next(managed.Count)];
                *w = target == null ? 0 : target.Ref;
            });
            ch = c;
            o.Refs.Clear();
            ForEachWord(h, o, isRef: true, (ulong* w) => { if (*w != 0) o.Refs.Add(managed.Find(m => m.Ref == *w)); });
        }

        private static ulong RootWord(GcTestHeap h, List<Obj> live, Choices ch)
        {
            switch (ch.Next(6))
            {
                case 0: case 1: return live.Count == 0 ? 0 : live[ch.Next(live.Count)].Ref;
                case 2:
                {
                    if (live.Count == 0) return 0;
                    Obj o = live[ch.Next(live.Count)];
                    Interior++;
                    return o.Start + (ulong)ch.Next((int)o.Usable);   // anywhere in the block, header included
                }
                case 3: return (ulong)ch.Next(1 << 20);                                   // a small number
                case 4: return h.HeapStart + (ulong)ch.Next((int)(h.HeapEnd - h.HeapStart)); // any heap address: free, raw or live
                default: return ch.Next(2) == 0 ? h.HeapEnd + (ulong)ch.Next(1 << 20) : h.HeapStart - 8 - (ulong)ch.Next(1 << 20);
            }
        }

        private static Obj Containing(List<Obj> live, ulong a)
        {
            foreach (Obj o in live) if (a >= o.Start && a < o.Start + o.Usable) return o;
            return null;
        }

        private static unsafe byte[] Snapshot(Obj o) => new ReadOnlySpan<byte>((void*)o.Start, (int)(o.Raw ? o.Size : o.Size)).ToArray();

        private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

        private static void Require(bool ok, string property, Scenario sc, int round, string report = null)
        {
            if (ok) return;
            throw new Xunit.Sdk.XunitException("property broken: " + property + " in round " + round + " of " + sc + (report != null ? "\n" + report : ""));
        }

        public static long CheckAll(int scenarios, int roundsMin, int roundsMax, ulong seed)
            => SeededProperty.Check(ScenarioGen(roundsMin, roundsMax), scenarios, seed, sc => Run(sc));
    }

    public class GcPropertyTestsPart1
    {
        [Fact]
        public void Random_object_graphs_and_root_sets_keep_the_reachable_intact_and_free_the_rest_part_1()
        {
            long overflows = GcProperties.Overflows, interior = GcProperties.Interior, large = GcProperties.Large;
            long graphs = GcProperties.CheckAll(scenarios: 250, roundsMin: 150, roundsMax: 250, seed: 1010);
            Assert.True(graphs >= 50_000, "ran only " + graphs + " graphs");
            Assert.True(GcProperties.Overflows > overflows && GcProperties.Interior > interior && GcProperties.Large > large,
                "overflows, interior roots and large objects must all occur");
        }
    }

    public class GcPropertyTestsPart2
    {
        [Fact]
        public void Random_object_graphs_and_root_sets_keep_the_reachable_intact_and_free_the_rest_part_2()
        {
            long graphs = GcProperties.CheckAll(scenarios: 250, roundsMin: 150, roundsMax: 250, seed: 2026);
            Assert.True(graphs >= 50_000, "ran only " + graphs + " graphs");
        }
    }
}
