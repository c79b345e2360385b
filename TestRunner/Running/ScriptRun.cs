using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Protocol;
using TestRunner.Screen;

namespace TestRunner.Running;

/// <summary>One script command and what the kernel answered before its next READY.</summary>
public sealed class ScriptExchange
{
    public required string Command { get; init; }
    public List<string> Output { get; } = new();
    public List<Frame> Frames { get; } = new();
}

/// <summary>
/// What a script run produced. Its exit code: 0 script done and the kernel halted cleanly; 1 the kernel
/// panicked or reported a failed test; 2 boot failure, timeout or protocol error; 130 interrupted.
/// </summary>
public sealed class ScriptResult : RunOutcome
{
    /// <summary>Console text before the first READY.</summary>
    public List<string> BootOutput { get; } = new();
    public List<ScriptExchange> Exchanges { get; } = new();
    /// <summary>The VGA screen QEMU showed after the last command's answer, when a screendump was asked for.</summary>
    public RgbImage? Screen { get; internal set; }
    /// <summary>Where the screendump was saved (full path), when it was.</summary>
    public string? ScreendumpPath { get; internal set; }
}

/// <summary>Receives a script run's progress as it happens.</summary>
public interface IScriptObserver
{
    void CommandSent(string command) { }
    void ConsoleLine(string text) { }
    void FrameReceived(Frame frame) { }
    void ScreendumpSaved(string path, RgbImage image) { }
}

/// <summary>
/// The script mode as a state machine: wait for READY, send the next command, collect the
/// answer until the next READY, and so on; after the last command send <c>halt</c> and wait for
/// QEMU to exit. A script's own <c>halt</c> ends it early the same way. Without the isa-debug-exit
/// device, QEMU's status 0 after <c>halt</c> (the kernel's ACPI poweroff) is the clean end; status 0
/// at any other time is still a crash. <see cref="EmulatorSession"/> drives it.
/// </summary>
public sealed class ScriptRunState : IRunStateMachine
{
    public enum Phase { WaitingForReady, Executing, Halting, Finished }

    readonly IReadOnlyList<string> commands;
    readonly IScriptObserver? observer;
    readonly bool debugExitDevice;
    readonly TimeSpan timeout;
    readonly bool commandsInModule;
    int next;
    bool testFailed;

    /// <param name="timeout">The run's time limit, which a timeout's reason names (default <see cref="ScriptRunOptions.DefaultTimeout"/>).</param>
    /// <param name="commandsInModule">The kernel reads the commands itself from a boot module (--deterministic): at each
    /// READY the state machine records the next command as the one the shell runs now, and sends nothing.</param>
    public ScriptRunState(IReadOnlyList<string> commands, IScriptObserver? observer = null, bool debugExitDevice = true, TimeSpan? timeout = null,
        bool commandsInModule = false)
    {
        this.commandsInModule = commandsInModule;
        this.commands = commands;
        this.observer = observer;
        this.debugExitDevice = debugExitDevice;
        this.timeout = timeout ?? ScriptRunOptions.DefaultTimeout;
    }

    public Phase Current { get; private set; } = Phase.WaitingForReady;
    public ScriptResult Result { get; } = new();
    public bool IsFinished => Current == Phase.Finished;
    /// <summary>After <c>halt</c> was sent: only QEMU's exit is missing.</summary>
    public bool AwaitsExit => Current == Phase.Halting;
    /// <summary>Commands not sent yet.</summary>
    public int Remaining => commands.Count - next;

