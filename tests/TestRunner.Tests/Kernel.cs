using TestRunner.Protocol;

namespace TestRunner.Tests;

/// <summary>Frame lines exactly as the kernel writes them, for building transcripts.</summary>
public static class Kernel
{
    public static string Ready(string version = "CosmosKernel 0.1") => FrameParser.Format(FrameKind.Ready, version);
    public static string Suite(string suite) => FrameParser.Format(FrameKind.Suite, suite);
    public static string Test(string suite, string test) => FrameParser.Format(FrameKind.Test, suite, test);
    public static string Pass(string suite, string test, ulong cycles = 1000) => FrameParser.Format(FrameKind.Pass, suite, test, cycles.ToString());
    public static string Fail(string suite, string test, string message) => FrameParser.Format(FrameKind.Fail, suite, test, message);
    public static string Skip(string suite, string test, string reason) => FrameParser.Format(FrameKind.Skip, suite, test, reason);
    public static string EndSuite(string suite, int passed, int failed) => FrameParser.Format(FrameKind.EndSuite, suite, passed.ToString(), failed.ToString());
    public static string Metric(string name, string value, string unit) => FrameParser.Format(FrameKind.Metric, name, value, unit);
    public static string Panic(string summary) => FrameParser.Format(FrameKind.Panic, summary);
    public static string NoSuite(string name, params string[] suites) => FrameParser.Format(FrameKind.NoSuite, name, string.Join(' ', suites));
    /// <summary>The PLAN frame of a suite: its name and all its tests, in order.</summary>
    public static string Plan(string suite, params string[] tests) => FrameParser.Format(FrameKind.Plan, suite, string.Join(' ', tests));
    public static string End(int passed, int failed, int skipped) => FrameParser.Format(FrameKind.End, passed.ToString(), failed.ToString(), skipped.ToString());

    /// <summary>A passing test: TEST then PASS.</summary>
    public static string[] Passing(string suite, string test) => [Test(suite, test), Pass(suite, test)];

    /// <summary>A failing test: TEST then FAIL.</summary>
    public static string[] Failing(string suite, string test, string message) => [Test(suite, test), Fail(suite, test, message)];

    /// <summary>One suite of two passing tests, as 'test all' would answer for a healthy kernel.</summary>
    public static string[] HealthyRun() =>
    [
        Plan("runtime", "strings", "virtual_calls"),
        Suite("runtime"), .. Passing("runtime", "strings"), .. Passing("runtime", "virtual_calls"), EndSuite("runtime", 2, 0),
        End(2, 0, 0),
    ];
}
