using Kernel.Patcher;
using Xunit;

namespace Kernel.Patcher.Tests;

public class PatchedTargetsCallThePlug : IDisposable
{
    readonly Fixtures fx = new();
    public void Dispose() => fx.Dispose();

    const string Working = """
        [Plug(Target = typeof(Fix.Target))]
        public static class TargetPlug
        {
            public static int Add(int a, int b) => a * b;
            public static string Name => "plug";
            public static long Sum5(long a, long b, long c, long d, long e) => a + 10 * b + 100 * c + 1000 * d + 10000 * e;
            [PlugMethod(Ignore = true)] public static int Helper() => 7;
            private static int Private() => 8;
        }
        [Plug(TargetName = "Fix.Counter")]
        public static class CounterPlug
        {
            public static int Bump(Fix.Counter self, int by) => 1000 + by;
        }
        """;

    [Fact]
    public void Calling_a_patched_static_method_runs_the_plug()
    {
        var (result, _) = fx.Patch(Working);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        using var loaded = Fixtures.Load(result);
        var target = loaded.Type("Fixture.Core", "Fix.Target");
        Assert.Equal(6, target.GetMethod("Add")!.Invoke(null, new object[] { 2, 3 }));
        Assert.Equal("plug", target.GetProperty("Name")!.GetValue(null));
        Assert.Equal(54321L, target.GetMethod("Sum5")!.Invoke(null, new object[] { 1L, 2L, 3L, 4L, 5L }));
    }

    [Fact]
    public void An_instance_target_passes_this_as_the_plugs_first_parameter()
    {
        var (result, _) = fx.Patch(Working);
        using var loaded = Fixtures.Load(result);
        var counter = loaded.Type("Fixture.Core", "Fix.Counter");
        object instance = Activator.CreateInstance(counter)!;
        Assert.Equal(1005, counter.GetMethod("Bump")!.Invoke(instance, new object[] { 5 }));
    }

    [Fact]
    public void The_originals_stay_untouched_and_only_changed_assemblies_are_copied()
    {
        byte[] before = File.ReadAllBytes(fx.CorePath);
        var (result, plug) = fx.Patch(Working);
        Assert.Equal(before, File.ReadAllBytes(fx.CorePath));
        Assert.Equal(Path.Combine(fx.OutputDirectory, "Fixture.Core.dll"), result.IlcInputs[0]);
        Assert.Equal(Path.GetFullPath(plug), result.IlcInputs[1]);
        Assert.Contains(result.Applied, a => a.Contains("plugged Fix.Target with TargetPlug (3 methods"));
    }

    [Fact]
    public void Without_plugs_every_input_passes_through_unchanged()
    {
        var result = PlugPatcher.Patch(new PatchRequest(new[] { fx.CorePath }, Array.Empty<PlugInput>(), fx.OutputDirectory));
        Assert.True(result.Succeeded);
        Assert.Equal(new[] { Path.GetFullPath(fx.CorePath) }, result.IlcInputs);
    }

    [Fact]
    public void PlugMethod_TargetName_plugs_a_method_of_another_name()
    {
        var (result, _) = fx.Patch("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { [PlugMethod(TargetName = "Add")] public static int Multiply(int a, int b) => a * b; }
            """);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        using var loaded = Fixtures.Load(result);
        Assert.Equal(12, loaded.Type("Fixture.Core", "Fix.Target").GetMethod("Add")!.Invoke(null, new object[] { 3, 4 }));
    }

    [Fact]
    public void A_complete_plug_of_a_RequireComplete_target_is_accepted()
    {
        var (result, _) = fx.Patch("""
            [Plug(Target = typeof(Fix.Seam))]
            public static class P { public static int One() => 10; public static int Two() => 20; }
            """);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        using var loaded = Fixtures.Load(result);
        Assert.Equal(20, loaded.Type("Fixture.Core", "Fix.Seam").GetMethod("Two")!.Invoke(null, null));
    }

    [Fact]
    public void Optional_plugs_and_plug_methods_without_a_target_are_skipped()
    {
        var (result, _) = fx.Patch("""
            [Plug(TargetName = "Fix.Missing", IsOptional = true)]
            public static class P1 { public static int X() => 1; }
            [Plug(Target = typeof(Fix.Target))]
            public static class P2 { [PlugMethod(IsOptional = true)] public static int NotThere() => 1; }
            """);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Contains(result.Applied, a => a.Contains("optional target Fix.Missing"));
        Assert.Contains(result.Applied, a => a.Contains("P2.NotThere skipped"));
    }
}

public class Refusals : IDisposable
{
    readonly Fixtures fx = new();
    public void Dispose() => fx.Dispose();

    [Fact]
    public void PLUG001_the_target_type_is_not_found()
    {
        var d = fx.Refused("""
            [Plug(TargetName = "Fix.Nowhere")]
            public static class P { public static int X() => 1; }
            """);
        Assert.Equal("PLUG001", d.Code);
        Assert.Contains("target type Fix.Nowhere not found", d.Message);
        Assert.Equal("Plug1.csproj: error PLUG001: " + d.Message, d.ToString());
    }

    [Fact]
    public void PLUG002_a_plug_method_has_no_target_of_that_name()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { public static int Subtract(int a, int b) => a - b; }
            """);
        Assert.Equal("PLUG002", d.Code);
        Assert.Contains("P.Subtract has no target: Fix.Target has no method named Subtract", d.Message);
    }

