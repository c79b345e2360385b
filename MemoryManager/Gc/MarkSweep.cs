using System.Runtime.CompilerServices;

namespace MemoryManager.Gc
{
    /// <summary>Why <see cref="MarkSweep.Create"/> refused.</summary>
    public enum GcResult : byte
    {
        Ok = 0,
        /// <summary>No object model.</summary>
        NoModel,
        /// <summary>The mark bitmap memory is missing or too small for the heap range.</summary>
        MarkBitsTooSmall,
        /// <summary>The mark stack memory is missing or holds no entry.</summary>
        NoMarkStack,
    }

    /// <summary>The figures of one collection.</summary>
    public struct GcCycleStats
    {
        /// <summary>Words of stacks and data read as possible references, and how many of them pointed into a live managed object.</summary>
        public ulong WordsScanned, RootsFound;
        /// <summary>Objects the marker reached (each once).</summary>
        public ulong MarkedObjects;
        /// <summary>After the sweep: objects left and their bytes (object sizes).</summary>
        public ulong LiveObjects, LiveBytes;
        /// <summary>Objects the sweep freed and the bytes the heap got back (usable sizes).</summary>
        public ulong FreedObjects, FreedBytes;
        /// <summary>Times the mark stack was full when an object had to go on it, and rescans of the heap that made up for it.</summary>
        public ulong Overflows, Rescans;
        /// <summary>Objects whose header or descriptor could not be read.</summary>
        public ulong Corrupt;
        /// <summary>The deepest the mark stack went.</summary>
        public ulong MaxDepth;
    }

    /// <summary>
    /// A stop-the-world mark-sweep collector over any heap that answers
    /// <see cref="IGcObjectModel"/>. Roots come in as ranges scanned conservatively (every
    /// aligned word that points into a live managed object, interior pointers included) or as
    /// single words; heap objects are scanned precisely through their GC descriptor (the
    /// series form and the array-of-structs form of NativeAOT's gcdesc). Mark bits (one per
    /// granule of the heap range) and a bounded mark stack live in memory given at
    /// <see cref="Create"/>: a collection allocates nothing. When the mark stack is full the
    /// object stays marked but unscanned and the marker later rescans the marked objects in
    /// the overflowed address range until no overflow is left.
    ///
    /// Use: <see cref="Begin"/>, then roots (<see cref="ScanRange"/>, <see cref="MarkRoot"/>),
    /// then <see cref="Finish"/> (completes marking and sweeps). docs/gc.md.
    /// </summary>
    public sealed unsafe class MarkSweep
    {
        /// <summary>Bytes of the object header before the reference (NativeAOT's ObjHeader): the array-of-structs walk ends at reference + size - this.</summary>
        public const ulong HeaderBytes = 8;
        /// <summary>Granule of the mark bits: managed objects start 16 bytes apart at least.</summary>
        public const int DefaultGranuleShift = 4;

        private readonly IGcObjectModel _model;
        private GcBitmap _marks;
        private readonly ulong* _stack;
        private readonly ulong _capacity;
        private ulong _top;
        private bool _overflowed;
        private ulong _overflowLo, _overflowHi;
        private ulong _markedLo, _markedHi;
        private ulong _root;
        private GcRootKind _rootKind;
        private bool _inCycle;

        /// <summary>The current (or last) collection's figures.</summary>
        public GcCycleStats Cycle;
        /// <summary>Collections finished, and totals over them.</summary>
        public ulong Collections, TotalFreedObjects, TotalFreedBytes, TotalOverflows;

        private MarkSweep(IGcObjectModel model, GcBitmap marks, ulong* stack, ulong capacity)
        {
            _model = model;
            _marks = marks;
            _stack = stack;
            _capacity = capacity;
            _markedLo = 0xFFFFFFFFFFFFFFFFUL;
        }

