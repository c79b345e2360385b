using System.Text;
using TestRunner.Protocol;
using Xunit;

namespace TestRunner.Tests;

public class SerialDecoderTests
{
    static List<SerialEvent> FeedAll(SerialDecoder d, params string[] chunks) =>
        chunks.SelectMany(c => d.Feed(Encoding.UTF8.GetBytes(c))).ToList();

    [Fact]
    public void Console_text_and_frames_are_told_apart()
    {
        var events = FeedAll(new SerialDecoder(), "booting...\n#KT1 SUITE 7 runtime\n");
        Assert.Equal(new ConsoleLine("booting..."), events[0]);
        Assert.Equal("runtime", Assert.IsType<FrameReceived>(events[1]).Frame.Suite);
    }

    [Fact]
    public void A_frame_split_across_reads_is_decoded_once_its_newline_arrives()
    {
        var d = new SerialDecoder();
        Assert.Empty(FeedAll(d, "#KT1 PA", "SS 22 runtime\tstr"));
        var events = FeedAll(d, "ings\t123456", "\n");
        Assert.Equal(123456UL, Assert.IsType<FrameReceived>(Assert.Single(events)).Frame.Cycles);
    }

    [Fact]
    public void A_frame_split_inside_a_multibyte_character_is_decoded_whole()
    {
        var bytes = Encoding.UTF8.GetBytes("#KT1 SUITE 2 é\n");
        var d = new SerialDecoder();
        var events = d.Feed(bytes.AsSpan(0, bytes.Length - 2)).Concat(d.Feed(bytes.AsSpan(bytes.Length - 2))).ToList();
        Assert.Equal("é", Assert.IsType<FrameReceived>(Assert.Single(events)).Frame.Suite);
    }

    [Fact]
    public void CRLF_line_ends_are_accepted()
    {
        var events = FeedAll(new SerialDecoder(), "hello\r\n#KT1 SUITE 2 mm\r\n");
        Assert.Equal(new ConsoleLine("hello"), events[0]);
        Assert.Equal("mm", Assert.IsType<FrameReceived>(events[1]).Frame.Suite);
    }

    [Fact]
    public void Console_text_before_a_frame_on_the_same_line_is_kept_as_console_text()
    {
        var events = FeedAll(new SerialDecoder(), "kernel> #KT1 READY 3 0.1\n");
        Assert.Equal(new ConsoleLine("kernel> "), events[0]);
        Assert.Equal(FrameKind.Ready, Assert.IsType<FrameReceived>(events[1]).Frame.Kind);
    }

    [Fact]
    public void A_corrupted_frame_becomes_a_corrupt_frame_event_and_the_stream_goes_on()
    {
        var events = FeedAll(new SerialDecoder(), "#KT1 SUITE 3 runtime\n#KT1 SUITE 2 mm\n");
        Assert.Contains("LEN mismatch", Assert.IsType<CorruptFrame>(events[0]).Message);
        Assert.IsType<FrameReceived>(events[1]);
    }

    [Fact]
    public void A_last_line_without_newline_is_reported_on_flush()
    {
        var d = new SerialDecoder();
        Assert.Empty(FeedAll(d, "triple fault?"));
        Assert.Equal("triple fault?", d.PendingText);
        Assert.Equal(new ConsoleLine("triple fault?"), Assert.Single(d.Flush()));
    }

    [Fact]
    public void An_endless_line_is_cut_so_garbage_cannot_grow_without_bound()
    {
        var d = new SerialDecoder();
        var events = d.Feed(new byte[SerialDecoder.MaxLineBytes * 2 + 10].Select(_ => (byte)'x').ToArray());
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.IsType<ConsoleLine>(e));
    }
}
