using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace Kernel.Core.Runtime
{
    /// <summary>
    /// What boot/eh.asm's funclet stub keeps at [rsp] while a funclet runs: the parent frame's
    /// context, so that the unwinder can step from a funclet straight to the frame that owns it,
    /// and what the funclet is handling (`throw;` reads the exception of the nearest catch).
    /// </summary>
    public unsafe struct FuncletRecord
    {
        public EhContext Parent;
        public object Exception;
        public uint ClauseIndex;
        public int Kind;            // FuncletCatch, FuncletFinally, FuncletFilter
        public bool ParentExact;
    }

    /// <summary>
    /// Two-pass exception dispatch over ilc's output (docs/exceptions.md): the first pass walks
    /// the frames from the throw site, asking typed clauses (by type, with inheritance) and
    /// filters (run once, here) for a handler; the second pass walks the same frames again,
    /// running fault and finally funclets up to the handler, then calls the catch funclet and
    /// resumes its frame where the funclet says. No allocation anywhere in the dispatcher: it
    /// works out of memory. An exception no frame catches goes to <see cref="UnhandledHandler"/>
    /// (or is a panic).
    /// </summary>
    public static unsafe class ExceptionDispatch
    {
        public const int KindThrow = 0, KindRethrow = 1, KindHardware = 2;
        public const int FuncletCatch = 0, FuncletFinally = 1, FuncletFilter = 2;
        private const int ClauseTyped = 0, ClauseFault = 1, ClauseFilter = 2;
        private const uint NoIndex = 0xFFFFFFFF;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_call_funclet")]
        private static extern ulong CallFunclet(ulong funclet, object arg, EhContext* parent, FuncletRecord* record);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kernel_resume")]
        private static extern void Resume(EhContext* context, ulong rip);

        /// <summary>
        /// Told about an exception that no frame catches, with the throw site's context; it
        /// reports it and ends the task, or panics. Unset: a panic naming the exception.
        /// </summary>
        public static delegate*<Exception, EhContext*, void> UnhandledHandler;

        /// <summary>Bounds of the stack in use (a task's stack or the boot stack), for the unwinder's sanity checks. Set by the HAL.</summary>
        public static delegate*<ulong*, void> StackBounds;

        /// <summary>Exceptions dispatched, and how many were caught (since boot).</summary>
        public static ulong Thrown, Caught;

        private static int s_depth;

        /// <summary>Entered from RhpThrowEx / RhpRethrow (boot/eh.asm) and from a CPU fault that becomes an exception.</summary>
        [RuntimeExport("kernel_dispatch_exception")]
        public static void Dispatch(object thrown, int kind, EhContext* throwSite)
        {
            EhContext site = *throwSite;
            Exception ex;
            if (kind == KindRethrow)
            {
                ex = FindRethrowTarget(site);
                if (ex == null) Panic.Fail("throw; outside a catch handler (no catch funclet is running)");
            }
            else
            {
                ex = thrown as Exception;
                if (ex == null) Panic.Fail(thrown == null ? "throw null" : "throw of an object that is not a System.Exception");
                ex.ResetTrace();
            }
            Thrown++;
            if (Panic.InProgress) Panic.Fail(Describe("exception thrown during a panic: ", ex));
            if (++s_depth > 64) Panic.Fail(Describe("exceptions nested 64 deep (an exception in every handler?): ", ex));

            ulong* bounds = stackalloc ulong[2];
            GetBounds(bounds);

            // ---- pass 1: find the handler
            FrameCursor it = default;
            it.Ctx = site; it.Exact = kind == KindHardware; it.IdxStart = NoIndex;
            int frame = 0, handlerFrame = -1;
            uint handlerIdx = NoIndex;
            ulong handler = 0;
            bool landing = false;
            while (true)
            {
                int r = Resolve(ref it, bounds);
                if (r == ResolveEnd) break;
                if (r == ResolveFilterLanding) { handlerFrame = frame; landing = true; break; }
                if (kind != KindRethrow) ex.AddFrame(it.Ctx.Rip);
                // A throw in the memory manager, the heap or the collector (its own frame, or the
                // helper's caller) is a panic: their state is not exception-safe.
                if (frame < 2 && Symbols.IsNoThrowCode(it.Ctx.Rip))
                    Panic.Fail(Describe("exception in code that must not throw (the memory manager, the kernel heap or the collector): ", ex));
                if (it.Info.EhInfo != null && FindHandler(ex, ref it, out handlerIdx, out handler)) { handlerFrame = frame; break; }
                if (!Step(ref it, bounds)) break;
                frame++;
            }
            if (handlerFrame < 0)
            {
                s_depth--;
                if (UnhandledHandler != null) UnhandledHandler(ex, throwSite);
                Panic.Fail(Describe("unhandled exception ", ex));
            }

            // ---- pass 2: run the fault/finally funclets up to the handler, then the catch
            it = default;
            it.Ctx = site; it.Exact = kind == KindHardware; it.IdxStart = NoIndex;
            frame = 0;
            FuncletRecord record = default;
            while (true)
            {
                int r = Resolve(ref it, bounds);
                if (r == ResolveEnd) Panic.Fail("exception dispatch: the second pass lost the handler's frame");
                if (r == ResolveFilterLanding)
                {
                    if (frame != handlerFrame || !landing) Panic.Fail("exception dispatch: a filter's frame where none was expected");
                    s_depth--;
                    Caught++;
                    EhContext l = it.Ctx;               // rsp as at the funclet call; the stub pops the rest
                    Resume(&l, Unwinder.FilterThrewSite);
                }
                RunFaults(ref it, frame == handlerFrame ? handlerIdx : NoIndex, &record);
                if (frame == handlerFrame)
                {
                    EhContext parent = it.Ctx;
                    record.Parent = parent;
                    record.ParentExact = it.Exact;
                    record.Exception = ex;
                    record.ClauseIndex = handlerIdx;
                    record.Kind = FuncletCatch;
                    s_depth--;
                    Caught++;
                    ulong resumeAt = CallFunclet(handler, ex, &parent, &record);
                    Resume(&parent, resumeAt);
                }
                if (!Step(ref it, bounds)) Panic.Fail("exception dispatch: the second pass could not unwind a frame the first pass did");
                frame++;
            }
        }

        private static string Describe(string what, Exception ex)
        {
            Text.PanicText.Begin();
            Text.PanicText.Append(what);
            Text.PanicText.Append(ex.TypeName);
            string m = ex.Message;
            if (m.Length != 0) { Text.PanicText.Append(": "); Text.PanicText.Append(m); }
            return Text.PanicText.Finish();
        }

        private static void GetBounds(ulong* b)
        {
            if (StackBounds != null) StackBounds(b);
            else { b[0] = 0; b[1] = ulong.MaxValue; }
        }

        private struct FrameCursor
        {
            public EhContext Ctx;
            public MethodCodeInfo Info;
            public bool Exact;
            public uint IdxStart;
        }

        private const int ResolveManaged = 0, ResolveEnd = 1, ResolveFilterLanding = 2;

        /// <summary>
        /// Makes the cursor's frame a managed one: a funclet stub's return site is replaced by
        /// the funclet's parent frame (clauses up to the funclet's own are skipped there); a
        /// filter's stub is where a throw out of the filter lands.
        /// </summary>
        private static int Resolve(ref FrameCursor it, ulong* bounds)
        {
            while (true)
            {
                if (it.Ctx.Rip == Unwinder.FuncletReturnSite)
                {
                    FuncletRecord* rec = *(FuncletRecord**)it.Ctx.Rsp;
                    if (rec->Kind == FuncletFilter) return ResolveFilterLanding;
                    it.Ctx = rec->Parent;
                    it.Exact = rec->ParentExact;
                    it.IdxStart = rec->ClauseIndex;
                    continue;
                }
                if (it.Ctx.Rsp < bounds[0] || it.Ctx.Rsp >= bounds[1]) return ResolveEnd;
                if (!Unwinder.FindMethod(it.Exact ? it.Ctx.Rip : it.Ctx.Rip - 1, out it.Info)) return ResolveEnd;
                return ResolveManaged;
            }
        }

        private static bool Step(ref FrameCursor it, ulong* bounds)
        {
            if (!Unwinder.Step(ref it.Ctx, it.Info, it.Exact)) return false;
            it.Exact = false;
            it.IdxStart = NoIndex;
            return it.Ctx.Rip != 0;
        }

        /// <summary>One EH clause as ilc encodes it (docs/exceptions.md).</summary>
        private struct Clause
        {
            public uint TryStart, TryEnd, Kind, Handler, Filter;
            public MethodTable* Type;
        }

        private static uint ReadUnsigned(ref byte* p)
        {
            byte b = *p;
            if ((b & 1) == 0) { p += 1; return (uint)(b >> 1); }
            if ((b & 2) == 0) { uint v = (uint)(b >> 2) | ((uint)p[1] << 6); p += 2; return v; }
            if ((b & 4) == 0) { uint v = (uint)(b >> 3) | ((uint)p[1] << 5) | ((uint)p[2] << 13); p += 3; return v; }
            if ((b & 8) == 0) { uint v = (uint)(b >> 4) | ((uint)p[1] << 4) | ((uint)p[2] << 12) | ((uint)p[3] << 20); p += 4; return v; }
            uint w = *(uint*)(p + 1); p += 5; return w;
        }

        private static void ReadClause(ref byte* p, out Clause c)
        {
            c = default;
            c.TryStart = ReadUnsigned(ref p);
            uint lengthAndKind = ReadUnsigned(ref p);
            c.Kind = lengthAndKind & 3;
            c.TryEnd = c.TryStart + (lengthAndKind >> 2);
            c.Handler = ReadUnsigned(ref p);
            if (c.Kind == ClauseTyped) { c.Type = (MethodTable*)(p + *(int*)p); p += 4; }
            else if (c.Kind == ClauseFilter) c.Filter = ReadUnsigned(ref p);
        }

        /// <summary>
        /// Walks the clauses of the cursor's frame that can be candidates (after a funclet's own:
        /// the ones with a higher index and another try region), calling <paramref name="visit"/>.
        /// </summary>
        private static bool FindHandler(Exception ex, ref FrameCursor it, out uint index, out ulong handler)
        {
            index = NoIndex; handler = 0;
            byte* p = it.Info.EhInfo;
            uint count = ReadUnsigned(ref p);
            uint offset = (uint)(it.Ctx.Rip - it.Info.MethodStart);
            uint idxStart = it.IdxStart, lastStart = 0, lastEnd = 0;
            for (uint i = 0; i < count; i++)
            {
                ReadClause(ref p, out Clause c);
                if (idxStart != NoIndex)
                {
                    if (i <= idxStart) { lastStart = c.TryStart; lastEnd = c.TryEnd; continue; }
                    if (c.TryStart == lastStart && c.TryEnd == lastEnd) continue;
                    idxStart = NoIndex;
                }
                if (c.Kind == ClauseFault || offset < c.TryStart || offset >= c.TryEnd) continue;
                if (c.Kind == ClauseTyped)
                {
                    if (!TypeCast.IsInstanceOfException(c.Type, ex)) continue;
                }
                else
                {
                    FuncletRecord rec = default;
                    EhContext parent = it.Ctx;
                    rec.Parent = parent; rec.ParentExact = it.Exact; rec.Exception = ex; rec.ClauseIndex = i; rec.Kind = FuncletFilter;
                    if (CallFunclet(it.Info.MethodStart + c.Filter, ex, &parent, &rec) == 0) continue;
                }
                index = i;
                handler = it.Info.MethodStart + c.Handler;
                return true;
            }
            return false;
        }

        /// <summary>Runs the fault/finally funclets of the cursor's frame whose try holds its address, innermost first, below <paramref name="limit"/>.</summary>
        private static void RunFaults(ref FrameCursor it, uint limit, FuncletRecord* record)
        {
            if (it.Info.EhInfo == null) return;
            byte* p = it.Info.EhInfo;
            uint count = ReadUnsigned(ref p);
            uint offset = (uint)(it.Ctx.Rip - it.Info.MethodStart);
            uint idxStart = it.IdxStart, lastStart = 0, lastEnd = 0;
            for (uint i = 0; i < count && i < limit; i++)
            {
                ReadClause(ref p, out Clause c);
                if (idxStart != NoIndex)
                {
                    if (i <= idxStart) { lastStart = c.TryStart; lastEnd = c.TryEnd; continue; }
                    if (c.TryStart == lastStart && c.TryEnd == lastEnd) continue;
                    idxStart = NoIndex;
                }
                if (c.Kind != ClauseFault || offset < c.TryStart || offset >= c.TryEnd) continue;
                EhContext parent = it.Ctx;
                record->Parent = parent;
                record->ParentExact = it.Exact;
                record->Exception = null;
                record->ClauseIndex = i;
                record->Kind = FuncletFinally;
                CallFunclet(it.Info.MethodStart + c.Handler, null, &parent, record);
            }
        }

        /// <summary>`throw;`: the exception of the nearest catch funclet up the stack.</summary>
        private static Exception FindRethrowTarget(EhContext site)
        {
            ulong* bounds = stackalloc ulong[2];
            GetBounds(bounds);
            FrameCursor it = default;
            it.Ctx = site; it.IdxStart = NoIndex;
            for (int guard = 0; guard < 4096; guard++)
            {
                if (it.Ctx.Rip == Unwinder.FuncletReturnSite)
                {
                    FuncletRecord* rec = *(FuncletRecord**)it.Ctx.Rsp;
                    if (rec->Kind == FuncletCatch) return rec->Exception as Exception;
                    it.Ctx = rec->Parent; it.Exact = rec->ParentExact;
                    continue;
                }
                if (it.Ctx.Rsp < bounds[0] || it.Ctx.Rsp >= bounds[1]) return null;
                if (!Unwinder.FindMethod(it.Exact ? it.Ctx.Rip : it.Ctx.Rip - 1, out it.Info)) return null;
                if (!Step(ref it, bounds)) return null;
            }
            return null;
        }
    }
}
