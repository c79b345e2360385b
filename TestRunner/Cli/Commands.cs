using System.CommandLine;
using System.Diagnostics;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Reports;
using TestRunner.Running;
using TestRunner.Screen;

namespace TestRunner.Cli;

/// <summary>The command line: thin commands over the library in Running/, Emulator/, Reports/ and Build/.</summary>
public static class Commands
{
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
        root.Subcommands.Add(Vmx(output, useFancy));
        return root;
    }

    static Option<int> TimeoutOption() => new("--timeout", "-t")
    {
        Description = "Host-side time limit in seconds for the whole boot and run",
        DefaultValueFactory = _ => 120,
        Validators = { r => { if (r.GetValueOrDefault<int>() <= 0) r.AddError("--timeout must be a positive number of seconds"); } },
    };

    static Option<bool> NoDebugExitOption() => new("--no-debug-exit")
    {
        Description = "Boot without QEMU's isa-debug-exit device, as VMware Player or a plain QEMU would: 'halt' then powers off through ACPI (QEMU exits with 0)",
    };

    static Command Test(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var suite = new Option<string>("--suite", "-s") { Description = "Suite to run: 'all' or one suite's name", DefaultValueFactory = _ => "all" };
        var timeout = TimeoutOption();
        var junit = new Option<string?>("--junit") { Description = "JUnit XML file to write [default: artifacts/test-results/kernel-<suite>.xml]" };
        var log = new Option<string?>("--log") { Description = "Raw serial log file [default: beside the JUnit file]" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also show the kernel's console text" };
        var command = new Command("test", "Build if needed, boot headless, run in-kernel suites; exit 0 all passed, 1 a test failed, 2 boot failure/timeout/protocol error");
        kernel.AddTo(command);
        command.Options.Add(suite);
        command.Options.Add(timeout);
        command.Options.Add(junit);
        command.Options.Add(log);
        command.Options.Add(verbose);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output, parse.GetValue(verbose));
            string suiteName = parse.GetValue(suite)!;
            if (TestRun.ValidateSuiteName(suiteName) is string suiteError) { reporter.Error(suiteError); return 2; }
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return 2;
            KernelOptions.WriteVmx(target, reporter);

            string junitPath = Path.GetFullPath(parse.GetValue(junit) ?? DefaultResultsPath(target, $"kernel-{suiteName}.xml"));
            string logPath = Path.GetFullPath(parse.GetValue(log) ?? Path.Combine(Path.GetDirectoryName(junitPath)!, $"serial-{suiteName}.log"));
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
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
                }, cancel);
            }
            reporter.Summary(result);
            JUnitWriter.Write(result, junitPath);
            reporter.Info($"JUnit: {KernelOptions.Relative(junitPath)}  serial log: {KernelOptions.Relative(logPath)}");
            return (int)result.ExitCode;
        });
        return command;
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
        var command = new Command("run", "Boot interactively: the kernel's serial console on this terminal, both ways (type 'halt' to stop; Ctrl-C stops QEMU)");
        kernel.AddTo(command);
        command.Options.Add(window);
        command.Options.Add(noDebugExit);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return 2;
            if (target.Check(out var emulator) is string missing) { reporter.Error(missing); return 2; }
            KernelOptions.WriteVmx(target, reporter);
            bool debugExit = !parse.GetValue(noDebugExit);
            var qemu = QemuCommand.Interactive(emulator, target.Image, target.Medium, target.Memory, parse.GetValue(window), debugExit);
            reporter.Info(qemu.ToString());
            var info = new ProcessStartInfo(qemu.Program) { UseShellExecute = false };
            foreach (var a in qemu.Arguments) info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            // Ctrl-C reaches QEMU too (signal=on) and ends it; wait for it rather than leave it running.
            await process.WaitForExitAsync(CancellationToken.None);
            reporter.Info($"QEMU exited: {EmulatorStatus.Describe(process.ExitCode)}");
            return process.ExitCode switch
            {
                EmulatorStatus.AllPassed => 0,
                EmulatorStatus.QemuQuit when !debugExit => 0,
                EmulatorStatus.TestsFailed => 1,
                _ => 2,
            };
        });
        return command;
    }

    static Command Script(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var timeout = TimeoutOption();
        var file = new Argument<string>("file") { Description = "Shell commands, one per line ('#' comments and blank lines are skipped)" };
        var log = new Option<string?>("--log") { Description = "Raw serial log file" };
        var noDebugExit = NoDebugExitOption();
        var screendump = new Option<string?>("--screendump")
        {
            Description = "After the last command's answer (before halt), save QEMU's VGA screen to this .png or .ppm file",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is string p && Screendump.CheckPath(p) is string e) r.AddError(e); } },
        };
        var command = new Command("script", "Boot headless, feed a file of shell commands one per READY prompt, print the answers, then halt; exit 0 clean, 1 panic or failed test, 2 boot failure/timeout/protocol error");
        command.Arguments.Add(file);
        kernel.AddTo(command);
        command.Options.Add(timeout);
        command.Options.Add(log);
        command.Options.Add(screendump);
        command.Options.Add(noDebugExit);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            string path = parse.GetValue(file)!;
            if (!File.Exists(path)) { reporter.Error($"script file not found: {path}"); return 2; }
            var commands = ScriptRun.ParseScript(File.ReadAllText(path), out var scriptError);
            if (scriptError != null) { reporter.Error($"{path}: {scriptError}"); return 2; }
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return 2;
            target = target with { DebugExitDevice = !parse.GetValue(noDebugExit) };
            string? logPath = parse.GetValue(log);
            using var serialLog = logPath != null ? new StreamWriter(logPath) : null;
            var result = await ScriptRun.RunAsync(new ScriptRunOptions
            {
                Target = target,
                Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                SerialLog = serialLog,
                Observer = reporter,
                Screendump = parse.GetValue(screendump) is string dump ? Path.GetFullPath(dump) : null,
            }, commands, cancel);
            reporter.Summary(result);
            return (int)result.ExitCode;
        });
        return command;
    }

    static Command Vmx(TextWriter output, bool fancy)
    {
        var kernel = new KernelOptions();
        var command = new Command("vmx", $"Write a VMware {VmxWriter.FileName} beside the ISO (CD-ROM from the ISO, COM1 to {VmxWriter.SerialLogName})");
        kernel.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var reporter = new ConsoleReporter(fancy, output);
            var target = await kernel.ResolveAsync(parse, reporter, cancel);
            if (target == null) return 2;
            if (target.Medium != BootMedium.Iso) { reporter.Error("VMware boots the ISO: leave out --direct"); return 2; }
            if (!File.Exists(target.Image)) { reporter.Error($"kernel ISO not found: build CosmosKernel first (looked for {target.Image})"); return 2; }
            var path = VmxWriter.WriteBeside(target.Image, target.Memory);
            reporter.Info($"wrote {KernelOptions.Relative(path)}: open it in VMware Player; COM1 goes to {VmxWriter.SerialLogName} beside it");
            return 0;
        });
        return command;
    }
}
