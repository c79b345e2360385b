using System.CommandLine;
using TestRunner.Cli;
using Xunit;

using static TestRunner.Tests.CliRun;

namespace TestRunner.Tests;

/// <summary>
/// A bad command line never runs and never crashes: every bad value is refused with exit 2, a
/// message that names the option and quotes the value, and the command's usage line; nothing is
/// started (the fake emulator behind --qemu would record it).
/// </summary>
public class CommandLineRefusalTests : IDisposable
{
    readonly FakeEmulator fake = new([]);
    readonly string script;

    public CommandLineRefusalTests()
    {
        script = Path.Combine(fake.Folder, "lab.txt");
        File.WriteAllText(script, "meminfo\n");
    }

    public void Dispose() => fake.Dispose();

    /// <summary>
    /// Runs <paramref name="command"/> with <paramref name="option"/> set to <paramref name="value"/> ({folder} is a
    /// folder that exists) and otherwise good arguments, and checks the refusal.
    /// </summary>
    async Task AssertRefused(string command, string option, string value, string problem)
    {
        value = value.Replace("{folder}", fake.Folder);
        List<string> args = [command];
        if (command == "script") args.Add(script);
        // The image comes from --iso unless the option under test picks it otherwise; --no-build so
        // that nothing would build even if the line were (wrongly) accepted.
        if (option is not ("--iso" or "--config" or "--heap")) args.AddRange(["--iso", fake.IsoPath]);
        else args.Add("--no-build");
        args.AddRange([option, value]);
        if (option != "--qemu") args.AddRange(["--qemu", fake.ProgramPath]);

        var (exit, output, error) = await Run([.. args]);
        Assert.Equal(2, exit);
        Assert.Contains($"error: {option}: '{value}' {problem}", error);
        Assert.Contains($"usage: TestRunner {command} ", error);
        Assert.Equal("", output);
        Assert.False(fake.Started, "the emulator was started");
    }

    [Theory]
    [InlineData("test", "abc", "is not a whole number of seconds (1 to 86400)")]
    [InlineData("test", "1.5", "is not a whole number of seconds (1 to 86400)")]
    [InlineData("test", "", "is not a whole number of seconds (1 to 86400)")]
    [InlineData("test", "+5", "is not a whole number of seconds (1 to 86400)")]
    [InlineData("test", "0", "is out of range: use 1 to 86400 seconds")]
    [InlineData("test", "-5", "is out of range: use 1 to 86400 seconds")]
    [InlineData("test", "86401", "is out of range: use 1 to 86400 seconds")]
    [InlineData("test", "99999999999", "is out of range: use 1 to 86400 seconds")]
    [InlineData("test", "99999999999999999999999999", "is out of range: use 1 to 86400 seconds")]
    [InlineData("script", "abc", "is not a whole number of seconds (1 to 86400)")]
    [InlineData("script", "0", "is out of range: use 1 to 86400 seconds")]
    public Task A_timeout_that_is_not_a_whole_number_of_seconds_from_1_to_86400_is_refused(string command, string value, string problem) =>
        AssertRefused(command, "--timeout", value, problem);

    [Theory]
    [InlineData("test", "lots", "is not a memory size: write a whole number with an optional K, M, G or T suffix (256M, 6G)")]
    [InlineData("test", "1.5G", "is not a memory size")]
    [InlineData("test", "12X", "is not a memory size")]
    [InlineData("test", "100K", "is not a whole number of MiB")]
    [InlineData("test", "0", "is out of range: use 6M to 1T")]
    [InlineData("test", "4M", "is out of range: use 6M to 1T")]
    [InlineData("test", "-1G", "is out of range: use 6M to 1T")]
    [InlineData("test", "2T", "is out of range: use 6M to 1T")]
    [InlineData("test", "17179869185T", "is out of range: use 6M to 1T")]   // 2^64 KiB + 1 TiB: would wrap to 1T
    [InlineData("test", "99999999999999999999G", "is out of range: use 6M to 1T")]
    [InlineData("run", "lots", "is not a memory size")]
    [InlineData("script", "4M", "is out of range")]
    [InlineData("vmx", "0", "is out of range")]
    public Task A_memory_size_QEMU_cannot_take_or_outside_6M_to_1T_is_refused(string command, string value, string problem) =>
        AssertRefused(command, "--memory", value, problem);

