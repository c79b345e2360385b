using System.Text.RegularExpressions;
using TestRunner.Running;
using Xunit;
using static QemuBoot.Tests.ShellInput;

namespace QemuBoot.Tests;

/// <summary>
/// The shell runs exactly the line it was given or refuses it whole (docs/shell.md, "How a line is
/// read"). One boot at 128 MiB, as in the reports, answers every case below: the script is sent
/// once, each test reads the exchanges of its own lines. The runner sends each line as UTF-8
/// followed by LF, so a TAB, a control byte or the two bytes of 'é' reach COM1 as written here.
/// </summary>
public class ShellInputTests
{
    // The reported inputs. Cut at 120 characters, the first set oom_score_adj -100 and the second
    // started a 16384-page memhog; the third ran as `run memhog 64M`; the fourth was 'kill3'.
    static readonly string LongOomAdj = "oom_adj 3" + new string(' ', 107) + "-1000";      // 121 characters
    static readonly string LongMemhog = "run memhog" + new string(' ', 105) + "163840";    // 121 characters
    const string Utf8Memhog = "run memhog 64Mé";
    const string TabKill = "kill\t3";

    static readonly string OomAdjAtTheLimit = "oom_adj 3" + new string(' ', 106) + "-1000";  // 120 characters
    const string EscapeLine = "run memhog 4M\u001b[A";                                         // an arrow key from a terminal
    const string NineWords = "run memhog 4M 64 adj=0 adj=0 adj=0 adj=0 junk";                  // cut to 8 words it would run
    const string EightWords = "frob a b c d e f g";
    const string TabOomAdj = "oom_adj\t3 \t 7";
    const string Backspace = "oom_adj 3 12\b5";
    const string Delete = "oom_adj 3 -99\u007f\u007f7";
    const string Utf8Erased = "oom_adj 3 é\b\b21";
    static readonly string LongErased = "oom_adj 3 " + new string('x', 115) + new string('\b', 115) + "42";
    const string CrLf = "ps\r";            // the runner adds the LF
    const string CrThenHalt = "ps\rhalt";   // CR alone ends `ps`; `halt` (ended by the LF) stops the machine

    /// <summary>
    /// Numbers past their command's range, each chosen so that a 64-bit wrap or a cut to 32 bits
    /// would land inside the range (the comment says where), and what the shell answers instead.
    /// </summary>
    public static readonly TheoryData<string, string> Overflows = new()
    {
        { "oom_adj 3 18446744073709550616", "oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged" },   // 2^64 - 1000: -1000
        { "oom_adj 3 0xFFFFFFFFFFFFFC18", "oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged" },      // -1000 in two's complement
        { "oom_adj 3 4294966296", "oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged" },              // 2^32 - 1000: int -1000
        { "oom_adj 3 -99999999999999999999", "oom_adj: oom_score_adj must be in -1000..1000 (OOM_SCORE_ADJ_MIN..MAX); unchanged" },
        { "kill 4294967299", "kill: '4294967299' is not a pid" },                                                                    // 2^32 + 3: pid 3
        { "run memhog 18014398509481985K", "run: size must be 1..32768 pages (128 MiB of address space per process)" },              // (2^54 + 1) KiB: 1 KiB
        { "run memhog 4294967297", "run: size must be 1..32768 pages (128 MiB of address space per process)" },                      // 2^32 + 1: 1 page
        { "run memhog 4M 4294967552", "run: rate must be 1..4096 pages per tick" },                                                 // 2^32 + 256: 256
        { "run idle 1M adj=4294966296", "run: oom_score_adj must be in -1000..1000" },                                               // int -1000
        { "sleep 18446744073709551617", "usage: sleep <milliseconds 1..60000>" },                                                    // 2^64 + 1: 1
        { "alloc 18446744073709551616", "alloc: order must be 0..10, not '18446744073709551616'" },                                   // 2^64: 0
        { "alloc 0 0x1000000d0", "alloc: gfp mask '0x1000000d0' is wider than 32 bits" },                                            // uint 0xd0, GFP_KERNEL
        { "watermarks scale 4294967396", "watermarks: scale (watermark_scale_factor) must be in 0..3000 (0: seed rule)" },             // 2^32 + 100: 100
        { "watermarks min_free_kbytes 18446744073709551615", "watermarks: min_free_kbytes must be in 0..262144" },                   // -1
        { "free 18446744073709551616", "usage: free <pfn> (decimal or 0x hex, as alloc printed it)" },                               // 2^64: pfn 0
    };

