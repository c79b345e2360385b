using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using MemoryManager;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;
using MemoryManager.Gc;
using MemoryManager.Slab;
using MemoryManager.Tests.Slab;
using Xunit;

namespace MemoryManager.Tests.Gc
{
    /// <summary>
    /// Fake MethodTables in native memory, laid out as ilc lays them out: the GC descriptor in
    /// the words just before the MethodTable, then the flags word and the base size.
    /// </summary>
    public sealed unsafe class GcTypes : IDisposable
    {
        private readonly IntPtr _mem;
        private ulong _next;
        private readonly HashSet<ulong> _types = new HashSet<ulong>();

        /// <summary>No references: two data words (base 32).</summary>
        public readonly ulong Leaf;
        /// <summary>One series: references at +8, +16, +24; data at +32, +40 (base 56).</summary>
        public readonly ulong Node3;
        /// <summary>Two series: a reference at +8, data at +16 and +24, references at +32 and +40, data at +48 (base 64).</summary>
        public readonly ulong Split;
        /// <summary>object[]: length at +8, references from +16 (one series of size -24).</summary>
        public readonly ulong RefArray;
        /// <summary>An array of structs { object a; long data; object b; }: the repeating form, {1 pointer, skip 8}, {1 pointer, skip 0}.</summary>
        public readonly ulong StructArray;
        /// <summary>A string: component size 2, no references (base 22, like ilc's).</summary>
        public readonly ulong Chars;

        public GcTypes()
        {
            _mem = Marshal.AllocHGlobal(4096);
            new Span<byte>((void*)_mem, 4096).Clear();
            _next = ((ulong)_mem + 15) & ~15UL;
            Leaf = Add(32, 0, false, null);
            Node3 = Add(56, 0, false, new long[] { 24 - 56, 8, 1 });
            Split = Add(64, 0, false, new long[] { 16 - 64, 32, 8 - 64, 8, 2 });
            RefArray = Add(24, 8, true, new long[] { -24, 16, 1 });
            StructArray = Add(24, 24, true, new long[] { ValItem(1, 0), ValItem(1, 8), 16, -2 });
            Chars = Add(22, 2, true, null);
        }

        private static long ValItem(uint nptrs, uint skip) => (long)((ulong)nptrs | ((ulong)skip << 32));

        /// <summary>A MethodTable with <paramref name="desc"/> as the words before it (the last is the series count, at mt - 8).</summary>
        public ulong Add(uint baseSize, ushort componentSize, bool hasComponents, long[] desc)
        {
            int words = desc == null ? 0 : desc.Length;
            ulong mt = _next + (ulong)words * 8;
            for (int i = 0; i < words; i++) ((long*)(mt - (ulong)words * 8))[i] = desc[i];
            uint flags = componentSize;
            if (hasComponents) flags |= NativeAotLayout.HasComponentSizeFlag;
            if (desc != null) flags |= NativeAotLayout.HasPointersFlag;
            *(uint*)mt = flags;
            *(uint*)(mt + 4) = baseSize;
            _next = mt + 32;
            Assert.True(_next < (ulong)_mem + 4096);
            _types.Add(mt);
            return mt;
        }

        public bool IsType(ulong mt) => _types.Contains(mt);
        public void Dispose() => Marshal.FreeHGlobal(_mem);
    }

    /// <summary>
    /// A managed heap on the real slab (SlabRig): objects are kmalloc'd with the ilc layout
    /// (header word, MethodTable pointer, fields), a GcBitmap records which slab objects are
    /// managed (raw kmallocs are not), and a MarkSweep collects them. Counts frees per object
    /// and records every corruption report.
    /// </summary>
    public sealed unsafe class GcTestHeap : IGcObjectModel, IDisposable
    {
        public readonly SlabRig Rig;
        public readonly GcTypes Types = new GcTypes();
        public readonly MarkSweep Gc;
        public GcBitmap Managed;
        private readonly IntPtr _managedMem, _markMem, _stackMem;
        /// <summary>Per object address: frees since its (latest) allocation (0 or 1).</summary>
        public readonly Dictionary<ulong, int> Frees = new Dictionary<ulong, int>();
        public readonly List<(ulong obj, ulong header, ulong root, GcRootKind kind)> Corruptions = new List<(ulong, ulong, ulong, GcRootKind)>();
        public readonly ulong HeapStart, HeapEnd;
        /// <summary>Frees of objects, over the heap's life.</summary>
        public long FreedTotal;
        /// <summary>When false, Frees is not kept (the no-allocation test).</summary>
        public bool Record = true;

