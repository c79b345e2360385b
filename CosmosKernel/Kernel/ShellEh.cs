using System;
using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;

namespace Kernel
{
    // Exceptions at the shell (docs/exceptions.md): `oomcatch` runs a task that allocates managed
    // objects beyond RAM inside a try and catches OutOfMemoryException; `throw` throws from a
    // command (the shell reports it and prompts again) or from a task (the task ends, reported).
    public static unsafe partial class Shell
    {
        /// <summary>A task that fills memory with 64 KiB objects in a linked list until `new` throws.</summary>
        private sealed class OomCatcher : ITaskBody
        {
            private sealed class Chunk
            {
                public byte[] Data;
                public Chunk Next;
            }

            /// <summary>64 KiB with its header: one order-4 block (large objects pin more memory per stale stack word, docs/gc.md).</summary>
            public const int ChunkBytes = (64 << 10) - 64;
            public int Chunks, Unlinked, Limit = int.MaxValue;
            public string Caught;

            public void Run(KTask self)
            {
                Chunk head = null;
                try
                {
                    while (Chunks < Limit)
                    {
                        var c = new Chunk { Data = new byte[ChunkBytes], Next = head };
                        head = c;
                        Chunks++;
                    }
                }
                catch (OutOfMemoryException e)
                {
                    Caught = $"caught {e.TypeName} after {Chunks} objects ({Chunks / 16} MiB): {e.Message}";
                }
                // Free what it holds: unlink every chunk, so that a stale word naming one of them
                // (the collector scans stacks conservatively, docs/gc.md) keeps only that one alive.
                while (head != null) { Chunk next = head.Next; head.Next = null; head.Data = null; head = next; Unlinked++; } // what it held is garbage now
            }
        }

        /// <summary>
        /// MemFree in kB. Not inlined: the copy of the heap's statistics it reads stays in its own
        /// frame, dead before the next collection (their byte counts, 96 MB into a 128 MiB machine,
        /// read as heap addresses and pinned a 64 KiB object each from the command's frame).
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static ulong MemFreeKiB() => Heap.Stats.FreePages * 4;

        /// <summary>
        /// A collection; the objects it freed. Not inlined, for the same reason: a collection's
        /// figures (bytes freed, pause cycles) kept in the command's frame pinned a 64 KiB object
        /// each in the next collection.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static ulong CollectFreedObjects() => GcRoots.Collect().Last.FreedObjects;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void OomCatchCommand()
        {
            if (Heap.Name != BuddyHeap.HeapName) { Console.WriteLine("oomcatch: needs the buddy heap (on the RAT heap out of memory is a panic)"); return; }
            CollectFreedObjects();
            ulong before = MemFreeKiB();
            Console.WriteLine($"oomcatch: MemFree {before} kB; a task allocates 64 KiB objects until new throws");
            var body = new OomCatcher();
            if (s_tokens >= 2 && Number(1, 1, 100000, out long limit) == NumberResult.Ok) body.Limit = (int)limit;
            KTask t = Scheduler.Spawn("oomcatch", body);
            Scheduler.Join(t);
            Console.WriteLine($"oomcatch: {body.Caught ?? "the task ended without catching OutOfMemoryException"}; it let go of {body.Unlinked} objects");
            ulong during = MemFreeKiB();
            ulong freed = CollectFreedObjects();
            ulong after = MemFreeKiB();
            Console.WriteLine($"oomcatch: MemFree {during} kB when the task ended, {after} kB after gc (before: {before} kB); gc freed {freed} objects");
        }

        private sealed class Thrower : ITaskBody
        {
            public void Run(KTask self) => throw new InvalidOperationException("thrown by the 'throw task' command");
        }

        private static void ThrowCommand()
        {
            if (s_tokens >= 2 && Is(1, "task"))
            {
                KTask t = Scheduler.Spawn("thrower", new Thrower());
                Scheduler.Join(t);
                Console.WriteLine($"throw: task {t.Id} is {t.StateName}; the shell goes on");
                return;
            }
            if (s_tokens >= 2 && Is(1, "null"))
            {
                object o = null;
                Console.WriteLine(o.ToString());
                return;
            }
            throw new InvalidOperationException("thrown by the 'throw' command");
        }
    }
}

namespace Kernel
{
    using System.Runtime.CompilerServices;
    using Kernel.Core;

    public static unsafe partial class Shell
    {
        private sealed class BenchException : System.Exception
        {
            public BenchException() : base("bench") { }
        }

        private static BenchException s_benchException;

        /// <summary>10 frames down, then return (or throw the preallocated exception).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Down(int n, bool doThrow)
        {
            if (n == 0)
            {
                if (doThrow) throw s_benchException;
                return 1;
            }
            return Down(n - 1, doThrow) + 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int CallInTry(bool doThrow)
        {
            try { return Down(9, doThrow); }
            catch (BenchException) { return -1; }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int CallPlain() => Down(9, false);

        /// <summary>`bench eh`: cycles of a call 10 frames deep with and without a try around it, and of a throw caught 10 frames up.</summary>
        private static void BenchEh()
        {
            s_benchException ??= new BenchException();
            const int Rounds = 5, Ops = 1000;
            ulong plain = ulong.MaxValue, inTry = ulong.MaxValue, thrown = ulong.MaxValue;
            int sink = 0;
            for (int r = 0; r < Rounds; r++)
            {
                ulong t0 = Native.ReadTimeStampCounter();
                for (int i = 0; i < Ops; i++) sink += CallPlain();
                ulong t1 = Native.ReadTimeStampCounter();
                for (int i = 0; i < Ops; i++) sink += CallInTry(false);
                ulong t2 = Native.ReadTimeStampCounter();
                for (int i = 0; i < Ops; i++) sink += CallInTry(true);
                ulong t3 = Native.ReadTimeStampCounter();
                plain = Math.Min(plain, (t1 - t0) / Ops);
                inTry = Math.Min(inTry, (t2 - t1) / Ops);
                thrown = Math.Min(thrown, (t3 - t2) / Ops);
            }
            Console.WriteLine("exceptions, TSC cycles per operation (best of 5 rounds of 1000; compare within one boot)");
            Console.WriteLine($"  call 10 frames deep, no try             {plain,10}");
            Console.WriteLine($"  the same inside try/catch, no throw     {inTry,10}");
            Console.WriteLine($"  throw caught 10 frames up               {thrown,10}  ({(plain == 0 ? 0 : thrown / plain)}x the plain call)");
            if (sink == 42) Console.WriteLine();   // keeps the calls from being optimised away
        }
    }
}