    static List<string> Script()
    {
        var script = new List<string>
        {
            "run idle 1M",          // pid 3
            LongOomAdj, "ps",
            OomAdjAtTheLimit,
            "watermarks",
            LongMemhog, Utf8Memhog, EscapeLine, NineWords, EightWords,
        };
        script.AddRange(Overflows.Select(o => (string)o[0]));
        script.AddRange(["\twatermarks", "ps\t", Backspace, Delete, Utf8Erased, LongErased, TabOomAdj, CrLf, TabKill,
            "sleep 200",            // pid 3 exits (and says so) before the last line is echoed
            CrThenHalt]);
        return script;
    }

    static readonly Lazy<Task<ScriptResult>> Booted = new(() => KernelImage.ScriptAsync(Script(), memory: "128M", timeoutSeconds: 150));

    static async Task<ScriptResult> RunAsync()
    {
        var run = await Booted.Value;
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.StartsWith("started idle pid 3 ", AnswerTo(run, "run idle 1M")[0]);
        return run;
    }

    static ScriptExchange Exchange(ScriptResult run, string command) => Assert.Single(run.Exchanges, e => e.Command == command);

    /// <summary>What the shell answered to <paramref name="command"/>: its output after the echoed line.</summary>
    static List<string> AnswerTo(ScriptResult run, string command)
    {
        var output = Exchange(run, command).Output;
        Assert.True(output.Count > 0 && output[0].StartsWith("kernel> "), $"'{Escape(command)}' was not echoed after the prompt: {string.Join(" | ", output)}");
        return output.Skip(1).Where(l => !IsProgramNotice(l)).ToList();
    }

    /// <summary>Lines a program's task prints on its own ("[23] idle (pid 3) exited ...").</summary>
    static bool IsProgramNotice(string line) => Regex.IsMatch(line, @"^\[\d+\] ");

    static string Escape(string s) => string.Concat(s.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:x2}"));

    /// <summary>The ps rows as pid → (OOM_SCORE_ADJ, COMMAND).</summary>
    static Dictionary<int, (int Adj, string Command)> Processes(List<string> ps)
    {
        Assert.True(ps.Count > 0 && ps[0].TrimStart().StartsWith("PID STATE"), "not a ps table: " + string.Join(" | ", ps));
        return ps.Skip(1).Select(l => Regex.Match(l, @"^\s*(\d+) .* (-?\d+) (\S+)$")).Where(m => m.Success)
            .ToDictionary(m => int.Parse(m.Groups[1].Value), m => (int.Parse(m.Groups[2].Value), m.Groups[3].Value));
    }

    static void AssertAnswer(ScriptResult run, string command, string expected)
    {
        var answer = AnswerTo(run, command);
        Assert.True(answer.Count == 1 && answer[0] == expected,
            $"'{Escape(command)}' should answer exactly '{expected}' but answered:\n{string.Join("\n", answer)}");
    }

    [Fact]
    public async Task The_reported_oom_adj_line_of_121_characters_is_refused_whole_and_the_score_is_unchanged()
    {
        var run = await RunAsync();
        // Only the refusal: the 121st character did not run as a line of its own either.
        AssertAnswer(run, LongOomAdj, TooLong(121));
        Assert.Equal((0, "idle"), Processes(AnswerTo(run, "ps"))[3]);
    }

    [Fact]
    public async Task A_line_of_exactly_120_characters_runs()
    {
        var run = await RunAsync();
        Assert.StartsWith("pid 3: oom_score_adj -1000, oom_score ", Assert.Single(AnswerTo(run, OomAdjAtTheLimit)));
    }

    [Fact]
    public async Task The_reported_memhog_line_of_121_characters_is_refused_and_no_memhog_starts()
    {
        var run = await RunAsync();
        AssertAnswer(run, LongMemhog, TooLong(121));
        Assert.DoesNotContain(Processes(AnswerTo(run, "ps\t")).Values, p => p.Command == "memhog");
    }