    [Theory]
    [InlineData("a b")]
    [InlineData("")]
    [InlineData("heap;halt")]
    [InlineData("h\u00e9ap")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]   // 65 characters
    public Task A_suite_name_that_is_not_one_plain_word_of_at_most_64_characters_is_refused(string value) =>
        AssertRefused("test", "--suite", value,
            "is not a suite name: use 'all' or one suite's name (letters, digits, '-', '_', '.'; at most 64 characters)");

    [Theory]
    [InlineData("test", "../etc")]
    [InlineData("run", "")]
    [InlineData("script", "Re lease")]
    [InlineData("vmx", "Debug/x")]
    public Task A_configuration_that_is_not_a_plain_word_is_refused(string command, string value) =>
        AssertRefused(command, "--config", value, "is not a build configuration: use Debug or Release (letters, digits, '-', '_', '.')");

    [Theory]
    [InlineData("test", "slab")]
    [InlineData("run", "")]
    [InlineData("script", "../buddy")]
    [InlineData("vmx", "buddy2")]
    public Task A_heap_other_than_rat_buddy_or_template_is_refused(string command, string value) =>
        AssertRefused(command, "--heap", value, "is not a kernel heap: use rat, buddy or template");

    [Theory]
    [InlineData("test", "{folder}/missing.iso", "does not exist")]
    [InlineData("run", "{folder}", "is a folder, not a file")]
    [InlineData("script", "", "is not a file name")]
    [InlineData("vmx", "{folder}/missing.iso", "does not exist")]
    public Task An_ISO_that_is_not_an_existing_file_is_refused(string command, string value, string problem) =>
        AssertRefused(command, "--iso", value, problem);

    [Theory]
    [InlineData("{folder}", "is a folder, not a file")]
    [InlineData("", "is not a file name")]
    public Task A_JUnit_file_that_is_empty_or_a_folder_is_refused(string value, string problem) =>
        AssertRefused("test", "--junit", value, problem);

    [Theory]
    [InlineData("test", "{folder}", "is a folder, not a file")]
    [InlineData("test", "", "is not a file name")]
    [InlineData("script", "{folder}", "is a folder, not a file")]
    public Task A_serial_log_that_is_empty_or_a_folder_is_refused(string command, string value, string problem) =>
        AssertRefused(command, "--log", value, problem);

    [Theory]
    [InlineData("screen.jpg", "must end in .png or .ppm")]
    [InlineData("screen", "must end in .png or .ppm")]
    [InlineData("{folder}", "is a folder, not a file")]
    [InlineData("", "is not a file name")]
    public Task A_screendump_file_that_is_not_a_png_or_ppm_file_is_refused(string value, string problem) =>
        AssertRefused("script", "--screendump", value, problem);

    [Theory]
    [InlineData("{folder}/lab.txt", "is a file, not a folder")]
    [InlineData("", "is not a folder name")]
    public Task A_trace_folder_that_is_a_file_or_empty_is_refused(string value, string problem) =>
        AssertRefused("script", "--trace", value, problem);

    [Theory]
    [InlineData("test")]
    [InlineData("run")]
    [InlineData("script")]
    public Task An_empty_emulator_program_is_refused(string command) =>
        AssertRefused(command, "--qemu", "", "is empty: name a program");