        public GcTestHeap(ulong sizeMiB = 16, ulong stackEntries = 4096, int maxEmptySlabs = 1, bool poison = false)
        {
            Rig = new SlabRig(sizeMiB, pcp: true, poison: poison);
            Rig.Slab.MaxEmptySlabs = maxEmptySlabs;
            HeapStart = (ulong)Rig.Pa.PageAddress(Rig.Pa.MinPfn);
            HeapEnd = HeapStart + ((Rig.Pa.MaxPfn - Rig.Pa.MinPfn) << MmConstants.PageShift);
            ulong bytes = GcBitmap.BytesFor(HeapEnd - HeapStart, MarkSweep.DefaultGranuleShift);
            _managedMem = Marshal.AllocHGlobal((nint)bytes);
            Assert.True(GcBitmap.Create(HeapStart, HeapEnd, MarkSweep.DefaultGranuleShift, (ulong*)_managedMem, bytes, out Managed));
            ulong markBytes = MarkSweep.MarkBitsBytes(HeapEnd - HeapStart);
            _markMem = Marshal.AllocHGlobal((nint)markBytes);
            _stackMem = Marshal.AllocHGlobal((nint)(stackEntries * 8));
            Assert.Equal(GcResult.Ok, MarkSweep.Create(this, HeapStart, HeapEnd, (ulong*)_markMem, markBytes, (ulong*)_stackMem, stackEntries, out Gc));
        }

        /// <summary>A managed object of type <paramref name="mt"/> (and <paramref name="length"/> elements for arrays): its reference.</summary>
        public ulong New(ulong mt, int length = 0)
        {
            ulong size = *(uint*)(mt + 4);
            uint flags = *(uint*)mt;
            if ((flags & NativeAotLayout.HasComponentSizeFlag) != 0) size += (ulong)length * (flags & 0xFFFF);
            size = (size + 7) & ~7UL;
            byte* p = (byte*)Rig.Slab.Alloc((nuint)size, Gfp.GFP_KERNEL, ref Rig.Task, out SlabResult r);
            Assert.Equal(SlabResult.Ok, r);
            ulong obj = (ulong)p + 8;
            *(ulong*)obj = mt;
            if ((flags & NativeAotLayout.HasComponentSizeFlag) != 0) *(int*)(obj + 8) = length;
            Assert.False(Managed.TestAndSet(obj));
            if (Record) Frees[obj] = 0;
            return obj;
        }

        /// <summary>A raw kmalloc block (not a managed object): the collector must never free it.</summary>
        public ulong NewRaw(ulong size) => (ulong)Rig.Alloc(size);

        /// <summary>The object's size as the collector computes it.</summary>
        public ulong SizeOf(ulong obj) { Assert.True(Describe(obj, out ulong s, out _)); return s; }

        /// <summary>Runs a whole collection with <paramref name="roots"/> as a conservatively scanned range (may be empty).</summary>
        public GcCycleStats Collect(ulong* roots, int count)
        {
            Gc.Begin();
            if (count > 0) Gc.ScanRange((ulong)roots, (ulong)(roots + count), GcRootKind.Stack);
            return Gc.Finish();
        }

        public GcCycleStats Collect(params ulong[] roots)
        {
            fixed (ulong* r = roots) return Collect(r, roots.Length);
        }

        public bool IsLive(ulong obj) => Managed.Test(obj) && Rig.Slab.SizeOf((void*)(obj - 8)) != 0;

        // ---- IGcObjectModel ----

        public ulong ObjectContaining(ulong address)
        {
            byte* start = (byte*)Rig.Slab.ObjectContaining((void*)address, out nuint _);
            if (start == null) return 0;
            ulong obj = (ulong)start + 8;
            return Managed.Test(obj) ? obj : 0;
        }

        public bool Describe(ulong obj, out ulong size, out ulong descriptor)
        {
            ulong mt = *(ulong*)obj;
            size = 0; descriptor = 0;
            if (!Types.IsType(mt)) return false;
            return NativeAotLayout.Describe(obj, mt, out size, out descriptor);
        }

        public ulong NextObject(ulong after)
        {
            ulong g = Managed.NextSet(after == 0 ? 0 : (after | 15) + 1);
            return g == 0 ? 0 : g + 8;
        }

        public ulong Free(ulong obj)
        {
            // Plain checks: xunit's Assert.Equal allocates, and a collection must not.
            if (!Managed.TestAndClear(obj)) throw new Xunit.Sdk.XunitException("the collector freed 0x" + obj.ToString("x") + ", which is not a managed object");
            if (Record)
            {
                if (!Frees.TryGetValue(obj, out int n) || n != 0) throw new Xunit.Sdk.XunitException("object 0x" + obj.ToString("x") + " freed twice in one lifetime");
                Frees[obj] = 1;
                FreedTotal++;
            }
            SlabResult r = Rig.Slab.Free((void*)(obj - 8), out nuint freed);
            if (r != SlabResult.Ok) throw new Xunit.Sdk.XunitException("the slab refused the free of 0x" + obj.ToString("x") + ": " + r);
            return freed;
        }

        public void Corrupt(ulong obj, ulong header, ulong root, GcRootKind kind) => Corruptions.Add((obj, header, root, kind));

        public void Dispose()
        {
            Marshal.FreeHGlobal(_managedMem);
            Marshal.FreeHGlobal(_markMem);
            Marshal.FreeHGlobal(_stackMem);
            Types.Dispose();
            Rig.Dispose();
        }
    }
}