    [Fact]
    public async Task A_UTF8_character_refuses_the_line_naming_its_first_byte_and_column_and_no_memhog_starts()
    {
        var run = await RunAsync();
        AssertAnswer(run, Utf8Memhog, NotPrintable(0xC3, 15));
        Assert.Equal("kernel> run memhog 64M??", Exchange(run, Utf8Memhog).Output[0]);   // one column per byte
        Assert.DoesNotContain(Processes(AnswerTo(run, "ps\t")).Values, p => p.Command == "memhog");
    }

    [Fact]
    public async Task A_control_byte_refuses_the_line_naming_it_and_its_column()
    {
        var run = await RunAsync();
        AssertAnswer(run, EscapeLine, NotPrintable(0x1B, 14));
    }

    [Fact]
    public async Task A_TAB_separates_words_like_a_space()
    {
        var run = await RunAsync();
        AssertAnswer(run, TabKill, "kill: pid 3 is exiting");
        Assert.Equal("kernel> kill 3", Exchange(run, TabKill).Output[0]);   // echoed as one space
        Assert.StartsWith("pid 3: oom_score_adj 7, ", Assert.Single(AnswerTo(run, TabOomAdj)));
    }

    [Fact]
    public async Task More_than_8_words_are_refused_naming_the_limit_and_nothing_starts_while_8_words_reach_the_command()
    {
        var run = await RunAsync();
        AssertAnswer(run, NineWords, TooManyWords(9));
        Assert.DoesNotContain(Processes(AnswerTo(run, "ps\t")).Values, p => p.Command == "memhog");
        AssertAnswer(run, EightWords, "unknown command 'frob': type 'help' for the commands");
    }

    [Theory]
    [MemberData(nameof(Overflows))]
    public async Task A_number_beyond_its_range_is_refused_never_wrapped_or_cut(string command, string expected)
    {
        var run = await RunAsync();
        AssertAnswer(run, command, expected);
    }

    [Fact]
    public async Task After_every_refused_line_the_processes_and_watermarks_are_as_they_were()
    {
        var run = await RunAsync();
        var ps = Processes(AnswerTo(run, "ps\t"));
        Assert.Equal(new[] { 1, 2, 3 }, ps.Keys.Order());
        Assert.Equal((-1000, "idle"), ps[3]);   // as the 120-character line set it: `kill 4294967299` did not kill pid 3
        Assert.Equal(AnswerTo(run, "watermarks"), AnswerTo(run, "\twatermarks"));
    }

    [Fact]
    public async Task Backspace_and_DEL_erase_the_last_character_on_the_line_and_on_the_echo()
    {
        var run = await RunAsync();
        Assert.StartsWith("pid 3: oom_score_adj 15, ", Assert.Single(AnswerTo(run, Backspace)));
        Assert.Equal("kernel> oom_adj 3 12\b \b5", Exchange(run, Backspace).Output[0]);
        Assert.StartsWith("pid 3: oom_score_adj -7, ", Assert.Single(AnswerTo(run, Delete)));
    }

    [Fact]
    public async Task A_line_erased_back_to_the_limit_or_below_runs_what_is_left_of_it()
    {
        var run = await RunAsync();
        Assert.StartsWith("pid 3: oom_score_adj 42, ", Assert.Single(AnswerTo(run, LongErased)));
    }

    [Fact]
    public async Task A_UTF8_character_erased_before_the_end_of_the_line_is_not_held_against_it()
    {
        var run = await RunAsync();
        Assert.StartsWith("pid 3: oom_score_adj 21, ", Assert.Single(AnswerTo(run, Utf8Erased)));
    }

    [Fact]
    public async Task CR_LF_and_CR_alone_end_a_line_as_LF_does()
    {
        var run = await RunAsync();
        Assert.Equal((7, "idle"), Processes(AnswerTo(run, CrLf))[3]);     // CR LF: one line, one answer
        Assert.True(Processes(AnswerTo(run, CrThenHalt)).ContainsKey(1));   // CR: `ps` ran ...
        Assert.Equal("halting.", AnswerTo(run, "halt").Last());              // ... and the `halt` after it on the same line
        Assert.Equal(EmulatorStatus.AllPassed, run.EmulatorStatus);
    }
}
