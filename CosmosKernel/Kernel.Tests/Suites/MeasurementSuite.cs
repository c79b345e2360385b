using Kernel.Core.Memory;
using Kernel.Core.Runtime;
using Kernel.Hal;
using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>
    /// Measurements sent to the host as METRIC frames (TSC cycles per operation). Each test also
    /// checks that the work it timed was done right; the numbers themselves are never asserted.
    /// Under QEMU TCG compare them within one boot only.
    /// </summary>
    public sealed unsafe class MeasurementSuite : TestSuite
    {
        private const int Rounds = 1000;

        public MeasurementSuite() : base("measure")
        {
            Add("Small_allocations_and_frees_are_measured", &Small_allocations_and_frees_are_measured);
            Add("Page_allocations_and_frees_are_measured", &Page_allocations_and_frees_are_measured);
            Add("Interface_calls_through_the_cache_are_measured", &Interface_calls_through_the_cache_are_measured);
        }

        private static void Small_allocations_and_frees_are_measured(Assert a)
        {
            Heap.Free(Heap.Alloc(48));   // warm-up: the size class has its page or slab
            ulong freeBefore = Heap.Stats.FreePages;
            int failures = 0;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++)
            {
                void* p = Heap.Alloc(48);
                if (p == null || Heap.Free(p) != HeapFreeResult.Ok) failures++;
            }
            ulong cycles = (Timer.Cycles - start) / Rounds;
            ulong freeAfter = Heap.Stats.FreePages;   // read before the METRIC frame's strings are allocated
            TestHost.Metric("heap.small.alloc_free", cycles, "cycles/op");
            a.Equal(0, failures, "failed alloc/free pairs");
            a.Equal(freeBefore, freeAfter, "free pages after the rounds");
        }

        private static void Page_allocations_and_frees_are_measured(Assert a)
        {
            Heap.Free(Heap.Alloc(3000));   // warm-up
            ulong freeBefore = Heap.Stats.FreePages;
            int failures = 0;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds / 10; i++)
            {
                void* p = Heap.Alloc(3000);
                if (p == null || Heap.Free(p) != HeapFreeResult.Ok) failures++;
            }
            ulong cycles = (Timer.Cycles - start) / (Rounds / 10);
            ulong freeAfter = Heap.Stats.FreePages;
            TestHost.Metric("heap.medium.alloc_free", cycles, "cycles/op");
            a.Equal(0, failures, "failed alloc/free pairs");
            a.Equal(freeBefore, freeAfter, "free pages after the rounds");
        }

        private interface ICounter { int Next(int x); }
        private sealed class Up : ICounter { public int Next(int x) => x + 1; }
        private sealed class Down : ICounter { public int Next(int x) => x - 1; }
        private sealed class Twice : ICounter { public int Next(int x) => x + 2; }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static int Step(ICounter c, int x) => c.Next(x);

        private static void Interface_calls_through_the_cache_are_measured(Assert a)
        {
            ICounter[] counters = new ICounter[] { new Up(), new Down(), new Twice() };
            int x = 0;
            for (int i = 0; i < counters.Length; i++) x = Step(counters[i], x); // warm the cache
            ulong resolutions = InterfaceDispatch.Resolutions;
            ulong start = Timer.Cycles;
            for (int i = 0; i < Rounds; i++) x = Step(counters[i % 3], x);
            TestHost.Metric("dispatch.interface_call", (Timer.Cycles - start) / Rounds, "cycles/op");
            a.Equal(2 + 2 * (Rounds / 3) + (Rounds % 3 == 0 ? 0 : 1), x, "result of the calls");
            a.Equal(resolutions, InterfaceDispatch.Resolutions, "dispatch-map walks after warm-up");
        }
    }
}
