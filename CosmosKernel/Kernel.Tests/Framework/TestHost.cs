using Kernel.Hal;

namespace Kernel.Tests.Framework
{
    /// <summary>Totals of one `test` command.</summary>
    public struct TestTotals
    {
        public int Passed, Failed, Skipped;
    }

    /// <summary>
    /// Runs suites and reports them to the host in the framed protocol (docs/testing.md):
    /// SUITE, then TEST and PASS/FAIL/SKIP per test, ENDSUITE, and END after the last suite.
    /// Human-readable progress goes to the screen.
    /// </summary>
    public static unsafe class TestHost
    {
        private static TestSuite[] s_suites;

        /// <summary>Every suite in the image, the deliberate-failure ones included.</summary>
        public static TestSuite[] Suites => s_suites ??= Registry.CreateSuites();

        /// <summary>The suite called <paramref name="name"/>, or null.</summary>
        public static TestSuite Find(string name)
        {
            TestSuite[] suites = Suites;
            for (int i = 0; i < suites.Length; i++) if (suites[i].Name == name) return suites[i];
            return null;
        }

        /// <summary>
        /// Sends a measurement to the host as a METRIC frame (name, value, unit), e.g.
        /// <c>TestHost.Metric("heap.small.alloc_free", 412, "cycles/op")</c>. Measurements are
        /// reported, never asserted: speed is not a pass/fail criterion inside the kernel.
        /// </summary>
        public static void Metric(string name, ulong value, string unit)
            => HostProtocol.Frame("METRIC", name, value.ToString(), unit);

        /// <summary>"runtime, memmap, ..." for usage messages.</summary>
        public static string SuiteNames()
        {
            string names = "all";
            TestSuite[] suites = Suites;
            for (int i = 0; i < suites.Length; i++) names = string.Concat(names, ", ", suites[i].Name);
            return names;
        }

        /// <summary>
        /// Tells the host that `test <paramref name="name"/>` named no suite: a NOSUITE frame, the name
        /// TAB the name of every suite in the image (the self-tests too) separated by single spaces.
        /// Written piece by piece: allocates nothing.
        /// </summary>
        public static void ReportNoSuite(string name)
        {
            TestSuite[] suites = Suites;
            int length = HostProtocol.PayloadLength(name) + 1;
            for (int i = 0; i < suites.Length; i++) length += (i > 0 ? 1 : 0) + HostProtocol.PayloadLength(suites[i].Name);
            HostProtocol.BeginFrame("NOSUITE", length);
            HostProtocol.WritePayload(name);
            HostProtocol.WritePayload("\t");
            for (int i = 0; i < suites.Length; i++)
            {
                if (i > 0) HostProtocol.WritePayload(" ");
                HostProtocol.WritePayload(suites[i].Name);
            }
            HostProtocol.EndFrame();
        }

        /// <summary>
        /// Runs `all` (every suite but the self-tests) or the one suite named <paramref name="selector"/>,
        /// then sends END. Returns false (and sends nothing: see <see cref="ReportNoSuite"/>) if no suite has that name.
        /// </summary>
        public static bool Run(string selector, out TestTotals totals) => Run(selector, 0, out totals);

        /// <summary>
        /// The same, announcing the plan first and starting at test number <paramref name="from"/> of it:
        /// a PLAN frame per selected suite (the suite TAB its tests' names separated by single spaces), so
        /// that the host knows every test before any runs, then the tests from the <paramref name="from"/>th
        /// on (0: all; counted over the whole selection, in plan order). A suite whose tests all come before
        /// <paramref name="from"/> is not run (no SUITE frame). The test runner sends `test all N` after a
        /// crash to go on with the tests after the one that crashed (docs/test-runner.md, "Every test counted").
        /// </summary>
        public static bool Run(string selector, int from, out TestTotals totals)
        {
            totals = default;
            if (selector != "all" && Find(selector) == null) return false;
            TestSuite[] suites = Suites;
            for (int i = 0; i < suites.Length; i++)
                if (Selected(suites[i], selector)) ReportPlan(suites[i]);
            int first = 0;   // plan index of the suite's first test
            for (int i = 0; i < suites.Length; i++)
            {
                TestSuite suite = suites[i];
                if (!Selected(suite, selector)) continue;
                if (first + suite.Count > from)
                    RunSuite(suite, from > first ? from - first : 0, ref totals);
                first += suite.Count;
            }
            HostProtocol.Frame("END", totals.Passed.ToString(), totals.Failed.ToString(), totals.Skipped.ToString());
            Vga.Write(string.Concat(new string[] { "tests: ", totals.Passed.ToString(), " passed, ", totals.Failed.ToString(), " failed, ", totals.Skipped.ToString(), " skipped\n" }));
            return true;
        }

