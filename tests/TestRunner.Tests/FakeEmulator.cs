namespace TestRunner.Tests;

/// <summary>
/// A stand-in for qemu-system-x86_64: a small POSIX shell script that records its arguments,
/// then plays a transcript on stdout (the serial port) and exits with a chosen status, the way
/// the kernel would through isa-debug-exit (and leaves its pid, so a test can see it was stopped). Transcript lines are printed as they are, except:
///   @read        read one line from stdin (the runner's command) and record it
///   @raw TEXT    print TEXT without a newline (half a frame, say)
///   @crlf TEXT   print TEXT ending in \r\n
///   @stderr TEXT print TEXT on stderr, as QEMU prints its own errors
///   @sleep S     wait S seconds
///   @exit N      exit with status N
/// It also leaves an empty kernel.iso beside itself so the runner has an image to hand over.
/// Given several transcripts (<see cref="FakeEmulator(IEnumerable{string}[])"/>), the Nth start plays the Nth
/// (the runner boots again after a crash); the lines the runner wrote are recorded across starts.
/// </summary>
public sealed class FakeEmulator : IDisposable
{
    readonly DirectoryInfo dir;

    public FakeEmulator(IEnumerable<string> transcript) : this([transcript], 0) { }

    /// <summary>A fake whose Nth start plays <paramref name="boots"/>[N-1] (a start beyond the last plays nothing and exits 0).</summary>
    public static FakeEmulator Booting(params IEnumerable<string>[] boots) => new(boots, 0);

    FakeEmulator(IEnumerable<string>[] boots, int _)
    {
        dir = Directory.CreateTempSubdirectory("fake-qemu-");
        File.WriteAllLines(TranscriptPath, boots[0]);
        for (int i = 1; i < boots.Length; i++) File.WriteAllLines(Path.Combine(dir.FullName, $"transcript.{i + 1}.txt"), boots[i]);
        File.WriteAllText(IsoPath, "");
        File.WriteAllText(ProgramPath,
            $$"""
            #!/bin/sh
            echo $$ > '{{PidPath}}'
            printf '%s\n' "$@" > '{{ArgsPath}}'
            boot=$(( $(cat '{{BootsPath}}' 2>/dev/null || echo 0) + 1 ))
            echo $boot > '{{BootsPath}}'
            transcript='{{TranscriptPath}}'
            [ $boot -gt 1 ] && transcript='{{dir.FullName}}/transcript.'$boot'.txt'
            [ -f "$transcript" ] || exit 0
            [ $boot -gt 1 ] || : > '{{InputPath}}'
            while IFS= read -r line <&3; do
              case "$line" in
                @read) IFS= read -r cmd; printf '%s\n' "$cmd" >> '{{InputPath}}' ;;
                @raw\ *) printf '%s' "${line#@raw }" ;;
                @crlf\ *) printf '%s\r\n' "${line#@crlf }" ;;
                @stderr\ *) printf '%s\n' "${line#@stderr }" >&2 ;;
                @sleep\ *) sleep "${line#@sleep }" ;;
                @exit\ *) exit "${line#@exit }" ;;
                *) printf '%s\n' "$line" ;;
              esac
            done 3< "$transcript"
            exit 0
            """.Replace("\r\n", "\n") + "\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(ProgramPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string ProgramPath => Path.Combine(dir.FullName, "fake-qemu");
    public string TranscriptPath => Path.Combine(dir.FullName, "transcript.txt");
    public string ArgsPath => Path.Combine(dir.FullName, "args.txt");
    public string InputPath => Path.Combine(dir.FullName, "input.txt");
    public string IsoPath => Path.Combine(dir.FullName, "kernel.iso");
    public string PidPath => Path.Combine(dir.FullName, "pid");
    public string BootsPath => Path.Combine(dir.FullName, "boots");
    /// <summary>How many times the runner started the fake.</summary>
    public int Boots => File.Exists(BootsPath) ? int.Parse(File.ReadAllText(BootsPath).Trim()) : 0;
    public string Folder => dir.FullName;

    /// <summary>The arguments the runner passed, one per entry.</summary>
    public string[] Arguments => File.ReadAllLines(ArgsPath);

    /// <summary>True once the runner has started the fake (it has written its arguments).</summary>
    public bool Started => File.Exists(ArgsPath) && File.Exists(PidPath);

    /// <summary>True while the fake's process still exists (it was started and nobody has killed or reaped it).</summary>
    public bool IsRunning
    {
        get
        {
            if (!File.Exists(PidPath) || !int.TryParse(File.ReadAllText(PidPath).Trim(), out int pid)) return false;
            try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
            catch (ArgumentException) { return false; }
        }
    }

    /// <summary>The lines the runner wrote to the serial port.</summary>
    public string[] Received => File.Exists(InputPath) ? File.ReadAllLines(InputPath) : [];

    public void Dispose()
    {
        try { dir.Delete(true); } catch (IOException) { }
    }
}
