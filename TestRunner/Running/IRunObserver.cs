using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>Live progress of a run, for the console reporter. Every method has a do-nothing default.</summary>
public interface IRunObserver
{
    void Ready(string kernelVersion) { }
    void CommandSent(string command) { }
    void SuiteStarted(string suite) { }
    void TestStarted(string suite, string test) { }
    void TestFinished(TestResult test) { }
    void MetricReported(Metric metric) { }
    void ConsoleLine(string text) { }
    void FrameReceived(Frame frame) { }
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullObserver : IRunObserver
{
    public static readonly NullObserver Instance = new();
}
