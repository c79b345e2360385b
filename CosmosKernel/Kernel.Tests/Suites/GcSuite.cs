using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Core.Text;
using Kernel.Hal;
using Kernel.Mm;
using Kernel.Proc;
using Kernel.Sched;
using Kernel.Tests.Framework;
using MemoryManager.Node;
using MemoryManager.Processes;
using MemoryManager.Slab;
using MemoryManager.Workloads;
using System.Runtime.CompilerServices;

namespace Kernel.Tests
{
    /// <summary>
    /// The kernel's garbage collector on the real heap (docs/gc.md): unreachable objects are
    /// freed and poisoned, and objects whose only root is a GC static, a parked task's local, a
    /// boot-arena object or an interior pointer on a parked task's stack live through a GiB of mixed garbage
    /// (at 128 MiB and up; RAM x 8 below) with their contents intact, the slab back at its
    /// baseline and no OOM kill. Sized from the machine's memory; skipped on the RAT image (no
    /// collector). A heap address kept in a plain static keeps nothing alive. The corrupt-header panic is <see cref="SelfTestGcCorruptSuite"/>.
    /// </summary>
    public sealed unsafe class GcSuite : TestSuite
    {
        /// <summary>Addresses kept where a scan could see them are XORed with this (no longer a pointer into the heap).</summary>
        private const ulong Hide = 0x5A5A_0000_0000_0000UL;
        /// <summary>Slab objects more than the baseline a churn may leave: conservative retention of stale stack and data words (docs/gc.md, Limits).</summary>
        public const ulong SlabSlackObjects = 32;

        public GcSuite() : base("gc", AnyMemory, null)
        {
            Add("Unreachable_objects_are_freed_and_filled_with_0xD5", &Unreachable_objects_are_freed_and_filled_with_0xD5);
            Add("A_GiB_of_mixed_garbage_leaves_every_survivor_intact_whatever_its_only_root", &A_GiB_of_mixed_garbage_leaves_every_survivor_intact_whatever_its_only_root);
            Add("A_heap_address_in_a_plain_static_keeps_nothing_alive", &A_heap_address_in_a_plain_static_keeps_nothing_alive);
            Add("The_frozen_object_region_is_read_object_by_object_to_its_end", &The_frozen_object_region_is_read_object_by_object_to_its_end);
            Add("Ten_thousand_process_lifetimes_leave_MemFree_and_every_slab_count_at_their_values_before", &Ten_thousand_process_lifetimes_leave_MemFree_and_every_slab_count_at_their_values_before);
            Add("The_RAT_heaps_collector_keeps_the_list_its_root_reaches_and_frees_the_garbage", &The_RAT_heaps_collector_keeps_the_list_its_root_reaches_and_frees_the_garbage,
                128, "bench gc's RAT heap takes a 4 MiB buddy block and leaves 16 MiB free");
            // Last: it runs the heap dry (kswapd, woken on the way, then balances while later tests measure).
            Add("New_collects_the_garbage_before_the_OOM_killer_or_OutOfMemoryException", &New_collects_the_garbage_before_the_OOM_killer_or_OutOfMemoryException);
        }

        public const int Lifetimes = 10000;

        /// <summary>One `run idle 1M` / `kill` lifetime, waited out (the kill wakes the program; its exit frees its task's stack at the next switch). False if it did not end.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool OneLifetime()
        {
            if (Processes.Run(WorkloadKind.Idle, 256, 1, 0, out Program p) != RunError.None) return false;
            if (Processes.Kill(p.Pid) != ProcResult.Ok) return false;
            for (int i = 0; i < 1000 && p.Alive; i++) Scheduler.Yield();
            Scheduler.Yield();   // the next task to run reaps the dead one (its stack back in the heap)
            return !p.Alive;
        }

        /// <summary>Runs <paramref name="n"/> lifetimes; how many ended as they should.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Lifetimes_(int n)
        {
            int ok = 0;
            for (int i = 0; i < n; i++) if (OneLifetime()) ok++;
            return ok;
        }

