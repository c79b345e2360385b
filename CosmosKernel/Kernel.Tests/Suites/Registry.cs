using Kernel.Tests.Framework;

namespace Kernel.Tests
{
    /// <summary>Every suite in the image, in the order `test all` runs them. Add new suites here.</summary>
    public static class Registry
    {
        public static TestSuite[] CreateSuites() => new TestSuite[]
        {
            new RuntimeSuite(),
            new MemoryMapSuite(),
            new AcpiSuite(),
            new HeapSuite(),
            new RatHeapSuite(),
            new MmSuite(),
            new TimerSuite(),
            new MeasurementSuite(),
            new SchedSuite(),
            new ProcSuite(),
            new OomPolicySuite(),
            new GcSuite(),
            new NumaSuite(),
            new CSharpSuite(),
            new EhSuite(),          // last: its out-of-memory test exhausts the heap (and fragments it at 32M)
            new SelfTestFailSuite(),
            new SelfTestFaultSuite(),
            new SelfTestThrowSuite(),
            new SelfTestOutOfMemorySuite(),
            new SelfTestStackOverflowSuite(),
            new SelfTestTaskStackSuite(),
            new SelfTestTaskFaultSuite(),
            new SelfTestMemorySuite(),
            new SelfTestGcCorruptSuite(),
        };
    }
}