    /// <summary>Handles one serial event; returns the line to send to the kernel, or null.</summary>
    public string? OnSerial(SerialEvent e, TimeSpan at)
    {
        if (IsFinished) return null;
        var current = Result.Exchanges.Count > 0 ? Result.Exchanges[^1] : null;
        switch (e)
        {
            case ConsoleLine line:
                Result.AddToTail(line.Text);
                (current?.Output ?? Result.BootOutput).Add(line.Text);
                observer?.ConsoleLine(line.Text);
                return null;
            case CorruptFrame bad:
                Result.AddToTail(bad.Line);
                Finish(RunExitCode.Broken, $"protocol error: corrupted frame ({bad.Message}): {bad.Line}", at);
                return null;
            case FrameReceived { Frame: var f }:
                Result.AddToTail(FrameParser.Format(f.Kind, f.Fields.ToArray()));
                observer?.FrameReceived(f);
                if (f.Kind != FrameKind.Ready) current?.Frames.Add(f);
                if (f.Kind == FrameKind.Fail) testFailed = true;
                if (f.Kind == FrameKind.Panic)
                {
                    Result.Panic = f.Text;
                    Finish(current == null ? RunExitCode.Broken : RunExitCode.TestsFailed,
                        current == null ? $"kernel panic before READY: {f.Text}" : $"kernel panic after '{current.Command}': {f.Text}", at);
                    return null;
                }
                if (f.Kind != FrameKind.Ready) return null;
                if (Current == Phase.WaitingForReady) Result.KernelVersion = f.Text;
                if (Current == Phase.Halting)
                {
                    Finish(RunExitCode.Broken, "protocol error: READY after 'halt' (the kernel did not halt)", at);
                    return null;
                }
                return SendNext();
            default:
                throw new ArgumentException($"unknown serial event {e}");
        }
    }

    string? SendNext()
    {
        string command = next < commands.Count ? commands[next++] : "halt";
        Current = command.Trim() == "halt" ? Phase.Halting : Phase.Executing;
        Result.Exchanges.Add(new ScriptExchange { Command = command });
        observer?.CommandSent(command);
        return commandsInModule ? null : command;
    }

    /// <summary>Handles QEMU's exit.</summary>
    public void OnEmulatorExited(int status, TimeSpan at)
    {
        Result.EmulatorStatus ??= status;
        if (IsFinished) return;
        string last = Result.Exchanges.Count > 0 ? $" after '{Result.Exchanges[^1].Command}'" : "";
        bool poweredOff = !debugExitDevice && status == EmulatorStatus.QemuQuit && Current == Phase.Halting;
        switch (status)
        {
            case EmulatorStatus.AllPassed when Current == Phase.WaitingForReady:
                Finish(RunExitCode.Broken, "boot failure: the kernel halted before it was READY", at);
                break;
            case EmulatorStatus.AllPassed when Remaining > 0:
            case EmulatorStatus.QemuQuit when poweredOff && Remaining > 0:
                Finish(RunExitCode.Broken, $"the kernel halted{last} with {Remaining} script command(s) not sent", at);
                break;
            case EmulatorStatus.AllPassed:
            case EmulatorStatus.QemuQuit when poweredOff:
                Finish(testFailed ? RunExitCode.TestsFailed : RunExitCode.Passed, testFailed ? "a test the script ran failed" : "", at);
                break;
            case EmulatorStatus.TestsFailed:
            case EmulatorStatus.Panic when Current != Phase.WaitingForReady:
                Finish(RunExitCode.TestsFailed, $"QEMU exited{last} with status {EmulatorStatus.Describe(status)}", at);
                break;
            default:
                Finish(RunExitCode.Broken,
                    Current == Phase.WaitingForReady
                        ? $"boot failure: QEMU exited (status {EmulatorStatus.Describe(status)}) before the kernel was READY"
                        : $"QEMU exited{last} with status {EmulatorStatus.Describe(status)}", at);
                break;
        }
    }

    /// <summary>Handles the host-side time limit running out.</summary>
    public void OnTimeout(TimeSpan at)
    {
        if (IsFinished) return;
        string where = Current switch
        {
            Phase.WaitingForReady => "no READY frame from the kernel",
            Phase.Halting => "the kernel did not exit after 'halt'",
            _ => $"no READY after '{Result.Exchanges[^1].Command}'",
        };
        Finish(RunExitCode.Broken, $"timeout after {timeout.TotalSeconds:0.#} s: {where}", at);
    }

    /// <summary>Handles a screendump that could not be taken or saved: the run is broken (exit 2).</summary>
    public void OnScreendumpFailed(string message, TimeSpan at)
    {
        if (!IsFinished) Finish(RunExitCode.Broken, $"screendump failed: {message}", at);
    }

    /// <summary>Handles an interrupt (Ctrl-C, SIGINT, SIGTERM): exit 130.</summary>
    public void OnInterrupted(TimeSpan at)
    {
        if (IsFinished) return;
        string where = Result.Exchanges.Count > 0 ? $" while '{Result.Exchanges[^1].Command}' ran" : " before the kernel was READY";
        Finish(RunExitCode.Interrupted, $"interrupted{where}: QEMU was stopped", at);
    }