        /// <summary>A collection, then what it leaves. The caller zeroes the dead stack first, so that this frame's unwritten slots hold no stale word of the lifetimes.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CollectAndCount(ulong* perCache, out ulong memFree)
        {
            GcRoots.Collect();
            SlabAllocator slab = BuddyHeap.Slab;
            for (int i = 0; i < SlabAllocator.CacheCount; i++)
            {
                perCache[2 * i] = slab.Cache(i).ActiveObjects;
                perCache[2 * i + 1] = slab.Cache(i).NumSlabs;
            }
            memFree = BuddyHeap.Stats.FreePages;
        }

        /// <summary>
        /// 10 000 `run idle 1M` / `kill` lifetimes: each leaves its task object, wait queue,
        /// workload and stack behind; after a collection MemFree and every cache's active objects
        /// and slabs are what they were after the first lifetime (which made the program table's
        /// slot objects, kept for reuse).
        /// </summary>
        private static void Ten_thousand_process_lifetimes_leave_MemFree_and_every_slab_count_at_their_values_before(Assert a)
        {
            if (NoCollector(a)) return;
            if (!Processes.IsAvailable) { a.Skip(string.Concat("no process layer: ", Processes.UnavailableReason)); return; }
            ulong* before = stackalloc ulong[2 * SlabAllocator.CacheCount];
            ulong* after = stackalloc ulong[2 * SlabAllocator.CacheCount];
            // A settled start: an earlier suite can leave kswapd balancing (or napping before it
            // sleeps), and each of its steps frees up to SWAP_CLUSTER_MAX (32) page-cache or swapped
            // pages: MemFree would rise by that much during the lifetimes with no leak at all.
            // Wait until every node's kswapd sleeps, as after an idle spell.
            bool settled = KswapdAsleep(ReclaimSettleTicks);
            a.True(settled, "every node's kswapd is asleep (balanced) before the measurement");
            if (!settled) return;
            a.True(OneLifetime(), "the first lifetime ends");
            KernelStack.ClearDeadStack(16384);
            CollectAndCount(before, out ulong freeBefore);
            ulong reclaimBefore = ReclaimWork();
            bool report = Processes.ReportExits;
            Processes.ReportExits = false;
            ulong t0 = Timer.Jiffies;
            int ended = Lifetimes_(Lifetimes - 1);
            ulong ticks = Timer.Jiffies - t0;
            Processes.ReportExits = report;
            KernelStack.ClearDeadStack(16384);
            CollectAndCount(after, out ulong freeAfter);
            ulong reclaimAfter = ReclaimWork();
            Console.Write("lifetimes: "); Console.WriteDecimal((ulong)ended + 1); Console.Write(" in "); Console.WriteDecimal(ticks);
            Console.Write(" ticks; free pages "); Console.WriteDecimal(freeBefore); Console.Write(" -> "); Console.WriteDecimal(freeAfter);
            Console.Write("; kswapd steps + pages reclaimed "); Console.WriteDecimal(reclaimBefore); Console.Write(" -> "); Console.WriteDecimal(reclaimAfter); Console.WriteLine();
            a.Equal((ulong)(Lifetimes - 1), (ulong)ended, "every lifetime ended after its kill");
            a.Equal(reclaimBefore, reclaimAfter, "no reclaim ran during the lifetimes (kswapd steps, pages reclaimed by kswapd and direct reclaim): each gives back all it took");
            a.Equal(freeBefore, freeAfter, "MemFree (free pages, per-cpu lists included) back at its value");
            SlabAllocator slab = BuddyHeap.Slab;
            for (int i = 0; i < SlabAllocator.CacheCount; i++)
            {
                if (before[2 * i] == after[2 * i] && before[2 * i + 1] == after[2 * i + 1]) continue;
                Console.Write("  "); Console.Write(slab.CacheName(i)); Console.Write(": active objects "); Console.WriteDecimal(before[2 * i]);
                Console.Write(" -> "); Console.WriteDecimal(after[2 * i]); Console.Write(", slabs "); Console.WriteDecimal(before[2 * i + 1]);
                Console.Write(" -> "); Console.WriteDecimal(after[2 * i + 1]); Console.WriteLine();
                a.Fail("a slab cache's counts moved (printed above)");
            }
        }

        /// <summary>Ticks the lifetimes test waits at most for kswapd to finish an earlier suite's balancing (10 s at 100 Hz; a run plus its nap takes well under one).</summary>
        public const ulong ReclaimSettleTicks = 1000;

