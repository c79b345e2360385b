using System.Text.RegularExpressions;
using TestRunner.Build;
using TestRunner.Emulator;
using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// The OOM-policy seam (Kernel.Proc.OomPolicy, docs/plugs.md "An OOM policy plug"): an image built
/// with -p:KernelOomPlug (TestRunner's --oom-plug) runs the same deterministic scenario as the default image and its OOM
/// killer chooses by the plugged badness function.
/// </summary>
public class OomPolicyPlugTests
{
    const string TemplatePlug = "CosmosKernel/Plugs/OomPolicyTemplate/Kernel.Plugs.OomPolicyTemplate.csproj";

    /// <summary>Two memhogs, the smaller one with oom_score_adj 800, then a third that does not fit in 128 MiB.</summary>
    static readonly string[] Scenario =
        ["run memhog 40M 512", "run memhog 24M 512 adj=800", "sleep 300", "run memhog 96M 512", "sleep 3000", "ps"];

    static int FirstVictim(ScriptResult run)
    {
        var m = Regex.Match(string.Join("\n", run.Exchanges.SelectMany(e => e.Output)), @"Out of memory: Killed process (\d+)");
        Assert.True(m.Success, "no OOM kill in:\n" + KernelImage.Describe(run));
        return int.Parse(m.Groups[1].Value);
    }

    [Fact]
    public async Task A_plugged_oom_policy_picks_its_own_victim_where_oom_badness_picks_the_adj_800_process()
    {
        var linux = await KernelImage.ScriptAsync(Scenario, memory: "128M", timeoutSeconds: 300, deterministic: true);
        Assert.Equal(4, FirstVictim(linux));   // pid 4: 24 MiB, but oom_score_adj 800 adds 80 % of totalpages

        // Built as TestRunner's --oom-plug builds it (the image lab 4's page test boots too).
        var layout = await KernelImage.RequireOomPlugAsync(TemplatePlug);
        string iso = layout.IsoPath;
        var serial = new StringWriter();
        var template = await ScriptRun.RunAsync(new ScriptRunOptions
        {
            Target = new KernelTarget(iso, BootMedium.Iso, MemorySize.Parse("128M")),
            Timeout = TimeSpan.FromSeconds(300),
            Deterministic = true,
            SerialLog = serial,
        }, Scenario);
        Assert.True(template.ExitCode == RunExitCode.Passed, KernelImage.Describe(template));
        Assert.Contains("oom policy: template: resident pages", serial.ToString());
        // The template ranks by resident pages only: the 40 MiB memhog (pid 3) goes first, adj or not.
        Assert.Equal(3, FirstVictim(template));
    }
}
