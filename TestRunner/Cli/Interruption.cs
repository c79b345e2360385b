using System.Runtime.InteropServices;

namespace TestRunner.Cli;

/// <summary>
/// Turns the first Ctrl-C, SIGINT or SIGTERM into a cancelled <see cref="Token"/>, so the running
/// command stops QEMU, says it was interrupted and exits 130. A second signal ends the runner at
/// once, the default way.
/// </summary>
public sealed class Interruption : IDisposable
{
    readonly CancellationTokenSource source = new();
    readonly PosixSignalRegistration[] registrations;
    readonly TextWriter error;
    int signals;

    public Interruption(TextWriter error)
    {
        this.error = error;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled when the first signal arrives.</summary>
    public CancellationToken Token => source.Token;

    void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref signals) > 1) return;   // context.Cancel stays false: the default action ends the process
        context.Cancel = true;
        error.WriteLine($"{context.Signal}: interrupted, stopping (a second signal ends the runner at once)");
        // The token reads as cancelled at once; its callbacks (the run's wind-down) run on the thread
        // pool, not on the runtime's signal thread, which must stay free to see QEMU exit.
        _ = source.CancelAsync();
    }

    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
        source.Dispose();
    }
}
