using TestRunner.Emulator;
using TestRunner.Protocol;

namespace TestRunner.Running;

/// <summary>
/// What one kind of headless run decides while <see cref="EmulatorSession"/> drives QEMU: the line to
/// send back for a serial event (the command after READY), what a frame means, when the run is over,
/// and how QEMU's exit, the time limit and an interrupt are judged. The run keeps its own result;
/// it sees no process and no clock, only the host times it is handed.
/// <see cref="TestRunState"/> and <see cref="ScriptRunState"/> implement it.
/// </summary>
public interface IRunStateMachine
{
    /// <summary>The verdict is in; the session stops reading and stops QEMU.</summary>
    bool IsFinished { get; }

    /// <summary>Every answer is in and only QEMU's exit is missing (after END, after <c>halt</c>).</summary>
    bool AwaitsExit { get; }

    /// <summary>Handles one serial event at host time <paramref name="at"/>; returns a line to send to the kernel, or null.</summary>
    string? OnSerial(SerialEvent e, TimeSpan at);

    /// <summary>Handles QEMU's exit with <paramref name="status"/> (-1: the session stopped a QEMU whose exit it did not see).</summary>
    void OnEmulatorExited(int status, TimeSpan at);

    /// <summary>Handles the host-side time limit running out.</summary>
    void OnTimeout(TimeSpan at);

    /// <summary>Handles an interrupt (Ctrl-C, SIGINT, SIGTERM): exit 130.</summary>
    void OnInterrupted(TimeSpan at);

    /// <summary>Ends a run that cannot start (a bad option, no image or emulator, QEMU fails to start) with exit 2 and <paramref name="reason"/>.</summary>
    void Refuse(string reason);
}

/// <summary>How <see cref="EmulatorSession"/> starts and limits QEMU.</summary>
public sealed record EmulatorSessionOptions
{
    /// <summary>The headless QEMU command (<see cref="QemuCommand.Headless"/>): COM1 on its stdin/stdout.</summary>
    public required QemuCommand Command { get; init; }
    /// <summary>Host-side limit for the whole run, boot included.</summary>
    public required TimeSpan Timeout { get; init; }
    /// <summary>
    /// Once the run <see cref="IRunStateMachine.AwaitsExit"/>, how long QEMU may take to exit before it is stopped
    /// (that counts as the time limit running out); null: the time limit alone.
    /// </summary>
    public TimeSpan? ExitGrace { get; init; }
    /// <summary>Receives the raw serial log, when set (<see cref="EmulatorProcess.Start"/>).</summary>
    public TextWriter? SerialLog { get; init; }
    /// <summary>
    /// Runs before each line the run wants sent, with QEMU still going, under the time limit and the interrupt
    /// (a screendump before <c>halt</c>, say). When the run is finished after it, the line is not sent.
    /// </summary>
    public Func<EmulatorProcess, CancellationToken, Task>? BeforeSending { get; init; }
}

/// <summary>
/// The one event loop of every headless run: starts QEMU, feeds the run each serial event (console lines
/// and frames as the decoder and frame parser give them; QEMU's own stderr lines as console lines
/// prefixed <c>[qemu] </c>), writes back the lines the run answers with, and ends the run on QEMU's exit,
/// the time limit (<see cref="IRunStateMachine.OnTimeout"/>) or <c>cancel</c>
/// (<see cref="IRunStateMachine.OnInterrupted"/>). QEMU is stopped before it returns; a run never hangs.
/// </summary>
public static class EmulatorSession
{
    /// <summary>Runs <paramref name="run"/> to its end; it holds the result. Exceptions only for programming errors.</summary>
    public static async Task RunAsync(IRunStateMachine run, EmulatorSessionOptions options, CancellationToken cancel = default)
    {
        EmulatorProcess qemu;
        try { qemu = EmulatorProcess.Start(options.Command, options.SerialLog); }
        catch (InvalidOperationException e) { run.Refuse(e.Message); return; }

        await using (qemu)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(options.Timeout);
            bool graceArmed = false;
            try
            {
                await foreach (var e in qemu.Events.ReadAllAsync(limit.Token).ConfigureAwait(false))
                {
                    switch (e)
                    {
                        case SerialReceived s:
                            if (run.OnSerial(s.Event, s.At) is string line)
                            {
                                if (options.BeforeSending != null) await options.BeforeSending(qemu, limit.Token).ConfigureAwait(false);
                                if (!run.IsFinished) await qemu.SendLineAsync(line).ConfigureAwait(false);
                            }
                            break;
                        case EmulatorMessage m:
                            run.OnSerial(new ConsoleLine("[qemu] " + m.Text), m.At);
                            break;
                        case EmulatorExited x:
                            // Ctrl-C on a terminal reaches QEMU too; its exit then is the interrupt's doing.
                            if (cancel.IsCancellationRequested) run.OnInterrupted(x.At);
                            run.OnEmulatorExited(x.Status, x.At);
                            break;
                    }
                    if (run.IsFinished) break;
                    if (options.ExitGrace is TimeSpan grace && run.AwaitsExit && !graceArmed)
                    {
                        graceArmed = true;
                        limit.CancelAfter(grace);
                    }
                }
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                run.OnTimeout(qemu.Elapsed);
            }
            catch (OperationCanceledException)
            {
                run.OnInterrupted(qemu.Elapsed);
            }
            if (!run.IsFinished) run.OnEmulatorExited(-1, qemu.Elapsed);
            qemu.Kill();
        }
    }
}
