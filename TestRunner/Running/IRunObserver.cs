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
    /// <summary>A test crashed the kernel and tests are left: boot number <paramref name="boot"/> starts, to send <paramref name="command"/>.</summary>
    void Rebooting(int boot, string command) { }
}

/// <summary>An observer that ignores everything.</summary>
public sealed class NullObserver : IRunObserver
{
    public static readonly NullObserver Instance = new();
}
