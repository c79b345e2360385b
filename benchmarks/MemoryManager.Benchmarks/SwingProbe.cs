using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using MemoryManager.Allocator;
using MemoryManager.Common;
using MemoryManager.Core;

namespace MemoryManager.Benchmarks
{
    /// <summary>
    /// The no-pcp order-0 pair's run-to-run swing (docs/performance.md, "The no-pcp swing"): one
    /// process builds the half-used zone without per-cpu lists, warms the pair up, times 30
    /// rounds of a million pairs and prints the fastest and the median round with where the hot
    /// data sits (address modulo 4 KiB of the page's descriptor, its buddy's, the zone, the head
    /// of free_area[0] and vmstat). Run it several times: a layout that changes from run to run
    /// shows here; with DOTNET_PerfMapEnabled=1 the runtime also writes where the JIT put the code
    /// (/tmp/perf-PID.map).
    ///   dotnet run -c Release --project benchmarks/MemoryManager.Benchmarks -- swing 1024
    /// </summary>
    public static unsafe class SwingProbe
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Pairs(PageAllocator pa, ref TaskContext t, int n)
        {
            for (int i = 0; i < n; i++)
            {
                ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
                pa.FreePages(pfn, 0, Machine.Pid);
            }
        }

        public static int Run(string[] args)
        {
            if (args.Length < 2 || !int.TryParse(args[1], out int size) || size < 64)
            {
                Console.Error.WriteLine("usage: swing <size in MiB, at least 64>");
                return 2;
            }
            PageAllocator pa = HalfUsedZone.BuildBuddy(size, false, out byte* memmap, out _);
            TaskContext t = Machine.Task();
            for (int w = 0; w < 40; w++)
            {
                Pairs(pa, ref t, 200000);
                if (w % 10 == 9) System.Threading.Thread.Sleep(150);   // let tier 1 be installed
            }
            var rounds = new List<double>();
            for (int r = 0; r < 30; r++)
            {
                long s = Stopwatch.GetTimestamp();
                Pairs(pa, ref t, 1000000);
                rounds.Add((Stopwatch.GetTimestamp() - s) * 1e9 / Stopwatch.Frequency / 1e6);
            }
            rounds.Sort();
            ulong pfn = pa.AllocPages(ref t, Gfp.GFP_KERNEL, 0);
            ulong d = (ulong)pa.PfnToPage(pfn), b = (ulong)pa.PfnToPage(pfn ^ 1);
            pa.FreePages(pfn, 0, Machine.Pid);
            ref Zone z = ref pa.GetZone(0, ZoneType.Normal);
            ulong za = (ulong)Unsafe.AsPointer(ref z), fh = (ulong)Unsafe.AsPointer(ref z.FreeAreaHead[0]);
            ulong st = (ulong)Unsafe.AsPointer(ref pa.Stat);
            Console.WriteLine("no-pcp pair at " + size + " MiB: min " + rounds[0].ToString("F1") + " ns, median " + rounds[15].ToString("F1") +
                " ns | mod 4 KiB: descriptor 0x" + (d & 4095).ToString("X3") + ", buddy 0x" + (b & 4095).ToString("X3") +
                ", zone 0x" + (za & 4095).ToString("X3") + ", free_area[0] head 0x" + (fh & 4095).ToString("X3") +
                ", vmstat 0x" + (st & 4095).ToString("X3") + " | pid " + Environment.ProcessId);
            pa = null;
            Machine.Release(ref memmap);
            return 0;
        }
    }
}
