using System.Text;
using TestRunner.Protocol;
using Xunit;

namespace TestRunner.Tests;

/// <summary>`run` shows a person the kernel's console, not the protocol: frame lines are left out, everything else passes at once.</summary>
public class FrameFilterTests
{
    static string Show(FrameFilter f, string text) => Encoding.UTF8.GetString(f.Feed(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void A_READY_frame_before_the_prompt_is_left_out_and_the_prompt_shows_without_waiting_for_a_newline()
    {
        var f = new FrameFilter();
        Assert.Equal("boot done\n", Show(f, "boot done\n" + Kernel.Ready() + "\n"));
        Assert.Equal("kernel> ", Show(f, "kernel> "));
    }

    [Fact]
    public void A_frame_split_across_reads_is_left_out_whole()
    {
        var f = new FrameFilter();
        string frame = Kernel.Ready() + "\r\n";
        string shown = string.Concat(frame.Select(c => Show(f, c.ToString())));
        Assert.Equal("", shown);
        Assert.Equal("meminfo\n", Show(f, "meminfo\n"));
    }

    [Fact]
    public void Lines_that_only_begin_like_a_frame_and_frame_text_inside_a_line_are_shown()
    {
        var f = new FrameFilter();
        Assert.Equal("#KT2 x\n#KT\n", Show(f, "#KT2 x\n#KT\n"));
        Assert.Equal("say #KT1 READY\n", Show(f, "say #KT1 READY\n"));
    }
}
