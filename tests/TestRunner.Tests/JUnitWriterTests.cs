using System.Text;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using TestRunner.Protocol;
using TestRunner.Reports;
using TestRunner.Running;
using Xunit;

namespace TestRunner.Tests;

public class JUnitWriterTests
{
    static RunResult Run(Action<TestRunState> finish, params string[] lines)
    {
        var state = new TestRunState("all", "256M", TimeSpan.FromSeconds(120));
        var decoder = new SerialDecoder();
        var at = TimeSpan.Zero;
        foreach (var line in lines)
            foreach (var e in decoder.Feed(Encoding.UTF8.GetBytes(line + "\n")))
                state.OnSerial(e, at += TimeSpan.FromMilliseconds(25));
        finish(state);
        return state.Result;
    }

    static RunResult Mixed() => Run(s => s.OnEmulatorExited(EmulatorStatus.TestsFailed, TimeSpan.FromSeconds(1)),
        [Kernel.Ready("CosmosKernel 0.1"), Kernel.Plan("runtime", "strings", "casts"), Kernel.Plan("heap", "above_4g"),
        Kernel.Suite("runtime"), .. Kernel.Passing("runtime", "strings"),
        .. Kernel.Failing("runtime", "casts", "expected <Foo> but was <Bar & \"baz\">"), Kernel.EndSuite("runtime", 1, 1),
        Kernel.Suite("heap"), Kernel.Skip("heap", "above_4g", "needs -m 6G"), Kernel.EndSuite("heap", 0, 0),
        Kernel.End(1, 1, 1)]);

    static XDocument Validated(RunResult run)
    {
        var schemas = new XmlSchemaSet();
        schemas.Add(null, Path.Combine(AppContext.BaseDirectory, "junit.xsd"));
        // Round-trip through text, as a CI server would read the file.
        var text = new StringWriter();
        JUnitWriter.ToXml(run).Save(text);
        var doc = XDocument.Parse(text.ToString());
        var errors = new List<string>();
        doc.Validate(schemas, (_, e) => errors.Add(e.Message));
        Assert.Empty(errors);
        return doc;
    }

    [Fact]
    public void A_mixed_run_writes_schema_valid_JUnit_with_one_testsuite_per_suite()
    {
        var doc = Validated(Mixed());
        var root = doc.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        Assert.Equal(["runtime", "heap"], root.Elements("testsuite").Select(s => (string)s.Attribute("name")!));
        Assert.Equal(3, (int)root.Attribute("tests")!);
        Assert.Equal(1, (int)root.Attribute("failures")!);
        Assert.Equal(1, (int)root.Attribute("skipped")!);
        Assert.Equal(0, (int)root.Attribute("errors")!);
    }

    [Fact]
    public void A_failed_test_carries_its_message_in_a_failure_element()
    {
        var doc = Validated(Mixed());
        var casts = doc.Descendants("testcase").Single(t => (string)t.Attribute("name")! == "casts");
        Assert.Equal("runtime", (string)casts.Attribute("classname")!);
        var failure = casts.Element("failure")!;
        Assert.Equal("expected <Foo> but was <Bar & \"baz\">", (string)failure.Attribute("message")!);
        Assert.Equal("AssertFailure", (string)failure.Attribute("type")!);
    }

    [Fact]
    public void A_skipped_test_carries_its_reason_and_a_passed_test_its_cycles()
    {
        var doc = Validated(Mixed());
        var skipped = doc.Descendants("testcase").Single(t => (string)t.Attribute("name")! == "above_4g");
        Assert.Equal("needs -m 6G", (string)skipped.Element("skipped")!.Attribute("message")!);
        var strings = doc.Descendants("testcase").Single(t => (string)t.Attribute("name")! == "strings");
        Assert.Null(strings.Element("failure"));
        Assert.Contains("cycles: 1000", (string)strings.Element("system-out")!);
    }

