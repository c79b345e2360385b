using TestRunner.Build;
using Xunit;

namespace TestRunner.Tests;

public class KernelBuildTests : IDisposable
{
    readonly DirectoryInfo repo = Directory.CreateTempSubdirectory("repo-");
    readonly KernelLayout layout;
    static readonly DateTime Built = new(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    public KernelBuildTests()
    {
        File.WriteAllText(Path.Combine(repo.FullName, "Kernel.sln"), "");
        layout = new KernelLayout(repo.FullName, "Release");
    }

    public void Dispose() => repo.Delete(true);

    string Touch(string relative, DateTime when)
    {
        var path = Path.Combine(repo.FullName, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        File.SetLastWriteTimeUtc(path, when);
        return path;
    }

    [Fact]
    public void The_repository_root_is_the_nearest_folder_above_that_holds_Kernel_sln()
    {
        var deep = Directory.CreateDirectory(Path.Combine(repo.FullName, "tests", "X", "bin"));
        Assert.Equal(repo.FullName, KernelLayout.FindRepoRoot(deep.FullName));
    }

    [Fact]
    public void A_heap_plug_gets_a_folder_of_its_own_per_project_path_and_is_built_with_KernelHeapPlug()
    {
        string alice = Touch("CosmosKernel/Plugs/.grade-alice/Kernel.Plugs.MyHeap.csproj", Built);
        string bob = Touch("CosmosKernel/Plugs/.grade-bob/Kernel.Plugs.MyHeap.csproj", Built);
        var a = layout with { HeapPlug = alice };
        var b = layout with { HeapPlug = bob };
        Assert.StartsWith(Path.Combine(repo.FullName, "artifacts", "kernel", "Release-plug-kernel.plugs.myheap-"), a.OutputDirectory);
        Assert.NotEqual(a.OutputDirectory, b.OutputDirectory);   // two students' plugs of one name never share an image
        Assert.Equal(["build", a.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", $"-p:KernelHeapPlug={alice}", $"-p:KernelHeapSuffix={a.Suffix}"],
            KernelBuilder.BuildArguments(a));
        Assert.Equal("configuration Release, heap plug CosmosKernel/Plugs/.grade-alice/Kernel.Plugs.MyHeap.csproj", a.Describe());
    }

    [Fact]
    public void An_oom_plug_adds_its_own_part_to_the_image_folder_after_the_heaps_and_is_built_with_KernelOomPlug()
    {
        string policy = Touch("CosmosKernel/Plugs/MyPolicy/Kernel.Plugs.MyPolicy.csproj", Built);
        string heap = Touch("CosmosKernel/Plugs/MyHeap/Kernel.Plugs.MyHeap.csproj", Built);
        var alone = layout with { OomPlug = policy };
        var withTemplate = layout with { Heap = "Template", OomPlug = policy };
        var withHeapPlug = layout with { HeapPlug = heap, OomPlug = policy };
        Assert.Matches(@"^-oom-kernel\.plugs\.mypolicy-[0-9a-f]{8}$", alone.Suffix);
        Assert.Equal("-template" + alone.Suffix, withTemplate.Suffix);
        Assert.Equal((layout with { HeapPlug = heap }).Suffix + alone.Suffix, withHeapPlug.Suffix);
        Assert.Equal(Path.Combine(repo.FullName, "artifacts", "kernel", "Release" + alone.Suffix, "kernel.iso"), alone.IsoPath);
        Assert.Equal(["build", alone.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", $"-p:KernelOomPlug={policy}", $"-p:KernelHeapSuffix={alone.Suffix}"],
            KernelBuilder.BuildArguments(alone));
        Assert.Equal(["build", alone.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", "-p:KernelHeap=Template", $"-p:KernelOomPlug={policy}", $"-p:KernelHeapSuffix={withTemplate.Suffix}"],
            KernelBuilder.BuildArguments(withTemplate));
        Assert.Equal(["build", alone.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", $"-p:KernelHeapPlug={heap}", $"-p:KernelOomPlug={policy}", $"-p:KernelHeapSuffix={withHeapPlug.Suffix}"],
            KernelBuilder.BuildArguments(withHeapPlug));
        Assert.Equal("configuration Release, heap template, OOM policy plug CosmosKernel/Plugs/MyPolicy/Kernel.Plugs.MyPolicy.csproj", withTemplate.Describe());
        Assert.Equal($"dotnet build CosmosKernel/Kernel/Kernel.csproj -c Release -p:KernelHeap=Template -p:KernelOomPlug=CosmosKernel/Plugs/MyPolicy/Kernel.Plugs.MyPolicy.csproj -p:KernelHeapSuffix={withTemplate.Suffix}",
            withTemplate.BuildCommand);
    }

    [Fact]
    public void A_page_allocator_plug_adds_its_own_part_to_any_heaps_folder_and_is_built_with_KernelPagePlug()
    {
        string pages = Touch("CosmosKernel/Plugs/MyBuddy/Kernel.Plugs.MyBuddy.csproj", Built);
        string heap = Touch("CosmosKernel/Plugs/.grade-alice/Kernel.Plugs.MyHeap.csproj", Built);
        var alone = layout with { PagePlug = pages };
        var withTemplate = layout with { Heap = "template", PagePlug = pages };
        var withHeapPlug = layout with { HeapPlug = heap, PagePlug = pages };
        string part = alone.Suffix;
        Assert.StartsWith("-page-kernel.plugs.mybuddy-", part);
        Assert.Equal(Path.Combine(repo.FullName, "artifacts", "kernel", "Release" + part), alone.OutputDirectory);
        Assert.Equal("-template" + part, withTemplate.Suffix);
        Assert.Equal((layout with { HeapPlug = heap }).Suffix + part, withHeapPlug.Suffix);
        Assert.Equal(["build", alone.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", $"-p:KernelPagePlug={pages}", $"-p:KernelHeapSuffix={part}"],
            KernelBuilder.BuildArguments(alone));
        Assert.Equal(["build", withTemplate.ProjectPath, "-c", "Release", "--nologo", "-v", "quiet", "-p:KernelHeap=template", $"-p:KernelPagePlug={pages}", $"-p:KernelHeapSuffix=-template{part}"],
            KernelBuilder.BuildArguments(withTemplate));
        Assert.Equal("configuration Release, heap template, page-allocator plug CosmosKernel/Plugs/MyBuddy/Kernel.Plugs.MyBuddy.csproj", withTemplate.Describe());
        Assert.Equal($"dotnet build CosmosKernel/Kernel/Kernel.csproj -c Release -p:KernelHeap=template -p:KernelPagePlug=CosmosKernel/Plugs/MyBuddy/Kernel.Plugs.MyBuddy.csproj -p:KernelHeapSuffix=-template{part}",
            withTemplate.BuildCommand);
    }

    [Fact]
    public void An_oom_plug_must_be_an_existing_project_under_CosmosKernel_and_a_change_to_it_makes_its_image_out_of_date()
    {
        string inside = Touch("CosmosKernel/Plugs/.lab4-policy/Kernel.Plugs.MyPolicy.csproj", Built);
        string outside = Touch("students/alice/Kernel.Plugs.MyPolicy.csproj", Built);
        Assert.Null(KernelLayout.CheckOomPlug(repo.FullName, inside));
        Assert.Contains("is not under CosmosKernel/", KernelLayout.CheckOomPlug(repo.FullName, outside));
        Assert.Contains("does not exist", KernelLayout.CheckOomPlug(repo.FullName, Path.Combine(repo.FullName, "CosmosKernel/Plugs/None/X.csproj")));
        Assert.Contains("(docs/plugs.md, \"An OOM policy plug\")", KernelLayout.CheckOomPlug(repo.FullName, Path.Combine(repo.FullName, "CosmosKernel/Plugs/.lab4-policy")));
        var a = layout with { OomPlug = inside };
        Touch(Path.GetRelativePath(repo.FullName, a.IsoPath), Built.AddMinutes(1));
        Assert.True(KernelBuilder.IsUpToDate(a));
        Touch("CosmosKernel/Plugs/.lab4-policy/MyPolicy.cs", Built.AddMinutes(2));   // a dot folder: outside the scan but for the plug
        Assert.False(KernelBuilder.IsUpToDate(a));
    }

    [Fact]
    public void A_change_to_a_page_allocator_plug_outside_the_scanned_folders_makes_its_image_out_of_date()
    {
        string plug = Touch("CosmosKernel/Plugs/.grade-bob/Kernel.Plugs.MyBuddy.csproj", Built);
        var b = layout with { PagePlug = plug };
        Touch(Path.GetRelativePath(repo.FullName, b.IsoPath), Built.AddMinutes(1));
        Assert.True(KernelBuilder.IsUpToDate(b));
        Touch("CosmosKernel/Plugs/.grade-bob/MyBuddy.cs", Built.AddMinutes(2));
        Assert.False(KernelBuilder.IsUpToDate(b));
    }

    [Fact]
    public void A_heap_plug_must_be_an_existing_project_under_CosmosKernel()
    {
        string inside = Touch("CosmosKernel/Plugs/MyHeap/Kernel.Plugs.MyHeap.csproj", Built);
        string outside = Touch("students/alice/Kernel.Plugs.MyHeap.csproj", Built);
        Assert.Null(KernelLayout.CheckHeapPlug(repo.FullName, inside));
        Assert.Contains("is not under CosmosKernel/: a plug is compiled as a kernel library", KernelLayout.CheckHeapPlug(repo.FullName, outside));
        Assert.Contains("does not exist", KernelLayout.CheckHeapPlug(repo.FullName, Path.Combine(repo.FullName, "CosmosKernel/Plugs/None/X.csproj")));
        Assert.Contains("is not a plug project: name the plug's .csproj", KernelLayout.CheckHeapPlug(repo.FullName, Path.Combine(repo.FullName, "CosmosKernel/Plugs/MyHeap")));
    }

    [Fact]
    public void A_change_to_a_heap_plug_outside_the_scanned_folders_makes_its_image_out_of_date()
    {
        string plug = Touch("CosmosKernel/Plugs/.grade-alice/Kernel.Plugs.MyHeap.csproj", Built);
        var a = layout with { HeapPlug = plug };
        Touch(Path.GetRelativePath(repo.FullName, a.IsoPath), Built.AddMinutes(1));
        Assert.True(KernelBuilder.IsUpToDate(a));
        Touch("CosmosKernel/Plugs/.grade-alice/MyHeap.cs", Built.AddMinutes(2));
        Assert.False(KernelBuilder.IsUpToDate(a));
    }

    [Fact]
    public void A_named_heap_has_its_own_output_folder_and_build_property()
    {
        var template = layout with { Heap = "Template" };
        Assert.Equal(Path.Combine(repo.FullName, "artifacts", "kernel", "Release-template", "kernel.iso"), template.IsoPath);
        Assert.Contains("-p:KernelHeap=Template", KernelBuilder.BuildArguments(template));
        Assert.DoesNotContain(KernelBuilder.BuildArguments(layout), a => a.StartsWith("-p:KernelHeap"));
        Assert.Null(KernelLayout.CheckHeap("buddy"));
        Assert.NotNull(KernelLayout.CheckHeap("../x"));
        Assert.NotNull(KernelLayout.CheckHeap("slab"));
    }

    [Fact]
    public void Outputs_follow_the_contracts_layout()
    {
        Assert.Equal(Path.Combine(repo.FullName, "artifacts", "kernel", "Release", "kernel.iso"), layout.IsoPath);
        Assert.Equal(Path.Combine(repo.FullName, "artifacts", "kernel", "Release", "kernel.elf"), layout.ElfPath);
    }

    [Fact]
    public void Without_an_ISO_the_kernel_is_not_up_to_date() =>
        Assert.False(KernelBuilder.IsUpToDate(layout));

    [Fact]
    public void An_ISO_newer_than_every_source_is_up_to_date()
    {
        Touch("CosmosKernel/Kernel/Kernel.cs", Built.AddMinutes(-5));
        Touch("MemoryManager/Core/Zone.cs", Built.AddMinutes(-5));
        Touch("artifacts/kernel/Release/kernel.iso", Built);
        Assert.True(KernelBuilder.IsUpToDate(layout));
    }

    [Theory]
    [InlineData("CosmosKernel/Kernel/Kernel.cs")]
    [InlineData("MemoryManager/Core/Zone.cs")]
    [InlineData("Directory.Build.props")]
    public void A_source_newer_than_the_ISO_makes_it_out_of_date(string source)
    {
        Touch("artifacts/kernel/Release/kernel.iso", Built);
        Touch(source, Built.AddMinutes(1));
        Assert.False(KernelBuilder.IsUpToDate(layout));
    }

    [Fact]
    public void Build_outputs_under_bin_and_obj_do_not_count_as_sources()
    {
        Touch("artifacts/kernel/Release/kernel.iso", Built);
        Touch("CosmosKernel/Kernel/obj/Release/Kernel.dll", Built.AddMinutes(1));
        Touch("MemoryManager/bin/Release/MemoryManager.dll", Built.AddMinutes(1));
        Assert.True(KernelBuilder.IsUpToDate(layout));
    }

    [Fact]
    public async Task Building_without_the_kernel_project_says_to_build_CosmosKernel_first()
    {
        var error = await KernelBuilder.BuildAsync(layout);
        Assert.StartsWith("kernel ISO not found: build CosmosKernel first", error);
    }

    [Fact]
    public void The_runners_heaps_and_default_heap_are_the_kernel_builds()
    {
        string root = KernelLayout.FindRepoRoot(AppContext.BaseDirectory)!;
        string project = File.ReadAllText(Path.Combine(root, KernelLayout.KernelProject));
        var defaultHeap = System.Text.RegularExpressions.Regex.Match(project, "<KernelHeapDefault>(\\w+)</KernelHeapDefault>");
        Assert.True(defaultHeap.Success, "Kernel.csproj names no KernelHeapDefault");
        Assert.Equal(KernelLayout.DefaultHeap, defaultHeap.Groups[1].Value.ToLowerInvariant());
        foreach (var heap in KernelLayout.KnownHeaps)
            Assert.Contains($"'$(KernelHeap)' != '{char.ToUpperInvariant(heap[0])}{heap[1..]}'", project);
        Assert.Equal("configuration Release, the default heap (buddy)", layout.Describe());
        Assert.Equal("'myheap' is not a kernel heap: use rat, buddy or template (buddy is the default), or --heap-plug <your plug's .csproj> for a heap of your own",
            KernelLayout.CheckHeap("myheap"));
        Assert.Equal("configuration Debug, heap rat", new KernelLayout(repo.FullName, "Debug", "rat").Describe());
        Assert.Equal("dotnet build CosmosKernel/Kernel/Kernel.csproj -c Debug -p:KernelHeap=rat", new KernelLayout(repo.FullName, "Debug", "rat").BuildCommand);
    }

    [Theory]
    [InlineData("rat")]
    [InlineData("Buddy")]
    [InlineData("TEMPLATE")]
    public void The_three_heaps_are_accepted_in_any_case(string heap) =>
        Assert.Null(KernelLayout.CheckHeap(heap));

    [Theory]
    [InlineData("../etc")]
    [InlineData("")]
    [InlineData("Re lease")]
    public void A_configuration_that_is_not_a_plain_word_is_refused(string config) =>
        Assert.NotNull(KernelLayout.CheckConfiguration(config));
}