    /// <summary>Ends the run before it starts (no image, a bad screendump path, QEMU cannot start): exit 2 with <paramref name="reason"/>.</summary>
    public void Refuse(string reason) => Finish(RunExitCode.Broken, reason, TimeSpan.Zero);

    void Finish(RunExitCode code, string reason, TimeSpan at)
    {
        Result.Conclude(code, reason, at);
        Current = Phase.Finished;
    }
}

/// <summary>Options of one script run.</summary>
public sealed record ScriptRunOptions
{
    /// <summary>The time limit when none is given: 120 s.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public required KernelTarget Target { get; init; }
    /// <summary>Host-side limit for the whole run, boot included.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;
    public TextWriter? SerialLog { get; init; }
    public IScriptObserver? Observer { get; init; }
    /// <summary>
    /// When set, QEMU is started with a QMP socket and, after the last command's answer (before
    /// <c>halt</c>), the VGA screen is dumped through QMP <c>screendump</c> into this file: PNG
    /// or PPM by its extension. The picture is also in <see cref="ScriptResult.Screen"/>.
    /// </summary>
    public string? Screendump { get; init; }
    /// <summary>
    /// A deterministic run (docs/test-runner.md): QEMU counts instructions for its clock and the script reaches the
    /// kernel as a boot module that its shell runs line by line; the runner only reads. Not with <see cref="Screendump"/>.
    /// </summary>
    public bool Deterministic { get; init; }
    /// <summary>
    /// Before the screendump, the runner waits (up to <see cref="PromptWait"/>) for the prompt the
    /// shell writes after READY to arrive on serial, then this long more: the kernel writes each
    /// piece of console text to COM1 first and to the screen right after.
    /// </summary>
    public TimeSpan ScreendumpSettle { get; init; } = TimeSpan.FromMilliseconds(300);
    /// <summary>How long to wait for console text after the last READY (the prompt) before the screendump.</summary>
    public TimeSpan PromptWait { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How long to keep trying to reach QEMU's QMP socket.</summary>
    public TimeSpan QmpConnectWait { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>Boots the kernel and feeds it a script of shell commands, one per READY, through <see cref="ScriptRunState"/> driven by <see cref="EmulatorSession"/>.</summary>
public static class ScriptRun
{
    /// <summary>
    /// Reads a script: one shell command per line; blank lines and lines starting with '#' are
    /// skipped. Refuses control characters other than TAB with the line number.
    /// </summary>
    public static IReadOnlyList<string> ParseScript(string text, out string? error)
    {
        error = null;
        var commands = new List<string>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.Any(c => char.IsControl(c) && c != '\t'))
            {
                error = $"script line {i + 1} contains a control character";
                return Array.Empty<string>();
            }
            commands.Add(line);
        }
        return commands;
    }

    /// <summary>Runs the commands and returns what the kernel answered to each.</summary>
    public static async Task<ScriptResult> RunAsync(ScriptRunOptions options, IReadOnlyList<string> commands, CancellationToken cancel = default)
    {
        var state = new ScriptRunState(commands, options.Observer, options.Target.DebugExitDevice, options.Timeout, options.Deterministic);
        string? moduleText = null, moduleError = null;
        if (options.Deterministic) moduleText = BootModule.Text(commands, out moduleError);
        if (options.Target.Check(out var emulator) is string missing)
            state.Refuse(missing);
        else if (options.Screendump != null && Screendump.CheckPath(options.Screendump) is string badPath)
            state.Refuse(badPath);
        else if (options.Deterministic && options.Screendump != null)
            state.Refuse("--screendump cannot be used with --deterministic: the screendump is taken when the runner sends 'halt', and a deterministic run sends nothing");
        else if (moduleError != null)
            state.Refuse(moduleError);
        else if (options.Deterministic)
        {
            var (module, failure) = await BootModule.PrepareAsync(options.Target, moduleText!, cancel).ConfigureAwait(false);
            if (module == null) state.Refuse(failure!);
            else
                using (module)
                    await EmulatorSession.RunAsync(state, new EmulatorSessionOptions
                    {
                        Command = QemuCommand.Headless(emulator, module.Image, options.Target.Medium, options.Target.Memory, null, options.Target.DebugExitDevice, module.Determinism, options.Target.NumaNodes,
                            options.Target.CommandLine),
                        Timeout = options.Timeout,
                        SerialLog = options.SerialLog,
                    }, cancel).ConfigureAwait(false);
        }
        else
        {
            // A kernel command line on an ISO boot: a per-run ISO with it in the grub.cfg.
            BootModule? perRun = null;
            if (BootModule.IsNeeded(options.Target, deterministic: false))
            {
                var (prepared, failure) = await BootModule.PrepareAsync(options.Target, null, cancel).ConfigureAwait(false);
                if (prepared == null) { state.Refuse(failure!); return state.Result; }
                perRun = prepared;
            }
            string? qmpSocket = options.Screendump == null ? null
                : Path.Combine(Path.GetTempPath(), $"kt-qmp-{Guid.NewGuid().ToString("N")[..12]}.sock");
            try
            {
                await EmulatorSession.RunAsync(state, new EmulatorSessionOptions
                {
                    Command = QemuCommand.Headless(emulator, perRun?.Image ?? options.Target.Image, options.Target.Medium, options.Target.Memory, qmpSocket, options.Target.DebugExitDevice,
                        numaNodes: options.Target.NumaNodes, commandLine: options.Target.CommandLine),
                    Timeout = options.Timeout,
                    SerialLog = options.SerialLog,
                    BeforeSending = qmpSocket == null ? null : ScreendumpBeforeHalt(options, state, qmpSocket),
                }, cancel).ConfigureAwait(false);
            }
            finally
            {
                if (qmpSocket != null) File.Delete(qmpSocket);
                perRun?.Dispose();
            }
        }
        return state.Result;
    }

    /// <summary>
    /// The hook that takes the screendump once, just before <c>halt</c> is sent; a screendump that fails
    /// ends the run (<see cref="ScriptRunState.OnScreendumpFailed"/>) and <c>halt</c> is not sent.
    /// </summary>
    static Func<EmulatorProcess, CancellationToken, Task> ScreendumpBeforeHalt(ScriptRunOptions options, ScriptRunState state, string qmpSocket)
    {
        bool dumped = false;
        return async (qemu, cancel) =>
        {
            if (dumped || state.Current != ScriptRunState.Phase.Halting) return;
            dumped = true;
            var (image, failure) = await TakeScreendumpAsync(options, qemu, qmpSocket, cancel).ConfigureAwait(false);
            if (image == null)
            {
                state.OnScreendumpFailed(failure!, qemu.Elapsed);
                return;
            }
            state.Result.Screen = image;
            state.Result.ScreendumpPath = Path.GetFullPath(options.Screendump!);
            options.Observer?.ScreendumpSaved(state.Result.ScreendumpPath, image);
        };
    }

    /// <summary>
    /// Waits for the prompt and the screen to settle, asks QEMU (QMP <c>screendump</c>) to write a PPM into a
    /// temporary file, reads it and saves it where the options say. Returns the image, or null and why not.
    /// </summary>
    static async Task<(RgbImage? Image, string? Failure)> TakeScreendumpAsync(ScriptRunOptions options, EmulatorProcess qemu, string qmpSocket, CancellationToken cancel)
    {
        string ppm = Path.Combine(Path.GetTempPath(), $"kt-screen-{Guid.NewGuid():N}.ppm");
        try
        {
            var promptDeadline = qemu.Elapsed + options.PromptWait;
            while (qemu.PendingSerialText.Length == 0 && qemu.Elapsed < promptDeadline)
                await Task.Delay(20, cancel).ConfigureAwait(false);
            await Task.Delay(options.ScreendumpSettle, cancel).ConfigureAwait(false);
            await using (var qmp = await QmpClient.ConnectAsync(qmpSocket, options.QmpConnectWait, cancel).ConfigureAwait(false))
                await qmp.ScreendumpAsync(ppm, cancel).ConfigureAwait(false);
            var image = Ppm.Parse(await File.ReadAllBytesAsync(ppm, cancel).ConfigureAwait(false));
            Screendump.Save(image, options.Screendump!);
            return (image, null);
        }
        catch (Exception e) when (e is QmpException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return (null, e.Message);
        }
        finally
        {
            File.Delete(ppm);
        }
    }
}