        /// <summary>
        /// A collector for objects in [<paramref name="heapStart"/>, <paramref name="heapEnd"/>):
        /// mark bits in <paramref name="markBytes"/> bytes at <paramref name="markBits"/> (see
        /// <see cref="MarkBitsBytes"/>), a mark stack of <paramref name="stackEntries"/> words at
        /// <paramref name="stack"/>. Set-up time only (it creates the collector object).
        /// </summary>
        public static GcResult Create(IGcObjectModel model, ulong heapStart, ulong heapEnd, ulong* markBits, ulong markBytes,
            ulong* stack, ulong stackEntries, out MarkSweep collector)
        {
            collector = null;
            if (model == null) return GcResult.NoModel;
            ulong start = heapStart & ~((1UL << DefaultGranuleShift) - 1);
            if (!GcBitmap.Create(start, heapEnd, DefaultGranuleShift, markBits, markBytes, out GcBitmap marks)) return GcResult.MarkBitsTooSmall;
            if (stack == null || stackEntries == 0) return GcResult.NoMarkStack;
            collector = new MarkSweep(model, marks, stack, stackEntries);
            return GcResult.Ok;
        }

        /// <summary>Bytes of mark bits a heap range of <paramref name="spanBytes"/> needs.</summary>
        public static ulong MarkBitsBytes(ulong spanBytes) => GcBitmap.BytesFor(spanBytes + (1UL << DefaultGranuleShift), DefaultGranuleShift);

        /// <summary>Entries of the mark stack.</summary>
        public ulong StackCapacity => _capacity;

        /// <summary>True between <see cref="Begin"/> and <see cref="Finish"/>.</summary>
        public bool InCollection => _inCycle;

        /// <summary>Was <paramref name="obj"/> marked in this (or the last) collection?</summary>
        public bool IsMarked(ulong obj) => _marks.Test(obj);

        /// <summary>Starts a collection: the mark bits of the last one are cleared, the figures reset.</summary>
        public void Begin()
        {
            if (_markedLo <= _markedHi) _marks.ClearRange(_markedLo, _markedHi);
            _markedLo = 0xFFFFFFFFFFFFFFFFUL;
            _markedHi = 0;
            _top = 0;
            _overflowed = false;
            _overflowLo = 0xFFFFFFFFFFFFFFFFUL;
            _overflowHi = 0;
            Cycle = default;
            _inCycle = true;
        }

        /// <summary>
        /// Scans [<paramref name="start"/>, <paramref name="end"/>) conservatively: every 8-byte
        /// aligned word that points into a live managed object marks it (and what it reaches).
        /// </summary>
        public void ScanRange(ulong start, ulong end, GcRootKind kind)
        {
            start = (start + 7) & ~7UL;
            for (ulong p = start; p + 8 <= end; p += 8)
            {
                Cycle.WordsScanned++;
                ulong v = *(ulong*)p;
                if (!_marks.Covers(v)) continue;   // the cheap test first: most words are not heap addresses
                MarkRoot(v, p, kind);
            }
        }

        /// <summary>
        /// A root object outside the collected heap (never swept, never marked: e.g. one made
        /// before the heap existed): its reference fields are marked precisely, through its GC
        /// descriptor, with everything they reach. <paramref name="obj"/> must be described by the model.
        /// </summary>
        public void ScanRootObject(ulong obj, GcRootKind kind)
        {
            _root = obj;
            _rootKind = kind;
            ScanObject(obj);
            Drain();
        }

        /// <summary>One possible reference <paramref name="value"/> (found at <paramref name="where"/>, for reports): marks its object and everything it reaches.</summary>
        public void MarkRoot(ulong value, ulong where, GcRootKind kind)
        {
            ulong obj = _model.ObjectContaining(value);
            if (obj == 0) return;
            Cycle.RootsFound++;
            _root = where;
            _rootKind = kind;
            Mark(obj);
            Drain();
        }

        /// <summary>Completes the marking (rescans after overflows) and sweeps: every managed object not marked is freed. Returns the figures.</summary>
        public GcCycleStats Finish()
        {
            while (_overflowed)
            {
                _overflowed = false;
                ulong lo = _overflowLo, hi = _overflowHi;
                _overflowLo = 0xFFFFFFFFFFFFFFFFUL;
                _overflowHi = 0;
                Cycle.Rescans++;
                _root = 0;
                _rootKind = GcRootKind.Rescan;
                for (ulong o = _marks.NextSet(lo); o != 0 && o <= hi; o = _marks.NextSet(o + (1UL << DefaultGranuleShift)))
                {
                    ulong obj = _model.ObjectContaining(o + HeaderBytes);   // the bit is the reference's granule
                    if (obj == 0 || !_marks.Test(obj)) continue;
                    ScanObject(obj);
                    Drain();
                }
            }
            Sweep();
            _inCycle = false;
            Collections++;
            TotalFreedObjects += Cycle.FreedObjects;
            TotalFreedBytes += Cycle.FreedBytes;
            TotalOverflows += Cycle.Overflows;
            return Cycle;
        }