        private static bool Selected(TestSuite suite, string selector) => selector == "all" ? !suite.IsSelfTest : suite.Name == selector;

        /// <summary>
        /// A PLAN frame: the suite's name TAB the names of all its tests separated by single spaces
        /// (empty for a suite without tests). Written piece by piece: allocates nothing, so even a
        /// broken heap cannot keep the host from knowing the plan.
        /// </summary>
        public static void ReportPlan(TestSuite suite)
        {
            int length = HostProtocol.PayloadLength(suite.Name) + 1;
            for (int t = 0; t < suite.Count; t++) length += (t > 0 ? 1 : 0) + HostProtocol.PayloadLength(suite[t].Name);
            HostProtocol.BeginFrame("PLAN", length);
            HostProtocol.WritePayload(suite.Name);
            HostProtocol.WritePayload("\t");
            for (int t = 0; t < suite.Count; t++)
            {
                if (t > 0) HostProtocol.WritePayload(" ");
                HostProtocol.WritePayload(suite[t].Name);
            }
            HostProtocol.EndFrame();
        }

        /// <summary>"needs at least N MiB of RAM (why); this machine has M MiB", or null when the machine has <paramref name="minimumMiB"/>.</summary>
        public static string MemorySkipReason(ulong minimumMiB, string why)
        {
            ulong ram = BootInfo.RamMiB;
            if (ram >= minimumMiB) return null;
            return string.Concat(new string[] { "needs at least ", minimumMiB.ToString(), " MiB of RAM (", why, "); this machine has ", ram.ToString(), " MiB" });
        }

        private static void RunSuite(TestSuite suite, int firstTest, ref TestTotals totals)
        {
            HostProtocol.Frame("SUITE", suite.Name);
            string suiteSkip = MemorySkipReason(suite.MinimumMiB, suite.MinimumReason);
            Vga.Write(string.Concat("suite ", suite.Name, (object)suiteSkip == null ? "\n" : string.Concat(": skipped, ", suiteSkip, "\n")));
            int passed = 0, failed = 0;
            for (int t = firstTest; t < suite.Count; t++)
            {
                TestCase test = suite[t];
                HostProtocol.Frame("TEST", suite.Name, test.Name);
                string skip = suiteSkip ?? MemorySkipReason(test.MinimumMiB, test.MinimumReason);
                if ((object)skip != null)
                {
                    // Too little RAM for it: not run, reported with the reason.
                    totals.Skipped++;
                    HostProtocol.Frame("SKIP", suite.Name, test.Name, skip);
                    if ((object)suiteSkip == null) Vga.Write(string.Concat("  SKIP ", test.Name, "\n"));
                    continue;
                }
                var asserts = new Assert();
                ulong start = Timer.Cycles;
                // A test that throws fails with the exception's type, message and throw site.
                try { test.Body(asserts); }
                catch (System.Exception e)
                {
                    asserts.Fail(string.Concat("threw ", e.ToString(), " at ", e.StackFrameCount > 0 ? Backtrace.NameOf(e.StackFrame(0)) : "?"));
                }
                ulong cycles = Timer.Cycles - start;
                if (asserts.Failed)
                {
                    failed++;
                    totals.Failed++;
                    HostProtocol.Frame("FAIL", suite.Name, test.Name, asserts.Failures);
                    Vga.SetColor(12, 0); Vga.Write("  FAIL "); Vga.SetColor(7, 0);
                    Vga.Write(string.Concat(test.Name, ": ", asserts.Failures, "\n"));
                }
                else if (asserts.Skipped)
                {
                    totals.Skipped++;
                    HostProtocol.Frame("SKIP", suite.Name, test.Name, asserts.SkipReason);
                    Vga.Write(string.Concat("  SKIP ", test.Name, "\n"));
                }
                else if (asserts.Checks == 0)
                {
                    // A test that asserts nothing proves nothing: report it as a failure.
                    failed++;
                    totals.Failed++;
                    HostProtocol.Frame("FAIL", suite.Name, test.Name, "the test made no assertion");
                }
                else
                {
                    passed++;
                    totals.Passed++;
                    HostProtocol.Frame("PASS", suite.Name, test.Name, cycles.ToString());
                    Vga.SetColor(10, 0); Vga.Write("  PASS "); Vga.SetColor(7, 0);
                    Vga.Write(string.Concat(test.Name, "\n"));
                }
            }
            HostProtocol.Frame("ENDSUITE", suite.Name, passed.ToString(), failed.ToString());
        }
    }
}
