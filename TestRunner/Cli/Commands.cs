using System.CommandLine;
using System.Diagnostics;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;

namespace TestRunner.Cli;

/// <summary>The command line: thin commands over the library in Running/, Emulator/, Reports/ and Build/.</summary>
public static class Commands
{
    /// <summary>
    /// Each command's usage line, printed after a parse error (docs/test-runner.md shows the same lines).
    /// Every option a command has, but the hidden --qemu, is in its line.
    /// </summary>
    public static string Usage(string command) => command switch
    {
        "test" => "usage: TestRunner test [--suite all|<name>] [--memory 256M] [--iso <path> | --config Release] [--heap rat|buddy|template | --heap-plug <csproj>] [--page-plug <csproj>] [--oom-plug <csproj>]\n" +
                  "                       [--timeout 120] [--junit <path>] [--log <path>] [--no-build] [--direct] [--deterministic] [--verbose]\n" +
                  "                       [--numa N] [--cmdline <text>]",
        "run" => "usage: TestRunner run [--memory 256M] [--iso <path> | --config Release] [--heap rat|buddy|template | --heap-plug <csproj>] [--page-plug <csproj>] [--oom-plug <csproj>] [--no-build] [--direct] [--window] [--no-debug-exit]\n" +
                 "                      [--numa N] [--cmdline <text>]",
        "script" => "usage: TestRunner script <file> [--memory 256M] [--iso <path> | --config Release] [--heap rat|buddy|template | --heap-plug <csproj>] [--page-plug <csproj>] [--oom-plug <csproj>]\n" +
                    "                         [--timeout 120] [--log <path>] [--screendump <file.png|file.ppm>] [--no-build] [--direct] [--no-debug-exit] [--deterministic] [--trace <folder>]\n" +
                    "                         [--numa N] [--cmdline <text>]",
        "lab" => "usage: TestRunner lab <page> [--check] [--iso <path> | --config Release] [--heap rat|buddy|template | --heap-plug <csproj>] [--page-plug <csproj>] [--oom-plug <csproj>] [--timeout 120] [--no-build] [--direct]",
        "grade" => GradeCommand.Usage,
        "vmx" => "usage: TestRunner vmx [--memory 256M] [--iso <path> | --config Release] [--heap rat|buddy|template | --heap-plug <csproj>] [--page-plug <csproj>] [--oom-plug <csproj>] [--no-build]",
        _ => "usage: TestRunner test|run|script|lab|vmx|grade [options]   (TestRunner <command> --help lists a command's options)",
    };

    /// <summary>The usage line of the command a parse ended in (the root's for none).</summary>
    public static string Usage(ParseResult parse) =>
        Usage(parse.CommandResult.Command is RootCommand ? "" : parse.CommandResult.Command.Name);

    /// <param name="output">Where plain output goes.</param>
    /// <param name="fancy">Spectre.Console output; by default only on an interactive terminal outside CI.</param>
    public static RootCommand Root(TextWriter output, bool? fancy = null)
    {
        bool useFancy = fancy ?? ConsoleReporter.IsInteractiveTerminal();
        var root = new RootCommand("Boots the CosmosKernel in QEMU: runs its in-kernel tests, its shell, or a script of shell commands.");
        root.Options.Add(KernelOptions.Qemu);
        root.Subcommands.Add(Test(output, useFancy));
        root.Subcommands.Add(Run(output, useFancy));
        root.Subcommands.Add(Script(output, useFancy));
        root.Subcommands.Add(Lab(output, useFancy));
        root.Subcommands.Add(Vmx(output, useFancy));
        root.Subcommands.Add(GradeCommand.Create(output, useFancy));
        return root;
    }

    /// <summary>A command with the kernel's options first, then <paramref name="options"/>: the order --help lists them in.</summary>
    static Command NewCommand(string name, string description, KernelOptions kernel, params Option[] options)
    {
        var command = new Command(name, description);
        kernel.AddTo(command);
        foreach (var option in options) command.Options.Add(option);
        return command;
    }