    [Fact]
    public void PLUG003_a_different_return_type()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { public static long Add(int a, int b) => a; }
            """);
        Assert.Equal("PLUG003", d.Code);
        Assert.Contains("return type: the target returns System.Int32, the plug returns System.Int64", d.Message);
    }

    [Fact]
    public void PLUG003_a_different_parameter_count()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { public static int Add(int a, int b, int c) => a; }
            """);
        Assert.Equal("PLUG003", d.Code);
        Assert.Contains("parameter count: the target takes 2, the plug takes 3", d.Message);
    }

    [Fact]
    public void PLUG003_a_parameter_of_another_type()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { public static int Add(int a, uint b) => a; }
            """);
        Assert.Equal("PLUG003", d.Code);
        Assert.Contains("parameter 2 (b) type: the target has System.Int32, the plug has System.UInt32", d.Message);
    }

    [Fact]
    public void PLUG003_static_vs_instance()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Counter))]
            public static class P { public static int Bump(int by) => by; }
            """);
        Assert.Equal("PLUG003", d.Code);
        Assert.Contains("static vs instance: the target is an instance method, so the plug's first parameter must be 'this' (Fix.Counter)", d.Message);
    }

    [Fact]
    public void PLUG004_the_plug_class_is_not_static()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public class P { public static int Add(int a, int b) => a; }
            """);
        Assert.Equal("PLUG004", d.Code);
        Assert.Contains("plug class P is not static", d.Message);
    }

    [Fact]
    public void PLUG005_a_plug_method_is_not_public_static()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P { [PlugMethod] internal static int Add(int a, int b) => a; }
            """);
        Assert.Equal("PLUG005", d.Code);
        Assert.Contains("plug method P.Add is not public static", d.Message);
    }

    [Fact]
    public void PLUG006_a_plug_names_no_target()
    {
        var d = fx.Refused("""
            [Plug]
            public static class P { public static int Add(int a, int b) => a; }
            """);
        Assert.Equal("PLUG006", d.Code);
        Assert.Contains("names no target", d.Message);
    }

    [Fact]
    public void PLUG007_a_RequireComplete_target_plugged_in_part()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Seam))]
            public static class P { public static int One() => 10; }
            """);
        Assert.Equal("PLUG007", d.Code);
        Assert.Contains("replaces only part of Fix.Seam", d.Message);
        Assert.Contains("missing: Fix.Seam.Two()", d.Message);
    }

    [Fact]
    public void PLUG008_two_plugs_of_one_method()
    {
        var d = fx.Refused("""
            [Plug(Target = typeof(Fix.Target))]
            public static class P1 { public static int Add(int a, int b) => a; }
            [Plug(Target = typeof(Fix.Target))]
            public static class P2 { public static int Add(int a, int b) => b; }
            """);
        Assert.Equal("PLUG008", d.Code);
        Assert.Contains("already plugged by P1.Add", d.Message);
    }

    [Fact]
    public void PLUG010_a_missing_plug_assembly()
    {
        var result = PlugPatcher.Patch(new PatchRequest(new[] { fx.CorePath }, new[] { new PlugInput(Path.Combine(fx.Folder.FullName, "none.dll"), "None.csproj") }, fx.OutputDirectory));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("None.csproj: error PLUG010: assembly " + Path.Combine(fx.Folder.FullName, "none.dll") + " not found (build the project first)", d.ToString());
    }
}