        private void Sweep()
        {
            ulong obj = _model.NextObject(0);
            while (obj != 0)
            {
                ulong next = _model.NextObject(obj);
                if (_marks.Test(obj))
                {
                    Cycle.LiveObjects++;
                    if (_model.Describe(obj, out ulong size, out ulong _)) Cycle.LiveBytes += size;
                }
                else
                {
                    Cycle.FreedObjects++;
                    Cycle.FreedBytes += _model.Free(obj);
                }
                obj = next;
            }
        }

        /// <summary>Sets the mark bit; an object newly marked goes on the mark stack, or, when it is full, into the overflow range.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Mark(ulong obj)
        {
            if (_marks.TestAndSet(obj)) return;
            Cycle.MarkedObjects++;
            if (obj < _markedLo) _markedLo = obj;
            if (obj > _markedHi) _markedHi = obj;
            if (_top < _capacity)
            {
                _stack[_top++] = obj;
                if (_top > Cycle.MaxDepth) Cycle.MaxDepth = _top;
                return;
            }
            Cycle.Overflows++;
            _overflowed = true;
            ulong bit = obj & ~((1UL << DefaultGranuleShift) - 1);
            if (bit < _overflowLo) _overflowLo = bit;
            if (obj > _overflowHi) _overflowHi = obj;
        }

        private void Drain()
        {
            while (_top > 0) ScanObject(_stack[--_top]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void MarkField(ulong v)
        {
            if (v == 0 || !_marks.Covers(v)) return;
            ulong obj = _model.ObjectContaining(v);
            if (obj != 0) Mark(obj);
        }

        /// <summary>Marks what the object's reference fields point at, as its GC descriptor lists them.</summary>
        private void ScanObject(ulong obj)
        {
            if (!_model.Describe(obj, out ulong size, out ulong desc)) { BadObject(obj); return; }
            if (desc == 0) return;
            long series = *(long*)(desc - 8);
            ulong end = obj - HeaderBytes + size;   // just past the object
            if (series > 0)
            {
                // Series from the highest in memory down: {size - object size, offset} pairs.
                ulong s = desc - 24;
                for (long k = 0; k < series; k++, s -= 16)
                {
                    ulong bytes = *(ulong*)s + size;
                    ulong from = obj + *(ulong*)(s + 8);
                    if (from < obj + 8 || from > end || bytes > end - from || (bytes & 7) != 0) { BadObject(obj); return; }
                    for (ulong p = from; p < from + bytes; p += 8) MarkField(*(ulong*)p);
                }
            }
            else if (series < 0)
            {
                // Array of structs: from the offset, each element is runs of {pointers, bytes to skip}.
                ulong p = obj + *(ulong*)(desc - 16);
                if (p < obj + 8 || p > end) { BadObject(obj); return; }
                ulong step = 0;
                for (long i = 0; i > series; i--)
                {
                    uint* item = (uint*)(desc - 24 + (ulong)(i * 8));
                    step += (ulong)item[0] * 8 + item[1];
                }
                if (step == 0 || (step & 7) != 0) { BadObject(obj); return; }
                while (p + step <= end)
                {
                    for (long i = 0; i > series; i--)
                    {
                        uint* item = (uint*)(desc - 24 + (ulong)(i * 8));
                        for (uint j = 0; j < item[0]; j++, p += 8) MarkField(*(ulong*)p);
                        p += item[1];
                    }
                }
            }
        }

        private void BadObject(ulong obj)
        {
            Cycle.Corrupt++;
            _model.Corrupt(obj, *(ulong*)obj, _root, _rootKind);
        }
    }
}
