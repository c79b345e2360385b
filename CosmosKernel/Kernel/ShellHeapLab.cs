using Kernel.Core.Memory;
using Kernel.Hal;
using Kernel.Core;
using MemoryManager.Core;

namespace Kernel
{
    // The object heap's tools for lab 3 (docs/labs/03-object-heap.md), written against the seam
    // (Heap), so they measure whatever heap the image has: the buddy image's slab or a plug.
    // `kmalloc <bytes> <n>` holds n blocks of one size and says what they cost the heap;
    // `kmalloc free` gives them back; `bench heap` times Heap.Alloc and Heap.Free per size.
    public static unsafe partial class Shell
    {
        /// <summary>Blocks `kmalloc` can hold at once (a static table: the command itself allocates nothing else).</summary>
        public const int MaxHeldBlocks = 2048;
        /// <summary>The largest `kmalloc` block: 64 KiB (beyond the slab's 8 KiB caches: page runs).</summary>
        public const int MaxKmallocBytes = 65536;

        private struct HeldBlocks { public fixed ulong Address[MaxHeldBlocks]; }
        private static HeldBlocks s_held;
        private static int s_heldCount;

        private static void KmallocCommand()
        {
            if (s_tokens == 2 && Is(1, "free")) { KmallocFree(); return; }
            if (s_tokens != 3)
            {
                Console.WriteLine("usage: kmalloc <bytes 1..65536> <count 1..2048> | kmalloc free");
                return;
            }
            if (Number(1, 1, MaxKmallocBytes, out long size) != NumberResult.Ok)
            {
                Console.Write("kmalloc: bytes must be 1..65536, not '"); WriteToken(1); Console.WriteLine("'");
                return;
            }
            if (Number(2, 1, MaxHeldBlocks, out long count) != NumberResult.Ok)
            {
                Console.Write("kmalloc: count must be 1..2048, not '"); WriteToken(2); Console.WriteLine("'");
                return;
            }
            if (s_heldCount + count > MaxHeldBlocks)
            {
                Console.Write("kmalloc: "); Console.WriteDecimal((ulong)s_heldCount);
                Console.WriteLine(" blocks are held and the table has 2048 places: 'kmalloc free' first; nothing was allocated");
                return;
            }
            HeapStats before = Heap.Stats;
            for (long i = 0; i < count; i++)
                s_held.Address[s_heldCount++] = (ulong)Heap.Alloc((nuint)size);
            HeapStats after = Heap.Stats;

            ulong asked = (ulong)size * (ulong)count;
            ulong given = after.BytesInUse - before.BytesInUse;
            Console.Write("kmalloc "); Console.WriteDecimal((ulong)size); Console.Write(" x "); Console.WriteDecimal((ulong)count);
            Console.Write(" from the "); Console.Write(Heap.Name); Console.Write(" heap: asked ");
            Console.WriteDecimal(asked); Console.Write(" bytes, in use +"); Console.WriteDecimal(given);
            Console.Write(" bytes ("); Console.WriteDecimal(given / (ulong)count); Console.WriteLine(" per block)");
            Console.Write("  heap pages used "); WritePageChange(before, after);
            Console.Write(", first block at "); Console.WriteHex(s_held.Address[s_heldCount - (int)count], 10);
            Console.Write(", last at "); Console.WriteHex(s_held.Address[s_heldCount - 1], 10); Console.WriteLine();
            if (given < asked)
                Console.WriteLine("  internal fragmentation: unknown (the heap's Stats.BytesInUse grew by less than was asked)");
            else
            {
                Console.Write("  internal fragmentation: "); Console.WriteDecimal(given - asked); Console.Write(" of ");
                Console.WriteDecimal(given); Console.Write(" bytes ("); WritePercent(given - asked, given); Console.WriteLine(")");
            }
            Console.Write("  held: "); Console.WriteDecimal((ulong)s_heldCount); Console.WriteLine(" blocks ('kmalloc free' gives them back)");
        }