    [Fact]
    public void Suite_properties_record_memory_kernel_version_and_requested_suite()
    {
        var doc = Validated(Mixed());
        var props = doc.Root!.Element("testsuite")!.Element("properties")!.Elements("property")
            .ToDictionary(p => (string)p.Attribute("name")!, p => (string)p.Attribute("value")!);
        Assert.Equal("256M", props["memory"]);
        Assert.Equal("CosmosKernel 0.1", props["kernel.version"]);
        Assert.Equal("all", props["requested.suite"]);
    }

    [Fact]
    public void A_panic_in_a_test_is_an_error_of_type_KernelPanic_carrying_the_panic_text_and_the_report()
    {
        var run = Run(_ => { }, Kernel.Ready(), Kernel.Plan("selftest-fault", "page_fault"), Kernel.Suite("selftest-fault"), Kernel.Test("selftest-fault", "page_fault"),
            "PANIC: CPU exception 14 (#PF) at 0xea", Kernel.Panic("CPU exception 14 (#PF)"));
        var doc = Validated(run);
        Assert.Empty(doc.Descendants("failure"));
        var error = doc.Descendants("error").Single();
        Assert.Equal("KernelPanic", (string)error.Attribute("type")!);
        Assert.Equal("kernel panic: CPU exception 14 (#PF)", (string)error.Attribute("message")!);
        Assert.Contains("PANIC: CPU exception 14 (#PF) at 0xea", (string)error.Parent!.Element("system-out")!);
    }

    [Fact]
    public void A_run_that_broke_reports_every_planned_test_that_did_not_run_as_an_error()
    {
        var run = Run(s => s.OnEmulatorExited(1, TimeSpan.FromSeconds(1)), [Kernel.Ready(), Kernel.Plan("heap", "a", "b"), Kernel.Plan("mm", "c"),
            Kernel.Suite("heap"), .. Kernel.Passing("heap", "a"), "#KT1 TEST 99 garbage"]);
        var doc = Validated(run);
        Assert.Equal(3 + 1, (int)doc.Root!.Attribute("tests")!);   // the plan's three, and the kernel suite's 'boot and protocol'
        var notRun = doc.Descendants("testcase").Where(t => (string?)t.Element("error")?.Attribute("type") == "NotRun").Select(t => (string)t.Attribute("name")!);
        Assert.Equal(["b", "c"], notRun);
    }

    [Fact]
    public void A_broken_run_adds_a_kernel_suite_whose_error_holds_the_reason_and_serial_tail()
    {
        var run = Run(s => s.OnTimeout(TimeSpan.FromSeconds(120)), "GRUB loading", "stuck\u0001here");
        var doc = Validated(run);
        var suite = Assert.Single(doc.Root!.Elements("testsuite"));
        Assert.Equal(JUnitWriter.BrokenRunSuite, (string)suite.Attribute("name")!);
        Assert.Equal(1, (int)doc.Root!.Attribute("errors")!);
        var testcase = suite.Element("testcase")!;
        Assert.Contains("no READY", (string)testcase.Element("error")!.Attribute("message")!);
        Assert.Contains("GRUB loading", (string)testcase.Element("system-out")!);
    }

    [Fact]
    public void A_test_interrupted_by_a_timeout_is_an_error_not_a_failure()
    {
        var run = Run(s => s.OnTimeout(TimeSpan.FromSeconds(120)), Kernel.Ready(), Kernel.Plan("heap", "endless"), Kernel.Suite("heap"), Kernel.Test("heap", "endless"));
        var doc = Validated(run);
        var endless = doc.Descendants("testcase").Single(t => (string)t.Attribute("name")! == "endless");
        Assert.NotNull(endless.Element("error"));
        Assert.Null(endless.Element("failure"));
    }

    [Fact]
    public void Write_creates_the_folder_and_a_file_that_parses()
    {
        var dir = Path.Combine(Path.GetTempPath(), "junit-" + Guid.NewGuid().ToString("N"), "nested");
        try
        {
            var path = Path.Combine(dir, "kernel-all.xml");
            JUnitWriter.Write(Mixed(), path);
            Assert.Equal("testsuites", XDocument.Load(path).Root!.Name.LocalName);
        }
        finally { Directory.Delete(Path.GetDirectoryName(dir)!, true); }
    }
}
