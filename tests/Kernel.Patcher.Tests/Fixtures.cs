using System.Reflection;
using System.Runtime.Loader;
using Kernel.Patcher;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Kernel.Patcher.Tests;

/// <summary>
/// A temporary folder with a fixture "core" assembly (the plug attributes, by the same full names
/// as Kernel.CoreLib's, and some targets) and plug assemblies compiled from source with Roslyn
/// against the host's framework.
/// </summary>
public sealed class Fixtures : IDisposable
{
    public const string Attributes = """
        namespace Kernel.Core.Plugs
        {
            using System;
            [AttributeUsage(AttributeTargets.Class)]
            public sealed class PlugAttribute : Attribute { public Type Target { get; set; } public string TargetName { get; set; } public bool IsOptional { get; set; } }
            [AttributeUsage(AttributeTargets.Method | AttributeTargets.Property)]
            public sealed class PlugMethodAttribute : Attribute { public string TargetName { get; set; } public bool IsOptional { get; set; } public bool Ignore { get; set; } }
            [AttributeUsage(AttributeTargets.Class)]
            public sealed class PlugTargetAttribute : Attribute { public bool RequireComplete { get; set; } }
        }
        """;

    public const string Targets = """
        namespace Fix
        {
            public static class Target
            {
                public static int Add(int a, int b) => a + b;
                public static string Name => "core";
                public static long Sum5(long a, long b, long c, long d, long e) => 0;
            }
            public class Counter
            {
                int value;
                public int Bump(int by) => value += by;
            }
            [Kernel.Core.Plugs.PlugTarget(RequireComplete = true)]
            public static class Seam
            {
                public static int One() => 1;
                public static int Two() => 2;
            }
        }
        """;

    public readonly DirectoryInfo Folder = Directory.CreateTempSubdirectory("plugs-");
    public string CorePath { get; }
    public string OutputDirectory => Path.Combine(Folder.FullName, "patched");
    int plugNumber;

    public Fixtures()
    {
        CorePath = Compile("Fixture.Core", Attributes + Targets);
    }

    public void Dispose()
    {
        try { Folder.Delete(true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    static readonly MetadataReference[] Framework =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is "System.Runtime.dll" or "System.Private.CoreLib.dll" or "netstandard.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();

    /// <summary>Compiles <paramref name="source"/> into Folder/&lt;name&gt;.dll; fails the test on a compile error.</summary>
    public string Compile(string name, string source, params string[] references)
    {
        var compilation = CSharpCompilation.Create(name,
            new[] { CSharpSyntaxTree.ParseText(source) },
            Framework.Concat(references.Select(r => MetadataReference.CreateFromFile(r))),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        string path = Path.Combine(Folder.FullName, name + ".dll");
        // Never rewrite a fixture in place: a context that loaded it keeps the file mapped until a
        // later GC collects the context, and truncating a mapped file kills the test host with SIGBUS.
        if (File.Exists(path))
            throw new InvalidOperationException($"fixture {name} is already compiled in {Folder.FullName}; compile it once and reuse the path");
        var result = compilation.Emit(path);
        if (!result.Success)
            throw new InvalidOperationException("fixture does not compile:\n" + string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return path;
    }

    /// <summary>Compiles a plug assembly (it references the core) and runs the patcher over core + plug.</summary>
    public (PatchResult Result, string PlugPath) Patch(string plugSource)
    {
        string plug = Compile($"Fixture.Plug{++plugNumber}", "using Kernel.Core.Plugs;\n" + plugSource, CorePath);
        var result = PlugPatcher.Patch(new PatchRequest(new[] { CorePath }, new[] { new PlugInput(plug, $"Plug{plugNumber}.csproj") }, OutputDirectory));
        return (result, plug);
    }

    /// <summary>The one error of a refused patch.</summary>
    public PlugDiagnostic Refused(string plugSource)
    {
        var (result, _) = Patch(plugSource);
        Assert.False(result.Succeeded, "the patcher accepted the plug");
        Assert.Empty(result.IlcInputs);
        return Assert.Single(result.Diagnostics);
    }

    /// <summary>Loads the patched inputs in a fresh collectible context, each assembly from the path the patcher listed.</summary>
    public static Loaded Load(PatchResult result) => new(result.IlcInputs);

    public sealed class Loaded : AssemblyLoadContext, IDisposable
    {
        readonly Dictionary<string, string> paths;
        public Loaded(IEnumerable<string> files) : base(isCollectible: true) =>
            paths = files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => f);
        protected override Assembly? Load(AssemblyName name) =>
            paths.TryGetValue(name.Name!, out var path) ? LoadFromAssemblyPath(path) : null;
        public Type Type(string assembly, string name) => LoadFromAssemblyName(new AssemblyName(assembly)).GetType(name, throwOnError: true)!;
        public void Dispose() => Unload();
    }
}
