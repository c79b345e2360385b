using System.Collections;
using System.Reflection;
using Kernel.Patcher;
using Xunit;

namespace Kernel.Patcher.Tests;

/// <summary>
/// The enum-name step (EnumNamer, docs/kernel-csharp-subset.md "Strings"): every enum of every
/// kernel assembly gets a generated table of its members, reachable through a lookup its module
/// initializer registers with the core library's EnumNames. Checked on fixture assemblies that
/// carry EnumMembers/EnumNames by the core library's full names, loaded and run on the host.
/// </summary>
public class EnumNamerTests : IDisposable
{
    readonly Fixtures fx = new();
    public void Dispose() => fx.Dispose();

    const string Core = """
        namespace Kernel.Core.Runtime
        {
            using System.Collections.Generic;
            public sealed class EnumMembers
            {
                public List<string> Names = new List<string>();
                public List<ulong> Values = new List<ulong>();
                public bool Flags;
                public void Add(string name, ulong value) { Names.Add(name); Values.Add(value); }
                public void MarkFlags() => Flags = true;
            }
            public static class EnumNames
            {
                public static List<System.IntPtr> Lookups = new List<System.IntPtr>();
                public static void Register(System.IntPtr lookup) => Lookups.Add(lookup);
            }
        }
        namespace Fix
        {
            public enum Color { Red, Green = 5, Blue }
            [System.Flags] public enum Perm : byte { None = 0, Read = 1, Write = 2, ReadWrite = Read | Write }
            public enum Delta : sbyte { Down = -1, Up = 1 }
            public enum Big : ulong { Top = 0xFFFFFFFFFFFFFFFF }
            public class Outer
            {
                private enum Hidden { Deep = 7 }
                public static object Make() => Hidden.Deep;
            }
            public class Gen<T> { public enum Inner { X } }
        }
        """;

    const string Other = """
        namespace Other
        {
            public enum Mode : ushort { Off, On = 300 }
        }
        """;

    sealed record Table(bool Found, string[] Names, ulong[] Values, bool Flags);

    (PatchResult Result, Fixtures.Loaded Loaded) PatchCoreAndOther()
    {
        string core = fx.Compile("Fixture.EnumCore", Core);
        string other = fx.Compile("Fixture.EnumOther", Other, core);
        var result = PlugPatcher.Patch(new PatchRequest(new[] { core, other }, Array.Empty<PlugInput>(), fx.OutputDirectory));
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return (result, Fixtures.Load(result));
    }

    /// <summary>Calls the generated Lookup of <paramref name="assembly"/> on <paramref name="boxed"/> with a fresh EnumMembers.</summary>
    static Table Lookup(Fixtures.Loaded loaded, string assembly, object boxed)
    {
        var membersType = loaded.Type("Fixture.EnumCore", "Kernel.Core.Runtime.EnumMembers");
        object members = Activator.CreateInstance(membersType)!;
        var lookup = loaded.Type(assembly, $"{EnumNamer.GeneratedNamespace}.{EnumNamer.GeneratedType}")
            .GetMethod("Lookup", BindingFlags.Static | BindingFlags.NonPublic)!;
        bool found = (bool)lookup.Invoke(null, new[] { boxed, members })!;
        var names = ((IEnumerable)membersType.GetField("Names")!.GetValue(members)!).Cast<string>().ToArray();
        var values = ((IEnumerable)membersType.GetField("Values")!.GetValue(members)!).Cast<ulong>().ToArray();
        return new Table(found, names, values, (bool)membersType.GetField("Flags")!.GetValue(members)!);
    }

    static object Member(Fixtures.Loaded loaded, string assembly, string type, string name) =>
        Enum.Parse(loaded.Type(assembly, type), name);

    [Fact]
    public void An_enums_table_lists_its_members_in_declaration_order_with_their_values()
    {
        var (_, loaded) = PatchCoreAndOther();
        using (loaded)
        {
            var t = Lookup(loaded, "Fixture.EnumCore", Member(loaded, "Fixture.EnumCore", "Fix.Color", "Blue"));
            Assert.True(t.Found);
            Assert.Equal(new[] { "Red", "Green", "Blue" }, t.Names);
            Assert.Equal(new ulong[] { 0, 5, 6 }, t.Values);
            Assert.False(t.Flags);
        }
    }