        /// <summary>Sleeps until every node's kswapd is asleep (kswapd_try_to_sleep went through), at most <paramref name="ticks"/>; true if they are.</summary>
        private static bool KswapdAsleep(ulong ticks)
        {
            ulong end = Timer.Jiffies + ticks;
            while (true)
            {
                bool asleep = true;
                for (int n = 0; n < Processes.NodeCount; n++)
                    if (Processes.Vm.Nodes[n].Kswapd.State != KswapdState.Sleeping) asleep = false;
                if (asleep) return true;
                if (Timer.Jiffies >= end) return false;
                Scheduler.Sleep(1);
            }
        }

        /// <summary>kswapd steps of every node plus pages reclaimed by kswapd and direct reclaim: unchanged while no reclaim runs.</summary>
        private static ulong ReclaimWork()
        {
            ulong w = BuddyHeap.Allocator.Stat.PgstealKswapd + BuddyHeap.Allocator.Stat.PgstealDirect;
            for (int n = 0; n < Processes.NodeCount; n++) w += Processes.Kswapd(n).Steps;
            return w;
        }

        private static bool NoCollector(Assert a)
        {
            if (KernelGc.IsReady) return false;
            a.Skip(string.Concat("the image's heap is '", Heap.Name, "', which has no collector (docs/gc.md)"));
            return true;
        }

        /// <summary>A survivor: a seed, an array filled from it, and a second node (the marker must follow both references).</summary>
        private sealed class Keep
        {
            public ulong Seed;
            public byte[] Data;
            public Keep Next;

            public static Keep Make(ulong seed, int bytes)
            {
                var k = new Keep { Seed = seed, Data = Fill(seed, bytes) };
                k.Next = new Keep { Seed = seed + 1, Data = Fill(seed + 1, bytes / 2 + 1) };
                return k;
            }

            public bool Intact() => Holds(Data, Seed) && Next != null && Holds(Next.Data, Seed + 1) && Next.Next == null;
        }

        private static byte Pattern(ulong seed, int i) => (byte)((seed * 0x9E37_79B9UL + (ulong)i * 131UL) >> 3);

        private static byte[] Fill(ulong seed, int bytes)
        {
            var d = new byte[bytes];
            for (int i = 0; i < bytes; i++) d[i] = Pattern(seed, i);
            return d;
        }

        private static bool Holds(byte[] d, ulong seed)
        {
            if (d == null) return false;
            for (int i = 0; i < d.Length; i++) if (d[i] != Pattern(seed, i)) return false;
            return true;
        }

        private static ulong SlabActiveObjects()
        {
            SlabAllocator slab = BuddyHeap.Slab;
            ulong n = 0;
            for (int i = 0; i < SlabAllocator.CacheCount; i++) n += slab.Cache(i).ActiveObjects;
            return n;
        }

        // ---- 1. freed and poisoned ---------------------------------------------------------

        private const int PoisonPairs = 256, PoisonBytes = 200;
        private static byte[][] s_pairKeep;

        /// <summary>
        /// Makes <see cref="PoisonPairs"/> pairs of same-sized arrays: the first kept from a static,
        /// the second garbage filled with 0x11 (its address hidden in <paramref name="hidden"/>).
        /// Each survivor keeps its slab in use, so the garbage's bytes are not handed back to the pages.
        /// </summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void MakePairs(ulong[] hidden)
        {
            s_pairKeep = new byte[PoisonPairs][];
            for (int i = 0; i < PoisonPairs; i++)
            {
                s_pairKeep[i] = new byte[PoisonBytes];
                var g = new byte[PoisonBytes];
                for (int j = 0; j < PoisonBytes; j++) g[j] = 0x11;
                hidden[i] = (ulong)ObjectModel.AddressOf(g) ^ Hide;
            }
        }

