using System.Globalization;
using System.Xml.Linq;
using TestRunner.Running;

namespace TestRunner.Reports;

/// <summary>
/// Writes a run as JUnit XML in the shape CI servers read: one &lt;testsuites&gt; root, one
/// &lt;testsuite&gt; per in-kernel suite, one &lt;testcase&gt; per test with &lt;failure&gt;,
/// &lt;skipped&gt; or &lt;error&gt; when it did not pass. A run that broke (exit 2) or was interrupted (130) gets an extra
/// suite <c>kernel</c> with one errored test case carrying the reason and the serial tail, so
/// a CI server shows the breakage as a red test.
/// </summary>
public static class JUnitWriter
{
    /// <summary>The name of the synthetic suite that reports a broken run.</summary>
    public const string BrokenRunSuite = "kernel";

    /// <summary>Builds the JUnit document of a run.</summary>
    public static XDocument ToXml(RunResult run)
    {
        var suites = run.Suites.Select(s => Suite(s, run)).ToList();
        if (run.ExitCode is RunExitCode.Broken or RunExitCode.Interrupted)
            suites.Add(BrokenSuite(run));

        int tests = suites.Sum(s => (int)s.Attribute("tests")!);
        int failures = suites.Sum(s => (int)s.Attribute("failures")!);
        int errors = suites.Sum(s => (int)s.Attribute("errors")!);
        int skipped = suites.Sum(s => (int)s.Attribute("skipped")!);
        var root = new XElement("testsuites",
            new XAttribute("name", $"CosmosKernel test {run.RequestedSuite}"),
            new XAttribute("tests", tests),
            new XAttribute("failures", failures),
            new XAttribute("errors", errors),
            new XAttribute("skipped", skipped),
            new XAttribute("time", Seconds(run.Duration)),
            suites);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    /// <summary>Writes the JUnit document to <paramref name="path"/>, creating its folder.</summary>
    public static void Write(RunResult run, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        ToXml(run).Save(path);
    }

    static XElement Suite(SuiteResult suite, RunResult run) =>
        new("testsuite",
            new XAttribute("name", suite.Name),
            new XAttribute("tests", suite.Tests.Count),
            new XAttribute("failures", suite.Failed),
            new XAttribute("errors", suite.Errors),
            new XAttribute("skipped", suite.Skipped),
            new XAttribute("time", Seconds(suite.Duration)),
            new XAttribute("timestamp", run.StartedUtc.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)),
            new XAttribute("hostname", "qemu"),
            Properties(run),
            suite.Tests.Select(TestCase));

    static XElement Properties(RunResult run) =>
        new("properties",
            Property("memory", run.Memory),
            Property("kernel.version", run.KernelVersion),
            Property("requested.suite", run.RequestedSuite));

    static XElement Property(string name, string value) =>
        new("property", new XAttribute("name", name), new XAttribute("value", Clean(value)));

    static XElement TestCase(TestResult test)
    {
        var element = new XElement("testcase",
            new XAttribute("name", test.Name),
            new XAttribute("classname", test.Suite),
            new XAttribute("time", Seconds(test.Duration)));
        switch (test.Status)
        {
            case TestStatus.Failed:
                element.Add(new XElement("failure",
                    new XAttribute("message", Clean(test.Message)),
                    new XAttribute("type", "AssertFailure"),
                    Clean(test.Message)));
                break;
            case TestStatus.Error:
                element.Add(new XElement("error", new XAttribute("message", Clean(test.Message)), new XAttribute("type", test.ErrorType), Clean(test.Message)));
                break;
            case TestStatus.Skipped:
                element.Add(new XElement("skipped", new XAttribute("message", Clean(test.Message))));
                break;
        }
        var output = new List<string>();
        if (test.Cycles is ulong cycles) output.Add($"cycles: {cycles}");
        output.AddRange(test.Metrics.Select(m => $"metric {m.Name}: {m.Value.ToString(CultureInfo.InvariantCulture)} {m.Unit}"));
        output.AddRange(test.Output);
        if (output.Count > 0)
            element.Add(new XElement("system-out", Clean(string.Join("\n", output))));
        return element;
    }

    static XElement BrokenSuite(RunResult run)
    {
        string tail = string.Join("\n", run.SerialTail);
        return new XElement("testsuite",
            new XAttribute("name", BrokenRunSuite),
            new XAttribute("tests", 1),
            new XAttribute("failures", 0),
            new XAttribute("errors", 1),
            new XAttribute("skipped", 0),
            new XAttribute("time", Seconds(run.Duration)),
            new XAttribute("timestamp", run.StartedUtc.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)),
            new XAttribute("hostname", "qemu"),
            Properties(run),
            new XElement("testcase",
                new XAttribute("name", "boot and protocol"),
                new XAttribute("classname", BrokenRunSuite),
                new XAttribute("time", Seconds(run.Duration)),
                new XElement("error", new XAttribute("message", Clean(run.Reason)), new XAttribute("type", run.ExitCode == RunExitCode.Interrupted ? "Interrupted" : "BrokenRun"), Clean(run.Reason)),
                new XElement("system-out", Clean(tail))));
    }

    static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Drops characters XML 1.0 cannot carry (serial garbage), keeping TAB and newline.</summary>
    static string Clean(string text) =>
        string.Concat(text.Where(c => c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0xFFFE && c != 0xFFFF && !char.IsSurrogate(c)))
                          .Select(c => c));
}