    static Option<bool> NoDebugExitOption() => new("--no-debug-exit")
    {
        Description = "Boot without QEMU's isa-debug-exit device, as VMware Player or a plain QEMU would: 'halt' then powers off through ACPI (QEMU exits with 0)",
    };

    static Command Test(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var suite = OptionValues.Suite();
        var timeout = OptionValues.Timeout();
        var junit = OptionValues.FileToWrite("--junit", "JUnit XML file to write [default: artifacts/test-results/kernel-<suite>.xml]");
        var log = OptionValues.FileToWrite("--log", "Raw serial log file [default: beside the JUnit file]");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also show the kernel's console text" };
        var deterministic = OptionValues.Deterministic();
        var command = NewCommand("test", "Build if needed, boot headless, run in-kernel suites; exit 0 all passed, 1 a test failed, 2 boot failure/timeout/protocol error/unknown suite, 130 interrupted",
            kernel, suite, timeout, junit, log, deterministic, verbose);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output, parse.GetValue(verbose));
            string suiteName = parse.GetValue(suite)!;
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return KernelOptions.NoTargetExitCode(cancel);
            KernelOptions.WriteVmx(target, reporter);

            string junitPath = Path.GetFullPath(parse.GetValue(junit) ?? DefaultResultsPath(target, $"kernel-{suiteName}.xml"));
            string logPath = Path.GetFullPath(parse.GetValue(log) ?? Path.Combine(Path.GetDirectoryName(junitPath)!, $"serial-{suiteName}.log"));
            // Both files are made before the boot, so a path that cannot be written stops the run before it starts.
            if (CannotWrite(junit, junitPath, reporter) || CannotWrite(log, logPath, reporter)) return 2;
            RunResult result;
            using (var serialLog = new StreamWriter(logPath))
            {
                reporter.Info($"booting {KernelOptions.Relative(target.Image)} with {target.Memory} (timeout {parse.GetValue(timeout)} s)");
                result = await TestRun.RunAsync(new TestRunOptions
                {
                    Target = target,
                    Suite = suiteName,
                    Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    SerialLog = serialLog,
                    Observer = reporter,
                    Deterministic = parse.GetValue(deterministic),
                }, cancel);
            }
            reporter.Summary(result);
            try { JUnitWriter.Write(result, junitPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reporter.Error($"{junit.Name}: cannot write '{junitPath}': {e.Message}");
                return result.ExitCode == RunExitCode.Interrupted ? (int)result.ExitCode : 2;
            }
            reporter.Info($"JUnit: {KernelOptions.Relative(junitPath)}  serial log: {KernelOptions.Relative(logPath)}");
            return (int)result.ExitCode;
        });
        return command;
    }

    /// <summary>
    /// Creates <paramref name="path"/> (and its folder) empty, the way the run will write it; on failure
    /// reports it naming <paramref name="option"/> and returns true.
    /// </summary>
    static bool CannotWrite(Option option, string path, ConsoleReporter reporter)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (File.Create(path)) { }
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reporter.Error($"{option.Name}: cannot write '{path}': {e.Message}");
            return true;
        }
    }

    static string DefaultResultsPath(KernelTarget target, string file)
    {
        string? root = KernelLayout.FindRepoRoot(Environment.CurrentDirectory);
        string dir = root != null
            ? Path.Combine(root, "artifacts", "test-results")
            : Path.GetDirectoryName(Path.GetFullPath(target.Image))!;
        return Path.Combine(dir, file);
    }

    static Command Run(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var window = new Option<bool>("--window") { Description = "Also open QEMU's VGA window (needs a display)" };
        var noDebugExit = NoDebugExitOption();
        var command = NewCommand("run", "Boot interactively: the kernel's serial console on this terminal, both ways (type 'halt' to stop; Ctrl-C stops QEMU, exit 130)",
            kernel, window, noDebugExit);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return KernelOptions.NoTargetExitCode(cancel);
            if (target.Check(out var emulator) is string missing) { reporter.Error(missing); return 2; }
            KernelOptions.WriteVmx(target, reporter);
            bool debugExit = !parse.GetValue(noDebugExit);
            // A kernel command line on an ISO boot: a per-run ISO with it in the grub.cfg, deleted when QEMU is done.
            BootModule? perRun = null;
            if (BootModule.IsNeeded(target, deterministic: false))
            {
                var (prepared, failure) = await BootModule.PrepareAsync(target, null, cancel);
                if (prepared == null) { reporter.Error(failure!); return 2; }
                perRun = prepared;
            }
            using var perRunFiles = perRun;
            var qemu = QemuCommand.Interactive(emulator, perRun?.Image ?? target.Image, target.Medium, target.Memory, parse.GetValue(window), debugExit, target.NumaNodes,
                target.CommandLine);
            reporter.Info(qemu.ToString());
            // QEMU's COM1 output comes through the runner, which leaves out the protocol's frames (the READY before each
            // prompt is for the runner, not for people); the keyboard (stdin) stays QEMU's, in raw mode as QEMU sets it.
            var info = new ProcessStartInfo(qemu.Program) { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var a in qemu.Arguments) info.ArgumentList.Add(a);
            Process process;
            try { process = Process.Start(info)!; }
            catch (System.ComponentModel.Win32Exception e) { reporter.Error($"cannot start '{qemu.Program}': {e.Message}"); return 2; }
            using (process)
            {
                var copy = CopyWithoutFramesAsync(process.StandardOutput.BaseStream, Console.OpenStandardOutput());
                try { await process.WaitForExitAsync(cancel); }
                catch (OperationCanceledException) { }
                // Ctrl-C on the terminal reaches QEMU too (signal=on) and may have ended it already;
                // SIGTERM reaches only the runner. Either way QEMU does not outlive the run.
                if (cancel.IsCancellationRequested)
                {
                    try { process.Kill(entireProcessTree: true); }
                    catch (InvalidOperationException) { }
                    await process.WaitForExitAsync(CancellationToken.None);
                    reporter.Error("interrupted: QEMU was stopped");
                    return (int)RunExitCode.Interrupted;
                }
                await copy;
                reporter.Info($"QEMU exited: {EmulatorStatus.Describe(process.ExitCode)}");
                return process.ExitCode switch
                {
                    EmulatorStatus.AllPassed => 0,
                    EmulatorStatus.QemuQuit when !debugExit => 0,
                    EmulatorStatus.TestsFailed => 1,
                    _ => 2,
                };
            }
        });
        return command;
    }

    /// <summary>Copies QEMU's serial output to the terminal as it comes, without the protocol's frame lines (<see cref="Protocol.FrameFilter"/>).</summary>
    static async Task CopyWithoutFramesAsync(Stream from, Stream to)
    {
        var filter = new Protocol.FrameFilter();
        var buffer = new byte[4096];
        int n;
        while ((n = await from.ReadAsync(buffer)) > 0)
        {
            await to.WriteAsync(filter.Feed(buffer.AsSpan(0, n)));
            await to.FlushAsync();
        }
    }

    static Command Script(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var timeout = OptionValues.Timeout();
        var file = new Argument<string>("file") { Description = "Shell commands, one per line ('#' comments and blank lines are skipped)" };
        OptionValues.MustBeAnExistingFile(file);
        var log = OptionValues.FileToWrite("--log", "Raw serial log file");
        var noDebugExit = NoDebugExitOption();
        var screendump = OptionValues.Screendump();
        var deterministic = OptionValues.Deterministic();
        var trace = OptionValues.TraceFolder();
        var command = NewCommand("script", "Boot headless, feed a file of shell commands one per READY prompt, print the answers, then halt; exit 0 clean, 1 panic or failed test, 2 boot failure/timeout/protocol error, 130 interrupted",
            kernel, timeout, log, screendump, noDebugExit, deterministic, trace);
        command.Validators.Add(r =>
        {
            if (r.GetResult(deterministic) is { Implicit: false } && r.GetResult(screendump) is { Implicit: false })
                r.AddError($"{deterministic.Name} and {screendump.Name} cannot be used together: the screendump is taken when the runner sends 'halt', and a deterministic run sends nothing");
        });
        command.Arguments.Add(file);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            string path = parse.GetValue(file)!;
            string text;
            try { text = File.ReadAllText(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reporter.Error($"<{file.Name}>: cannot read '{path}': {e.Message}");
                return 2;
            }
            var commands = ScriptRun.ParseScript(text, out var scriptError);
            if (scriptError != null) { reporter.Error($"{path}: {scriptError}"); return 2; }
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return KernelOptions.NoTargetExitCode(cancel);
            target = target with { DebugExitDevice = !parse.GetValue(noDebugExit) };
            string? logPath = parse.GetValue(log) is string given ? Path.GetFullPath(given) : null;
            if (logPath != null && CannotWrite(log, logPath, reporter)) return 2;
            using var serialLog = logPath != null ? new StreamWriter(logPath) : null;
            string? traceFolder = parse.GetValue(trace) is string folder ? Path.GetFullPath(folder) : null;
            var result = await ScriptRun.RunAsync(new ScriptRunOptions
            {
                Target = target,
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                SerialLog = serialLog,
                Observer = reporter,
                Screendump = parse.GetValue(screendump) is string dump ? Path.GetFullPath(dump) : null,
                Deterministic = parse.GetValue(deterministic),
            }, traceFolder == null ? commands : ScriptTrace.Commands(commands), cancel);
            if (traceFolder != null && WriteTrace(reporter, traceFolder, path, target, parse.GetValue(deterministic), result, commands.Count) is int failed)
                return failed;
            reporter.Summary(result);
            return (int)result.ExitCode;
        });
        return command;
    }

    /// <summary>Writes a traced script run's files (ScriptTrace, MemoryTrace.TraceOutput); returns 2 when they cannot be written, else null.</summary>
    static int? WriteTrace(ConsoleReporter reporter, string folder, string script, KernelTarget target, bool deterministic, ScriptResult result, int scriptCommands)
    {
        var traced = ScriptTrace.Split(result, scriptCommands);
        string machine = $"{(result.KernelVersion.Length > 0 ? result.KernelVersion : "the kernel")} under QEMU, {target.Memory}{(deterministic ? ", --deterministic" : "")}";
        try
        {
            var files = MemoryTrace.TraceOutput.Write(folder, traced.ToRun(Path.GetFileName(script), machine, result));
            reporter.Info($"trace: {traced.Samples.Count} sample(s), {MemoryTrace.TracePlot.Kills(traced.Samples).Count} OOM kill(s): {string.Join("  ", files.Select(KernelOptions.Relative))}");
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reporter.Error($"--trace: cannot write into '{folder}': {e.Message}");
            return result.ExitCode == RunExitCode.Interrupted ? (int)result.ExitCode : 2;
        }
    }

    static Command Lab(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var timeout = OptionValues.Timeout();
        var page = new Argument<string>("page") { Description = "A lab page (docs/labs/*.md) that names its script and memory size and marks its generated output blocks" };
        OptionValues.MustBeAnExistingFile(page);
        var check = new Option<bool>("--check") { Description = "Do not write the page: exit 1 when its output blocks differ from the run" };
        var command = NewCommand("lab", "Run a lab page's script with --deterministic at the page's memory size and rewrite the page's output blocks from it; exit 0 written (or unchanged), 1 the page drifted (--check) or the run failed, 2 a bad page or a broken run",
            kernel, timeout, check);
        command.Arguments.Add(page);
        // The page names its memory size ('<!-- lab: script FILE, memory SIZE -->'): lab has no --memory.
        command.Options.Remove(kernel.Memory);
        command.Options.Remove(kernel.Numa);
        command.Options.Remove(kernel.CommandLine);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            string pagePath = Path.GetFullPath(parse.GetValue(page)!);
            var lab = Labs.LabPage.Read(pagePath, out var pageError);
            if (lab == null) { reporter.Error(pageError!); return 2; }
            var scripts = new Dictionary<string, IReadOnlyList<string>>();
            foreach (var labRun in lab.Runs)
            {
                string text;
                try { text = File.ReadAllText(labRun.ScriptPath); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    reporter.Error($"{pagePath}: cannot read its script '{labRun.ScriptPath}': {e.Message}");
                    return 2;
                }
                var commands = ScriptRun.ParseScript(text, out var scriptError);
                if (scriptError != null) { reporter.Error($"{labRun.ScriptPath}: {scriptError}"); return 2; }
                scripts[labRun.Name] = commands;
            }
            // The command line's image options stand for the runs that name no image; a run that names one is that repository build.
            if (lab.Runs.FirstOrDefault(r => r.NamesImage) is { } own && parse.GetResult(kernel.Iso) is { Implicit: false })
            {
                reporter.Error($"{KernelOptions.Relative(pagePath)}:{own.Line}: run '{own.Name}' boots a repository build ({own.DescribeImage()}); {kernel.Iso.Name} cannot stand for it: run lab without {kernel.Iso.Name}");
                return 2;
            }
            KernelTarget? pageTarget = null;
            if (lab.Runs.Any(r => !r.NamesImage))
            {
                pageTarget = await kernel.ResolveAsync(parse, reporter, cancel);
                if (pageTarget == null) return KernelOptions.NoTargetExitCode(cancel);
            }
            var runs = new List<(Labs.LabPage.Run Run, Labs.LabRun Result)>();
            foreach (var labRun in lab.Runs)
            {
                var target = labRun.NamesImage ? await LabImageAsync(labRun, parse, kernel, reporter, cancel) : pageTarget;
                if (target == null) return KernelOptions.NoTargetExitCode(cancel);
                string name = labRun.Name == "" ? "" : $" (run {labRun.Name})";
                reporter.Info($"running {KernelOptions.Relative(labRun.ScriptPath)}{name} --deterministic{(labRun.TraceName != null ? " --trace" : "")} with {labRun.Memory} on {KernelOptions.Relative(target.Image)}");
                var run = await Labs.LabRun.RunAsync(labRun, scripts[labRun.Name], target, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancel: cancel);
                if (run.Result.ExitCode != RunExitCode.Passed)
                {
                    reporter.Summary(run.Result);
                    return (int)run.Result.ExitCode;
                }
                runs.Add((labRun, run));
            }
            string? rendered = lab.Render(runs.ToDictionary(r => r.Run.Name, r => (ScriptResult)r.Result.Result), out var renderError);
            if (rendered == null) { reporter.Error(renderError!); return 2; }
            // Each traced run's CSV and plot; the plot's bytes follow ScottPlot and the fonts of the machine that draws it:
            // --check compares the CSV, a rewrite redraws the plot.
            var traces = runs.Where(r => r.Result.Csv != null)
                .Select(r => (Csv: r.Result.Csv!, CsvPath: lab.TraceCsvPathOf(r.Run)!, Svg: r.Result.Svg(r.Run), SvgPath: lab.TraceSvgPathOf(r.Run)!)).ToList();
            bool CsvSame((string Csv, string CsvPath, string? Svg, string SvgPath) t) => File.Exists(t.CsvPath) && File.ReadAllText(t.CsvPath) == t.Csv;
            bool SvgSame((string Csv, string CsvPath, string? Svg, string SvgPath) t) => t.Svg == null || (File.Exists(t.SvgPath) && File.ReadAllText(t.SvgPath) == t.Svg);
            bool csvSame = traces.All(CsvSame);
            bool svgSame = parse.GetValue(check) || traces.All(SvgSame);
            string traceNames = string.Join(", ", traces.Select(t => Path.GetFileName(t.CsvPath)));
            if (rendered == lab.Text && csvSame && svgSame)
            {
                reporter.Info($"{KernelOptions.Relative(pagePath)}: its {lab.Blocks.Count} output block(s){(traces.Count > 0 ? $" and {traceNames}" : "")} match the run{(runs.Count > 1 ? "s" : "")}");
                return 0;
            }
            if (parse.GetValue(check))
            {
                string what = rendered != lab.Text ? "its output blocks differ" : $"its trace {string.Join(", ", traces.Where(t => !CsvSame(t)).Select(t => Path.GetFileName(t.CsvPath)))} differs";
                string where = lab.FirstDifference(rendered) is string d ? $" at {d}\n" : "; ";
                reporter.Error($"{KernelOptions.Relative(pagePath)}: {what} from a fresh deterministic run{where}rewrite them with 'TestRunner lab {KernelOptions.Relative(pagePath)}'");
                return 1;
            }
            try
            {
                File.WriteAllText(pagePath, rendered);
                foreach (var t in traces)
                {
                    File.WriteAllText(t.CsvPath, t.Csv);
                    if (t.Svg != null) File.WriteAllText(t.SvgPath, t.Svg);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reporter.Error($"cannot write '{pagePath}' or its trace: {e.Message}");
                return 2;
            }
            reporter.Info($"rewrote the {lab.Blocks.Count} output block(s) of {KernelOptions.Relative(pagePath)}" +
                string.Concat(traces.Select(t => $", {KernelOptions.Relative(t.CsvPath)} and {KernelOptions.Relative(t.SvgPath)}")));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The image of a lab page's run that names its own (heap, heap-plug, oom-plug): the repository build in the command's
    /// --config, built when out of date (unless --no-build); null with the reason reported.
    /// </summary>
    static async Task<KernelTarget?> LabImageAsync(Labs.LabPage.Run run, ParseResult parse, KernelOptions kernel, ConsoleReporter reporter, CancellationToken cancel)
    {
        string? root = KernelLayout.FindRepoRoot(Environment.CurrentDirectory);
        if (root == null)
        {
            reporter.Error($"no {KernelLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run '{run.Name}' of the page boots a repository build ({run.DescribeImage()})");
            return null;
        }
        var layout = run.Layout(root, parse.GetValue(kernel.Config) ?? "Release");
        string? plugError = (layout.HeapPlug != null ? KernelLayout.CheckHeapPlug(root, layout.HeapPlug) : null)
            ?? (layout.OomPlug != null ? KernelLayout.CheckOomPlug(root, layout.OomPlug) : null);
        if (plugError != null)
        {
            reporter.Error($"run '{run.Name}' (line {run.Line}): {plugError}");
            return null;
        }
        if (!parse.GetValue(kernel.NoBuild) && !KernelBuilder.IsUpToDate(layout))
        {
            reporter.Info($"building kernel ({layout.Describe()}): {layout.BuildCommand}");
            string? buildError;
            try { buildError = await KernelBuilder.BuildAsync(layout, null, cancel); }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                reporter.Error($"interrupted while building the kernel ({layout.Describe()}): the build was stopped");
                return null;
            }
            if (buildError != null) { reporter.Error(buildError); return null; }
        }
        bool direct = parse.GetValue(kernel.Direct);
        return new KernelTarget(direct ? layout.ElfPath : layout.IsoPath, direct ? BootMedium.Direct : BootMedium.Iso, run.Memory,
            parse.GetValue(KernelOptions.Qemu) ?? QemuCommand.DefaultProgram, layout);
    }

    static Command Vmx(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions(bootable: false);
        var command = NewCommand("vmx", $"Write a VMware {VmxWriter.FileName} beside the ISO (CD-ROM from the ISO, COM1 to {VmxWriter.SerialLogName})", kernel);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return KernelOptions.NoTargetExitCode(cancel);
            if (target.CheckImage() is string missing) { reporter.Error(missing); return 2; }
            string path;
            try { path = VmxWriter.WriteBeside(target.Image, target.Memory); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reporter.Error($"cannot write {VmxWriter.FileName} beside {target.Image}: {e.Message}");
                return 2;
            }
            reporter.Info($"wrote {KernelOptions.Relative(path)}: open it in VMware Player; COM1 goes to {VmxWriter.SerialLogName} beside it");
            return 0;
        });
        return command;
    }
}