        private static void Unreachable_objects_are_freed_and_filled_with_0xD5(Assert a)
        {
            if (NoCollector(a)) return;
            var hidden = new ulong[PoisonPairs];   // no references: the marker reads nothing in it
            MakePairs(hidden);
            ulong collections = KernelGc.Figures.Collections;
            KernelGcFigures f = GcRoots.Collect();
            a.Equal(collections + 1, f.Collections, "one collection ran");
            int freed = 0, poisoned = 0;
            for (int i = 0; i < PoisonPairs; i++)
            {
                ulong obj = hidden[i] ^ Hide;
                if (KernelGc.IsManaged(obj)) continue;   // kept by a stale word somewhere (conservative)
                freed++;
                // The whole object but its header word (where the slab now keeps its freelist link):
                // MethodTable, length and the 200 bytes of data.
                byte* p = (byte*)obj;
                bool all = true;
                for (int j = 0; j < 16 + PoisonBytes; j++) if (p[j] != KernelGc.FreePoison) { all = false; break; }
                if (all) poisoned++;
            }
            // Conservative retention keeps a few at most (a stale word each); nearly all go.
            a.InRange((ulong)freed, PoisonPairs - 8, PoisonPairs, "unreachable arrays freed by the collection");
            a.Equal((long)freed, (long)poisoned, "freed arrays whose bytes are all 0xD5");
            int kept = 0;
            for (int i = 0; i < PoisonPairs; i++) if (s_pairKeep[i] != null && s_pairKeep[i].Length == PoisonBytes && KernelGc.IsManaged((ulong)ObjectModel.AddressOf(s_pairKeep[i]))) kept++;
            a.Equal((long)PoisonPairs, (long)kept, "arrays reachable from a static stay managed objects");
            s_pairKeep = null;
            GcRoots.Collect();
        }

        // ---- 2. a GiB of garbage and four kinds of only-root -------------------------------

        private static Keep s_static;            // GC static: precise root
        private static object s_sink;             // the latest garbage escapes through here (overwritten by the next)


        /// <summary>A parked task whose local is the only reference to its survivor; it checks it when woken.</summary>
        private sealed class Holder : ITaskBody
        {
            private readonly WaitQueue _queue;
            public ulong Hidden;           // the survivor's address, hidden
            public ulong InteriorHidden;   // the interior pointer's array, hidden
            public bool Parked, Intact, InteriorIntact, Done;
            public Holder(WaitQueue q) { _queue = q; }

            public void Run(KTask self)
            {
                Keep mine = Keep.Make(0x7A5C, 3000);
                Hidden = (ulong)ObjectModel.AddressOf(mine) ^ Hide;
                ulong interior = MakeInterior();   // a local holding the middle of an array, its only root
                InteriorHidden = ArrayOf(interior) ^ Hide;
                Parked = true;
                _queue.Wait();
                Intact = mine.Intact();
                InteriorIntact = ArrayIntact(ArrayOf(interior));
                Done = true;
            }
        }

        private const int InteriorBytes = 20000;   // a large kmalloc block (page run), not a slab object

        /// <summary>An array of <see cref="InteriorBytes"/>; returns the address of its middle byte (not a reference: the array's own reference dies here).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong MakeInterior() => (ulong)ObjectModel.AddressOf(Fill(0x1A7E, InteriorBytes)) + 16 + InteriorBytes / 2;

        private static ulong ArrayOf(ulong interior) => interior - 16 - InteriorBytes / 2;