    [Fact]
    public void A_Flags_enum_is_marked_and_its_composite_members_listed()
    {
        var (_, loaded) = PatchCoreAndOther();
        using (loaded)
        {
            var t = Lookup(loaded, "Fixture.EnumCore", Member(loaded, "Fixture.EnumCore", "Fix.Perm", "Read"));
            Assert.True(t.Flags);
            Assert.Equal(new[] { "None", "Read", "Write", "ReadWrite" }, t.Names);
            Assert.Equal(new ulong[] { 0, 1, 2, 3 }, t.Values);
        }
    }

    [Fact]
    public void Signed_values_are_sign_extended_and_unsigned_ones_zero_extended()
    {
        var (_, loaded) = PatchCoreAndOther();
        using (loaded)
        {
            Assert.Equal(new[] { 0xFFFF_FFFF_FFFF_FFFFUL, 1UL }, Lookup(loaded, "Fixture.EnumCore", Member(loaded, "Fixture.EnumCore", "Fix.Delta", "Up")).Values);
            Assert.Equal(new[] { 0xFFFF_FFFF_FFFF_FFFFUL }, Lookup(loaded, "Fixture.EnumCore", Member(loaded, "Fixture.EnumCore", "Fix.Big", "Top")).Values);
            Assert.Equal(new ulong[] { 0, 300 }, Lookup(loaded, "Fixture.EnumOther", Member(loaded, "Fixture.EnumOther", "Other.Mode", "On")).Values);
        }
    }

    [Fact]
    public void A_private_nested_enum_is_named_and_a_value_of_another_type_is_not_found()
    {
        var (_, loaded) = PatchCoreAndOther();
        using (loaded)
        {
            object hidden = loaded.Type("Fixture.EnumCore", "Fix.Outer").GetMethod("Make")!.Invoke(null, null)!;
            Assert.Equal(new[] { "Deep" }, Lookup(loaded, "Fixture.EnumCore", hidden).Names);
            Assert.False(Lookup(loaded, "Fixture.EnumCore", 5).Found);   // a boxed int is no enum
            Assert.False(Lookup(loaded, "Fixture.EnumOther", Member(loaded, "Fixture.EnumCore", "Fix.Color", "Red")).Found);   // another assembly's enum
        }
    }

    [Fact]
    public void Each_assembly_with_enums_registers_its_lookup_from_its_module_initializer()
    {
        var (result, loaded) = PatchCoreAndOther();
        using (loaded)
        {
            // Touching a module runs its initializer: both register with the core's EnumNames.
            Lookup(loaded, "Fixture.EnumCore", 1);
            Lookup(loaded, "Fixture.EnumOther", 1);
            var lookups = (IList)loaded.Type("Fixture.EnumCore", "Kernel.Core.Runtime.EnumNames").GetField("Lookups")!.GetValue(null)!;
            Assert.Equal(2, lookups.Count);
            Assert.All(lookups.Cast<IntPtr>(), p => Assert.NotEqual(IntPtr.Zero, p));
            Assert.Contains(result.Applied, a => a == "enum names: 5 enums (11 members) in Fixture.EnumCore");   // Gen<T>.Inner is left out
            Assert.Contains(result.Applied, a => a == "enum names: 1 enums (2 members) in Fixture.EnumOther");
        }
    }

    [Fact]
    public void Without_the_core_librarys_EnumMembers_no_assembly_is_changed()
    {
        string plain = fx.Compile("Fixture.PlainEnums", "namespace P { public enum E { A, B } }");
        var result = PlugPatcher.Patch(new PatchRequest(new[] { plain }, Array.Empty<PlugInput>(), fx.OutputDirectory));
        Assert.True(result.Succeeded);
        Assert.Equal(Path.GetFullPath(plain), Assert.Single(result.IlcInputs));
        Assert.Empty(result.Applied);
    }
}