    [Theory]
    [InlineData("test")]
    [InlineData("run")]
    [InlineData("script")]
    public async Task A_heap_plug_with_another_heap_or_an_iso_is_refused(string command)
    {
        string plug = Path.Combine(fake.Folder, "My.csproj");
        File.WriteAllText(plug, "");
        List<string> head = command == "script" ? [command, script] : [command];
        var (exit, _, error) = await Run([.. head, "--heap", "rat", "--heap-plug", plug, "--no-build", "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains("error: --heap and --heap-plug cannot be used together: each names the image's heap", error);
        (exit, _, error) = await Run([.. head, "--iso", fake.IsoPath, "--heap-plug", plug, "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains("error: --iso and --heap-plug cannot be used together", error);
        Assert.False(fake.Started);
    }

    [Theory]
    [InlineData("test")]
    [InlineData("run")]
    [InlineData("script")]
    public async Task An_oom_plug_with_an_iso_is_refused(string command)
    {
        string plug = Path.Combine(fake.Folder, "MyPolicy.csproj");
        File.WriteAllText(plug, "");
        List<string> head = command == "script" ? [command, script] : [command];
        var (exit, _, error) = await Run([.. head, "--iso", fake.IsoPath, "--oom-plug", plug, "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains("error: --iso and --oom-plug cannot be used together: --iso names the image to boot, --oom-plug picks a repository build", error);
        Assert.Contains($"usage: TestRunner {command} ", error);
        Assert.False(fake.Started);
    }

    [Theory]
    [InlineData("test", "{folder}/MyPolicy.csproj", "is not under CosmosKernel/: a plug is compiled as a kernel library")]
    [InlineData("run", "{folder}/MyPolicy.csproj", "is not under CosmosKernel/: a plug is compiled as a kernel library")]
    [InlineData("script", "{folder}/MyPolicy.csproj", "is not under CosmosKernel/: a plug is compiled as a kernel library")]
    [InlineData("test", "{folder}/MyPolicy.cs", "is not a plug project: name the plug's .csproj (docs/plugs.md, \"An OOM policy plug\")")]
    [InlineData("script", "{repo}/CosmosKernel/Plugs/NoSuchPolicy/Kernel.Plugs.NoSuchPolicy.csproj", "does not exist")]
    public async Task An_oom_plug_that_is_not_a_project_under_CosmosKernel_is_refused_before_anything_builds(string command, string value, string problem)
    {
        File.WriteAllText(Path.Combine(fake.Folder, "MyPolicy.csproj"), "");
        File.WriteAllText(Path.Combine(fake.Folder, "MyPolicy.cs"), "");
        string repo = TestRunner.Build.KernelLayout.FindRepoRoot(Environment.CurrentDirectory)!;
        value = value.Replace("{folder}", fake.Folder).Replace("{repo}", repo);
        List<string> head = command == "script" ? [command, script] : [command];
        var (exit, output, error) = await Run([.. head, "--oom-plug", value, "--no-build", "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains($"--oom-plug: '{value}' {problem}", output + error);
        Assert.False(fake.Started, "the emulator was started");
    }

    [Theory]
    [InlineData("test")]
    [InlineData("script")]
    [InlineData("run")]
    public async Task A_page_plug_goes_with_a_heap_but_not_with_iso_and_must_be_a_project_under_CosmosKernel(string command)
    {
        string plug = Path.Combine(fake.Folder, "My.csproj");
        File.WriteAllText(plug, "");
        List<string> head = command == "script" ? [command, script] : [command];
        var (exit, _, error) = await Run([.. head, "--iso", fake.IsoPath, "--page-plug", plug, "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains("error: --iso and --page-plug cannot be used together", error);
        (exit, var output, error) = await Run([.. head, "--heap", "template", "--page-plug", plug, "--no-build", "--qemu", fake.ProgramPath]);
        Assert.Equal(2, exit);
        Assert.Contains("--page-plug: '" + plug + "' is not under CosmosKernel/", output + error);
        Assert.False(fake.Started);
    }

    [Fact]
    public async Task A_script_file_that_is_a_folder_is_refused()
    {
        var (exit, _, error) = await Run("script", fake.Folder, "--iso", fake.IsoPath, "--qemu", fake.ProgramPath);
        Assert.Equal(2, exit);
        Assert.Contains($"error: <file>: '{fake.Folder}' is a folder, not a file", error);
        Assert.Contains("usage: TestRunner script <file> ", error);
        Assert.False(fake.Started);
    }

    [Theory]
    [InlineData("test", "--timeout")]
    [InlineData("test", "--suite")]
    [InlineData("run", "--memory")]
    [InlineData("vmx", "--iso")]
    public async Task An_option_without_its_value_is_refused_with_the_usage_line(string command, string option)
    {
        var (exit, _, error) = await Run(command, option);
        Assert.Equal(2, exit);
        Assert.Contains($"error: Required argument missing for option: '{option}'", error);
        Assert.Contains($"usage: TestRunner {command} ", error);
    }

    [Fact]
    public async Task An_option_given_twice_is_refused_rather_than_one_value_picked()
    {
        var (exit, _, error) = await Run("test", "--iso", fake.IsoPath, "--qemu", fake.ProgramPath, "--timeout", "5", "--timeout", "6");
        Assert.Equal(2, exit);
        Assert.Contains("error: Option '--timeout' expects a single argument but 2 were provided", error);
        Assert.Contains("usage: TestRunner test ", error);
        Assert.False(fake.Started);
    }

    [Theory]
    [InlineData(new[] { "test", "--frob" }, "Unrecognized command or argument '--frob'", "usage: TestRunner test ")]
    [InlineData(new[] { "vmx", "--direct" }, "Unrecognized command or argument '--direct'", "usage: TestRunner vmx ")]
    [InlineData(new[] { "bogus" }, "Unrecognized command or argument 'bogus'", "usage: TestRunner test|run|script|lab|vmx|grade [options]")]
    [InlineData(new string[0], "Required command was not provided", "usage: TestRunner test|run|script|lab|vmx|grade [options]")]
    [InlineData(new[] { "script" }, "Required argument 'file' missing for command: 'script'", "usage: TestRunner script <file> ")]
    public async Task An_unknown_option_or_command_or_a_missing_argument_is_refused_with_the_usage_line(string[] args, string message, string usage)
    {
        var (exit, output, error) = await Run(args);
        Assert.Equal(2, exit);
        Assert.Contains($"error: {message}", error);
        Assert.Contains(usage, error);
        Assert.Equal("", output);
    }

    [Fact]
    public void Every_option_of_every_command_is_in_its_usage_line()
    {
        foreach (var command in Commands.Root(TextWriter.Null, fancy: false).Subcommands)
        {
            string usage = Commands.Usage(command.Name);
            Assert.StartsWith($"usage: TestRunner {command.Name} ", usage);
            foreach (var option in command.Options.Where(o => !o.Hidden && o.Name != "--help"))
                Assert.True(usage.Contains($"[{option.Name}") || usage.Contains($"| {option.Name}"), $"{command.Name}: {option.Name} is not in '{usage}'");
            foreach (var argument in command.Arguments)
                Assert.Contains($" <{argument.Name}>", usage);
        }
    }

    sealed class BrokenWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => throw new IOException("No space left on device");
    }

    [Fact]
    public async Task An_exception_no_command_handles_is_printed_and_ends_with_exit_3_not_a_crash()
    {
        // vmx writes its kernel.vmx, then reports it on an output that fails.
        var error = new StringWriter();
        int exit = await Entry.RunAsync(["vmx", "--iso", fake.IsoPath], new BrokenWriter(), error, fancy: false);
        Assert.Equal(Entry.InternalError, exit);
        Assert.Equal(3, exit);
        Assert.StartsWith("error: the runner failed unexpectedly (this is a bug in TestRunner): System.IO.IOException: No space left on device", error.ToString());
    }
}
