using TestRunner.Protocol;
using Xunit;

namespace TestRunner.Tests;

public class FrameParserTests
{
    static Frame Ok(string line)
    {
        var result = FrameParser.Parse(line);
        Assert.True(result.IsOk, result.ErrorMessage);
        return result.Frame!;
    }

    static string Refused(string line)
    {
        var result = FrameParser.Parse(line);
        Assert.False(result.IsOk, $"'{line}' should have been refused");
        return result.ErrorMessage!;
    }

    [Fact]
    public void A_READY_frame_carries_the_kernel_version()
    {
        var f = Ok("#KT1 READY 10 kernel 0.1");
        Assert.Equal(FrameKind.Ready, f.Kind);
        Assert.Equal("kernel 0.1", f.Text);
    }

    [Fact]
    public void A_PASS_frame_carries_suite_test_and_cycles()
    {
        var f = Ok("#KT1 PASS 22 runtime\tstrings\t123456");
        Assert.Equal(FrameKind.Pass, f.Kind);
        Assert.Equal("runtime", f.Suite);
        Assert.Equal("strings", f.Test);
        Assert.Equal(123456UL, f.Cycles);
    }

    [Fact]
    public void A_FAIL_message_keeps_its_spaces_and_further_tabs()
    {
        var f = Ok(FrameParser.Format(FrameKind.Fail, "heap", "alloc", "expected 1 but was 2;\tsecond assert"));
        Assert.Equal("expected 1 but was 2;\tsecond assert", f.Message);
    }

    [Fact]
    public void LEN_zero_means_an_empty_payload()
    {
        var f = Ok("#KT1 READY 0 ");
        Assert.Equal("", f.Text);
    }

    [Fact]
    public void Escaped_backslash_and_newline_are_restored()
    {
        string payload = @"a\\b\nc";
        var f = Ok($"#KT1 PANIC {payload.Length} {payload}");
        Assert.Equal("a\\b\nc", f.Text);
    }

    [Fact]
    public void Format_then_Parse_round_trips_any_text()
    {
        string nasty = "C:\\path\\n with\nnewline and ünïcode";
        var f = Ok(FrameParser.Format(FrameKind.Fail, "s", "t", nasty));
        Assert.Equal(nasty, f.Message);
    }

    [Fact]
    public void LEN_counts_bytes_not_characters()
    {
        // "é" is two bytes in UTF-8.
        Assert.Equal("é", Ok("#KT1 SUITE 2 é").Suite);
        Assert.Contains("LEN mismatch", Refused("#KT1 SUITE 1 é"));
    }

    [Fact]
    public void A_trailing_carriage_return_is_not_part_of_the_payload()
    {
        Assert.Equal("mm", Ok("#KT1 SUITE 2 mm\r").Suite);
    }

    [Theory]
    [InlineData("#KT1 SUITE 3 runtime")]
    [InlineData("#KT1 SUITE 9 runtime")]
    [InlineData("#KT1 SUITE 5")]
    public void A_LEN_mismatch_is_refused(string line) =>
        Assert.Contains("LEN", Refused(line));

    [Theory]
    [InlineData("#KT1 SUITE x7 runtime")]
    [InlineData("#KT1 SUITE -7 runtime")]
    [InlineData("#KT1 SUITE  runtime")]
    public void A_LEN_that_is_not_a_decimal_count_is_refused(string line) =>
        Assert.Contains("LEN", Refused(line));

    [Theory]
    [InlineData("#KT1 BOGUS 0 ")]
    [InlineData("#KT1 ready 0 ")]
    [InlineData("#KT1 PASSED 5 a\tb\t1")]
    public void An_unknown_kind_is_refused_by_name(string line) =>
        Assert.Contains("unknown frame kind", Refused(line));

    [Fact]
    public void A_missing_kind_is_refused() =>
        Assert.Contains("missing KIND", Refused("#KT1 READY"));