        private static bool ArrayIntact(ulong obj)
        {
            if (!KernelGc.IsManaged(obj)) return false;
            if (*(int*)(obj + 8) != InteriorBytes) return false;
            byte* d = (byte*)(obj + 16);
            for (int i = 0; i < InteriorBytes; i++) if (d[i] != Pattern(0x1A7E, i)) return false;
            return true;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void MakeRootedSurvivors()
        {
            s_static = Keep.Make(0x51A7, 5000);
            BuddyHeap.ArenaRoots[0] = Keep.Make(0xA4E0, 7000);
        }

        /// <summary>One garbage allocation of a mixed size; returns its bytes. Nothing keeps it.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static ulong Garbage(ulong r)
        {
            ulong kind = r % 16, n;
            if (kind < 8) n = 16 + (r >> 8) % 1000;            // small: kmalloc-32 .. -1024
            else if (kind < 12) n = 1024 + (r >> 8) % 15000;   // medium: up to kmalloc-16k
            else if (kind < 14) n = 16384 + (r >> 8) % 114688; // large kmalloc blocks (page runs) up to 128 KiB
            else
            {
                // a chain of 16 nodes with small arrays: references inside the garbage
                Keep head = null;
                for (int i = 0; i < 16; i++) head = new Keep { Seed = (ulong)i, Data = new byte[48], Next = head };
                s_sink = head;   // escapes: the compiler may not put it on the stack
                return 16 * (32 + 72);
            }
            var b = new byte[(int)n];
            b[0] = 1; b[(int)n - 1] = 2;
            s_sink = b;
            return n + 24;
        }

        private struct ChurnFigures { public ulong Allocated, Objects, Collections, FreedBytes; }

        /// <summary>Allocates <paramref name="total"/> bytes of garbage, collecting after each <paramref name="budget"/> bytes. A frame of its own, dead when the test makes its last collection.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ChurnFigures Churn(ulong total, ulong budget)
        {
            ChurnFigures c = default;
            ulong since = 0, r = 0x2545_F491_4F6C_DD1DUL;
            while (c.Allocated < total)
            {
                r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                ulong n = Garbage(r);
                c.Allocated += n; since += n; c.Objects++;
                if (since >= budget)
                {
                    KernelGcFigures f = GcRoots.Collect();
                    c.FreedBytes += f.Last.FreedBytes;
                    c.Collections++;
                    since = 0;
                }
            }
            return c;
        }

        private static void A_GiB_of_mixed_garbage_leaves_every_survivor_intact_whatever_its_only_root(Assert a)
        {
            if (NoCollector(a)) return;
            ulong ram = BootInfo.RamMiB;
            ulong total = ram >= 128 ? 1UL << 30 : ram << 23;   // 1 GiB from 128 MiB up, RAM x 8 below
            var queue = new WaitQueue();
            var holder = new Holder(queue);
            KTask task = Scheduler.Spawn("gc-holder", holder);
            a.NotNull(task, "the holder task spawns");
            if (task == null) return;
            Scheduler.Yield();
            a.True(holder.Parked && !holder.Done && queue.Count == 1, "the holder task made its survivor and parked");
            MakeRootedSurvivors();

            GcRoots.Collect();
            ulong baseline = SlabActiveObjects();
            ulong kills = BuddyHeap.Allocator.Stat.OomKill;
            ulong freePages = Heap.Stats.FreePages;
            // Collect after a third of the free memory (at most 64 MiB) of garbage: the heap never fills.
            ulong budget = freePages * Heap.PageSize / 3;
            if (budget > 64UL << 20) budget = 64UL << 20;
            ChurnFigures c = Churn(total, budget);
            // The churn's frames are dead now, but conservative scanning would still see their
            // words (pointers into the latest garbage) in the unwritten slots of the next frames:
            // zero that dead stack before the last collection, as the shell does before each command.
            KernelStack.ClearDeadStack(16384);
            s_sink = null;   // the last piece of garbage (a 16-node chain: 32 objects) is garbage too
            KernelGcFigures last = GcRoots.Collect();
            ulong allocated = c.Allocated, objects = c.Objects;
            ulong freedBytes = c.FreedBytes + last.Last.FreedBytes, collections = c.Collections + 1;

            Console.Write("gc churn: "); Console.WriteDecimal(allocated >> 20); Console.Write(" MiB in "); Console.WriteDecimal(objects);
            Console.Write(" allocations, "); Console.WriteDecimal(collections); Console.Write(" collections freed "); Console.WriteDecimal(freedBytes >> 20);
            Console.Write(" MiB; slab active objects "); Console.WriteDecimal(baseline); Console.Write(" -> "); Console.WriteDecimal(SlabActiveObjects());
            Console.Write("; max pause "); Console.WriteDecimal(KernelGc.Figures.MaxPauseCycles); Console.WriteLine(" cycles");

            a.True(allocated >= total, "the churn allocated its total");
            a.True(freedBytes >= allocated - allocated / 32, "the collections freed the garbage (all but 1/32 of it; blocks count their rounded sizes)");
            a.Equal(kills, BuddyHeap.Allocator.Stat.OomKill, "no OOM kill during the churn");
            a.InRange(SlabActiveObjects(), 0, baseline + SlabSlackObjects, "slab active objects back at the baseline (slack 32)");
            a.Equal(KernelGc.CountManaged(), KernelGc.ManagedObjects, "the managed-object count kept by `new` and free equals the map's bits");

            a.True(s_static != null && s_static.Intact(), "the survivor reachable only from a GC static is intact");
            object[] arena = BuddyHeap.ArenaRoots;
            Keep fromArena = arena[0] as Keep;
            a.True(fromArena != null && fromArena.Intact(), "the survivor reachable only from a boot-arena object is intact");
            a.True(KernelGc.IsManaged(holder.Hidden ^ Hide), "the parked task's local still names a managed object");
            a.True(KernelGc.IsManaged(holder.InteriorHidden ^ Hide), "the array the parked task's interior pointer points into is still a managed object");
            queue.WakeUp();
            a.True(Scheduler.Join(task), "join the holder task");
            a.True(holder.Done && holder.Intact, "the survivor reachable only from the parked task's local is intact");
            a.True(holder.InteriorIntact, "the array reachable only through an interior pointer in the parked task's local is intact");

            s_static = null;
            arena[0] = null;
            s_sink = null;
            GcRoots.Collect();
        }

        // ---- 3. plain statics are no roots ------------------------------------------------

        /// <summary>A plain static (non-GC, in .bss): the collector does not read it (docs/gc.md, "Roots").</summary>
        private static ulong s_plainAddress;

        /// <summary>A task that makes an array and leaves its address in <see cref="s_plainAddress"/> only; when it ends, its stack and registers are gone.</summary>
        private sealed class AddressKeeper : ITaskBody
        {
            public void Run(KTask self)
            {
                var o = new byte[3000];
                o[0] = 1;
                s_plainAddress = (ulong)ObjectModel.AddressOf(o);
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool PlainStaticNamesAManagedObject() => KernelGc.IsManaged(s_plainAddress);

        private static void A_heap_address_in_a_plain_static_keeps_nothing_alive(Assert a)
        {
            if (NoCollector(a)) return;
            KTask t = Scheduler.Spawn("gc-plain", new AddressKeeper());
            a.NotNull(t, "the task spawns");
            if (t == null) return;
            a.True(Scheduler.Join(t), "join the task");
            Scheduler.Yield();   // the task's stack back in the heap
            a.True(PlainStaticNamesAManagedObject(), "the array the task made is a managed object after the task ended");
            // Only s_plainAddress names the array: the test's own frames never held its address
            // (read in a helper whose frame is now dead stack, zeroed here).
            KernelStack.ClearDeadStack(4096);
            GcRoots.Collect();
            a.False(PlainStaticNamesAManagedObject(), "the array whose address lies only in a plain static was freed by the collection");
            s_plainAddress = 0;
        }

        /// <summary>
        /// Allocates <paramref name="total"/> bytes of garbage in <paramref name="chunk"/>-byte arrays
        /// without collecting or yielding (kswapd, a task, never runs meanwhile); how many times
        /// `new` threw OutOfMemoryException.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int FillWithGarbage(ulong total, int chunk)
        {
            int thrown = 0;
            for (ulong done = 0; done < total; done += (ulong)chunk)
            {
                try { s_sink = new byte[chunk]; }
                catch (System.OutOfMemoryException) { thrown++; }
            }
            s_sink = null;
            return thrown;
        }

        private static void New_collects_the_garbage_before_the_OOM_killer_or_OutOfMemoryException(Assert a)
        {
            if (NoCollector(a)) return;
            // It must run the heap dry: at 6G that is 8.7 GiB of zeroed arrays, 68 s under TCG.
            if (BootInfo.RamMiB > 1024) { a.Skip(string.Concat("runs the heap dry: up to 1024 MiB of RAM, not ", BootInfo.RamMiB.ToString())); return; }
            GcRoots.Collect();
            ulong free = Heap.Stats.FreePages * Heap.PageSize;
            ulong kills = BuddyHeap.Allocator.Stat.OomKill;
            ulong forNew = Kernel.Core.Runtime.Allocator.CollectionsForNew;
            ulong thrownBefore = Kernel.Core.Runtime.Allocator.OutOfMemoryThrown;
            // One and a half times the free memory: the heap runs dry at least once.
            const int chunk = 64 << 10;
            int thrown = FillWithGarbage(free + free / 2, chunk);
            ulong ran = Kernel.Core.Runtime.Allocator.CollectionsForNew - forNew;
            Console.Write("new collected "); Console.WriteDecimal(ran); Console.Write(" times in "); Console.WriteDecimal((free + free / 2) >> 20); Console.WriteLine(" MiB of garbage");
            a.Equal(0L, (long)thrown, "OutOfMemoryException thrown while only garbage filled the heap");
            a.Equal(thrownBefore, Kernel.Core.Runtime.Allocator.OutOfMemoryThrown, "no new gave up");
            a.True(ran >= 1, "new ran the collector when the heap was full");
            a.Equal(kills, BuddyHeap.Allocator.Stat.OomKill, "no OOM kill: the garbage went first");
            GcRoots.Collect();   // the last fill's garbage: the suites after this one start with free memory
        }

        private static void The_frozen_object_region_is_read_object_by_object_to_its_end(Assert a)
        {
            if (NoCollector(a)) return;
            a.True(ModuleInit.FrozenRegionCount >= 1, "module init recorded ilc's frozen object region");
            bool whole = KernelGc.WalkFrozen(out ulong objects, out ulong withReferences);
            Console.Write("frozen objects: "); Console.WriteDecimal(objects); Console.Write(", with reference fields "); Console.WriteDecimal(withReferences); Console.WriteLine();
            // Every string literal is a frozen object: the image has hundreds.
            a.True(objects >= 100, "the walk met the string literals");
            a.True(whole, "every frozen region was read object by object to its end (nothing left to a conservative scan)");
        }

        // ---- 4. the RAT heap's collector (bench gc's) -------------------------------------

        private static void The_RAT_heaps_collector_keeps_the_list_its_root_reaches_and_frees_the_garbage(Assert a)
        {
            if (NoCollector(a)) return;
            // 1 MiB of live units (object[2] + byte[488]) and one garbage unit per 4, on each heap.
            GcBenchFigures f = GcBench.Run(1);
            a.Null(f.RatError, "the RAT heap was set up over buddy pages");
            if (f.RatError != null) return;
            ulong garbage = (f.Units + GcBench.GarbageEvery - 1) / GcBench.GarbageEvery;
            // Every live unit is two objects; stale words (conservative roots) may keep a few more.
            a.InRange(f.RatStats.MarkedObjects, 2 * f.Units, 2 * f.Units + 8, "objects the RAT collector marked");
            a.InRange(f.BuddyStats.MarkedObjects, 2 * f.Units, 2 * f.Units + 4096, "objects the kernel's collector marked (the kernel's own included)");
            // A RAT unit takes a 48-byte slot (node) and a 512-byte slot (array).
            a.InRange(f.RatStats.FreedObjects, 2 * (garbage - 2), 2 * garbage, "garbage objects the RAT collector freed");
            a.InRange(f.RatFreed, (garbage - 2) * 560, garbage * 560, "bytes it freed: 560 per garbage unit");
            a.True(f.RatPause > 0 && f.BuddyPause > 0, "both pauses were timed");
        }
    }

    /// <summary>
    /// Proves a corrupt object header met by the marker is a panic naming the object, its
    /// MethodTable word and the root it was reached from: an object reachable from a GC static
    /// gets a MethodTable pointer outside the image, then a collection runs. Skipped on the RAT image.
    /// </summary>
    public sealed unsafe class SelfTestGcCorruptSuite : TestSuite
    {
        /// <summary>The header the victim is given: canonical, outside the kernel image.</summary>
        public const ulong BadMethodTable = 0xBAD0_BAD0_BAD0UL;

        public SelfTestGcCorruptSuite() : base("selftest-gccorrupt", AnyMemory, null)
        {
            Add("A_corrupt_object_header_met_by_the_marker_panics_with_its_address_MethodTable_and_root", &A_corrupt_object_header_met_by_the_marker_panics_with_its_address_MethodTable_and_root);
        }

        public override bool IsSelfTest => true;

        private sealed class Victim { public object Field; }

        private static Victim s_victim;

        private static void A_corrupt_object_header_met_by_the_marker_panics_with_its_address_MethodTable_and_root(Assert a)
        {
            if (!KernelGc.IsReady) { a.Skip(string.Concat("the image's heap is '", Heap.Name, "', which has no collector")); return; }
            s_victim = new Victim();
            ulong obj = (ulong)ObjectModel.AddressOf(s_victim);
            PanicText.Begin();
            PanicText.Append("gc selftest: object ");
            PanicText.AppendHex(obj);
            PanicText.Append(" gets MethodTable ");
            PanicText.AppendHex(BadMethodTable);
            Console.WriteLine(PanicText.Finish());
            *(ulong*)obj = BadMethodTable;
            GcRoots.Collect();
            a.Fail("the collection returned after meeting a corrupt header");
        }
    }
}
