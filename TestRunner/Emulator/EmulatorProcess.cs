using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using TestRunner.Protocol;

namespace TestRunner.Emulator;

/// <summary>Something the emulator did: a serial event, a line on its stderr, or its exit.</summary>
public abstract record EmulatorEvent(TimeSpan At);
public sealed record SerialReceived(SerialEvent Event, TimeSpan At) : EmulatorEvent(At);
public sealed record EmulatorMessage(string Text, TimeSpan At) : EmulatorEvent(At);
public sealed record EmulatorExited(int Status, TimeSpan At) : EmulatorEvent(At);

/// <summary>
/// A running QEMU (or a stand-in) whose COM1 is its stdin/stdout. Serial bytes are decoded
/// into events as they arrive; QEMU's own stderr comes as messages; its exit comes last,
/// after every byte of output has been delivered.
/// </summary>
public sealed class EmulatorProcess : IAsyncDisposable
{
    readonly Process process;
    readonly Channel<EmulatorEvent> events = Channel.CreateUnbounded<EmulatorEvent>();
    readonly Stopwatch clock;
    readonly TextWriter? rawLog;
    readonly object logLock = new();
    readonly Task pump;

    EmulatorProcess(Process process, Stopwatch clock, TextWriter? rawLog)
    {
        this.process = process;
        this.clock = clock;
        this.rawLog = rawLog;
        var stdout = Task.Run(PumpSerialAsync);
        var stderr = Task.Run(PumpStderrAsync);
        pump = Task.Run(async () =>
        {
            await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
            await process.WaitForExitAsync().ConfigureAwait(false);
            events.Writer.TryWrite(new EmulatorExited(process.ExitCode, clock.Elapsed));
            events.Writer.TryComplete();
        });
    }

    /// <summary>The events in the order they happened; the last is <see cref="EmulatorExited"/>.</summary>
    public ChannelReader<EmulatorEvent> Events => events.Reader;

    /// <summary>Host time since the emulator was started.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    public int ProcessId => process.Id;

    /// <summary>The serial text received after the last newline (a prompt waiting for input, say); "" when a line has just ended.</summary>
    public string PendingSerialText => pendingText;
    volatile string pendingText = "";

    /// <summary>
    /// Starts the command with stdin/stdout/stderr redirected; <paramref name="rawLog"/>, when given,
    /// receives the serial output exactly as it arrived plus the lines the runner sends (prefixed "&gt;&gt; ").
    /// Throws <see cref="InvalidOperationException"/> with a clear message when the program cannot start.
    /// </summary>
    /// <summary>errno ETXTBSY on Linux ("Text file busy").</summary>
    const int TextFileBusy = 26;
    /// <summary>Starts tried while the program file is busy (about 0.5 s in all).</summary>
    const int StartAttempts = 10;

    public static EmulatorProcess Start(QemuCommand command, TextWriter? rawLog = null)
    {
        var info = new ProcessStartInfo(command.Program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in command.Arguments) info.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        Process process;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start '{command.Program}'");
                break;
            }
            catch (System.ComponentModel.Win32Exception e) when (e.NativeErrorCode == TextFileBusy && attempt < StartAttempts)
            {
                // ETXTBSY: the program file is still open for writing somewhere, e.g. in a child
                // that another thread forked but has not exec'd yet (every fd is inherited until
                // exec). It passes in milliseconds: try again.
                Thread.Sleep(10 * attempt);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"cannot start '{command.Program}': {e.Message}", e);
            }
        }
        return new EmulatorProcess(process, clock, rawLog);
    }

    /// <summary>Writes one command line to COM1, ending it with \n.</summary>
    public async Task SendLineAsync(string line)
    {
        Log(">> " + line + "\n");
        try
        {
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            await process.StandardInput.BaseStream.WriteAsync(bytes).ConfigureAwait(false);
            await process.StandardInput.BaseStream.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The emulator has exited; its exit event tells the rest of the story.
        }
    }

    /// <summary>Stops the emulator and everything it started.</summary>
    public void Kill()
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Waits until the emulator has exited and all its output was delivered.</summary>
    public Task Completion => pump;

    async Task PumpSerialAsync()
    {
        var decoder = new SerialDecoder();
        var logText = Encoding.UTF8.GetDecoder(); // keeps a character split across reads whole in the log
        var chars = new char[Encoding.UTF8.GetMaxCharCount(4096)];
        var buffer = new byte[4096];
        var stream = process.StandardOutput.BaseStream;
        while (true)
        {
            int n;
            try { n = await stream.ReadAsync(buffer).ConfigureAwait(false); }
            catch (IOException) { break; }
            catch (ObjectDisposedException) { break; }
            if (n == 0) break;
            if (rawLog != null) Log(new string(chars, 0, logText.GetChars(buffer, 0, n, chars, 0)));
            var decoded = decoder.Feed(buffer.AsSpan(0, n));
            pendingText = decoder.PendingText; // before the events, so whoever reacts to a line sees what follows it
            foreach (var e in decoded)
                events.Writer.TryWrite(new SerialReceived(e, clock.Elapsed));
        }
        foreach (var e in decoder.Flush())
            events.Writer.TryWrite(new SerialReceived(e, clock.Elapsed));
    }

    async Task PumpStderrAsync()
    {
        while (true)
        {
            string? line;
            try { line = await process.StandardError.ReadLineAsync().ConfigureAwait(false); }
            catch (IOException) { break; }
            catch (ObjectDisposedException) { break; }
            if (line == null) break;
            Log("[qemu] " + line + "\n");
            events.Writer.TryWrite(new EmulatorMessage(line, clock.Elapsed));
        }
    }

    void Log(string text)
    {
        if (rawLog == null) return;
        lock (logLock) { rawLog.Write(text); rawLog.Flush(); }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try { await pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { }
        process.Dispose();
    }
}