    [Theory]
    [InlineData("#KT1 TEST 7 runtime", "expected 2")]
    [InlineData("#KT1 PASS 9 runtime\tx", "expected 3")]
    [InlineData("#KT1 PASS 13 runtime\tx\tabc", "cycles")]
    [InlineData("#KT1 PASS 12 runtime\tx\t-1", "cycles")]
    [InlineData("#KT1 END 5 1\t2\tz", "counts")]
    [InlineData("#KT1 ENDSUITE 4 s\t1\t", "counts")]
    [InlineData("#KT1 METRIC 13 alloc\tfast\tns", "not a number")]
    [InlineData("#KT1 TEST 5 \ttest", "empty suite")]
    [InlineData("#KT1 SUITE 0 ", "empty suite")]
    [InlineData("#KT1 NOSUITE 6 nosuch", "expected 2")]
    [InlineData("#KT1 NOSUITE 8 \theap mm", "empty suite name")]
    [InlineData("#KT1 NOSUITE 7 nosuch\t", "empty suite list")]
    [InlineData("#KT1 NOSUITE 15 nosuch\theap  mm", "not names separated by single spaces")]
    [InlineData("#KT1 NOSUITE 15 nosuch\theap mm ", "not names separated by single spaces")]
    public void A_malformed_payload_is_refused_with_what_is_wrong(string line, string expected)
    {
        string message = Refused(line);
        Assert.Contains("malformed", message);
        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData(@"#KT1 PANIC 4 a\tb", "unknown escape")]
    [InlineData(@"#KT1 PANIC 2 a\", "lone backslash")]
    public void An_escape_the_contract_does_not_define_is_refused(string line, string expected) =>
        Assert.Contains(expected, Refused(line));

    [Fact]
    public void Invalid_UTF8_in_a_payload_is_refused()
    {
        byte[] line = [.. "#KT1 SUITE 2 "u8.ToArray(), 0xC3, 0x28];
        var result = FrameParser.Parse(line);
        Assert.False(result.IsOk);
        Assert.Contains("UTF-8", result.ErrorMessage);
    }

    [Fact]
    public void A_NOSUITE_frame_carries_the_name_asked_for_and_the_suites_there_are()
    {
        var result = FrameParser.Parse("#KT1 NOSUITE 28 nosuch\theap mm selftest-fail");
        Assert.True(result.IsOk, result.ErrorMessage);
        Assert.Equal(FrameKind.NoSuite, result.Frame!.Kind);
        Assert.Equal("nosuch", result.Frame.Suite);
        Assert.Equal(["heap", "mm", "selftest-fail"], result.Frame.SuiteNames);
        Assert.Equal("#KT1 NOSUITE 28 nosuch\theap mm selftest-fail", FrameParser.Format(FrameKind.NoSuite, "nosuch", "heap mm selftest-fail"));
    }

    [Fact]
    public void A_PLAN_frame_carries_a_suite_and_all_its_tests_in_order()
    {
        var result = FrameParser.Parse("#KT1 PLAN 26 heap\tObjects_zeroed Stress");
        Assert.True(result.IsOk, result.ErrorMessage);
        Assert.Equal(FrameKind.Plan, result.Frame!.Kind);
        Assert.Equal("heap", result.Frame.Suite);
        Assert.Equal(["Objects_zeroed", "Stress"], result.Frame.TestNames);
        var empty = FrameParser.Parse("#KT1 PLAN 6 empty\t");
        Assert.True(empty.IsOk, empty.ErrorMessage);
        Assert.Empty(empty.Frame!.TestNames);   // a suite without tests
    }

    [Theory]
    [InlineData("#KT1 PLAN 9 heap\ta  b", "malformed PLAN payload: test list 'a  b' is not names separated by single spaces")]
    [InlineData("#KT1 PLAN 4 \ta b", "malformed PLAN payload: empty suite name")]
    [InlineData("#KT1 PLAN 4 heap", "malformed PLAN payload: expected 2 TAB-separated fields but found 1")]
    public void A_malformed_PLAN_frame_is_refused(string line, string message)
    {
        var result = FrameParser.Parse(line);
        Assert.False(result.IsOk);
        Assert.Equal(message, result.ErrorMessage);
    }

    [Fact]
    public void The_refusal_shows_the_offending_line()
    {
        var result = FrameParser.Parse("#KT1 SUITE 99 runtime");
        Assert.Equal("#KT1 SUITE 99 runtime", result.Line);
    }
}
