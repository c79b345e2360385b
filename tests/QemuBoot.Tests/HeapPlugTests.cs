using TestRunner.Running;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// The plug mechanism end to end: the image built with -p:KernelHeap=Template (the student
/// template, CosmosKernel/Plugs/Template) has the template's heap behind the seam and passes the
/// seam's `heap` suite. Two boots.
/// </summary>
public class HeapPlugTests
{
    const string Heap = "template";

    [Fact]
    public async Task The_template_plug_image_reports_its_heap_at_boot()
    {
        var run = await KernelImage.ScriptAsync(["mem"], heap: Heap);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.Contains(run.BootOutput, line => line.StartsWith("heap: template,"));
        Assert.Contains(run.Exchanges[0].Output, line => line.StartsWith("heap") && line.Contains("template"));
    }

    [Fact]
    public async Task The_template_plug_image_passes_the_heap_suite()
    {
        var run = await KernelImage.RunAsync("heap", heap: Heap);
        Assert.True(run.ExitCode == RunExitCode.Passed, KernelImage.Describe(run));
        Assert.NotEmpty(run.AllTests);
        Assert.All(run.AllTests, t => Assert.Equal(TestStatus.Passed, t.Status));
    }
}