        private static void KmallocFree()
        {
            HeapStats before = Heap.Stats;
            int n = s_heldCount, refused = 0;
            for (int i = 0; i < n; i++)
                if (Heap.Free((void*)s_held.Address[i]) != HeapFreeResult.Ok) refused++;
            s_heldCount = 0;
            HeapStats after = Heap.Stats;
            Console.Write("kmalloc free: "); Console.WriteDecimal((ulong)n); Console.Write(" blocks given back to the ");
            Console.Write(Heap.Name); Console.Write(" heap, in use -"); Console.WriteDecimal(before.BytesInUse - after.BytesInUse);
            Console.Write(" bytes, heap pages used "); WritePageChange(before, after);
            if (refused != 0) { Console.Write("; refused by the heap: "); Console.WriteDecimal((ulong)refused); }
            Console.WriteLine();
        }

        /// <summary>The change in the heap's used pages (TotalPages - FreePages) from <paramref name="before"/> to <paramref name="after"/>, signed.</summary>
        private static void WritePageChange(HeapStats before, HeapStats after)
        {
            ulong was = before.TotalPages - before.FreePages, now = after.TotalPages - after.FreePages;
            if (now >= was) { Console.Write("+"); Console.WriteDecimal(now - was); }
            else { Console.Write("-"); Console.WriteDecimal(was - now); }
        }

        /// <summary><paramref name="part"/> of <paramref name="whole"/> as a percentage with one decimal, rounded down ("21.8%").</summary>
        private static void WritePercent(ulong part, ulong whole)
        {
            ulong tenths = whole == 0 ? 0 : part * 1000 / whole;
            Console.WriteDecimal(tenths / 10); Console.Write("."); Console.WriteDecimal(tenths % 10); Console.Write("%");
        }

        /// <summary>`bench heap`: TSC cycles of Heap.Alloc and of Heap.Free per size (the image's heap), best of 5 rounds of 256 of each.</summary>
        private static void BenchHeap()
        {
            const int Rounds = 5, Blocks = 256;
            ulong* blocks = stackalloc ulong[Blocks];
            ulong* sizes = stackalloc ulong[6];
            sizes[0] = 16; sizes[1] = 64; sizes[2] = 100; sizes[3] = 256; sizes[4] = 1000; sizes[5] = 4000;
            Console.Write("object heap '"); Console.Write(Heap.Name);
            Console.WriteLine("': TSC cycles per call, best of 5 rounds of 256 Heap.Alloc then 256 Heap.Free");
            Console.WriteLine("(compare within one boot; under --deterministic the clock counts instructions)");
            Console.WriteLine("   bytes     alloc      free");
            int bad = 0;
            for (int s = 0; s < 6; s++)
            {
                ulong bestAlloc = ulong.MaxValue, bestFree = ulong.MaxValue;
                for (int r = 0; r < Rounds; r++)
                {
                    ulong t0 = Native.ReadTimeStampCounter();
                    for (int i = 0; i < Blocks; i++) blocks[i] = (ulong)Heap.Alloc((nuint)sizes[s]);
                    ulong t1 = Native.ReadTimeStampCounter();
                    for (int i = 0; i < Blocks; i++) if (Heap.Free((void*)blocks[i]) != HeapFreeResult.Ok) bad++;
                    ulong t2 = Native.ReadTimeStampCounter();
                    if ((t1 - t0) / Blocks < bestAlloc) bestAlloc = (t1 - t0) / Blocks;
                    if ((t2 - t1) / Blocks < bestFree) bestFree = (t2 - t1) / Blocks;
                }
                TextFormat.Dec(Out, sizes[s], 8); TextFormat.Dec(Out, bestAlloc, 10); TextFormat.Dec(Out, bestFree, 10);
                Console.WriteLine();
            }
            if (bad != 0) { Console.Write("frees refused by the heap: "); Console.WriteDecimal((ulong)bad); Console.WriteLine(); }
        }
    }
}
