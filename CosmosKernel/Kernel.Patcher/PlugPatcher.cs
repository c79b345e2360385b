using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kernel.Patcher;

/// <summary>One finding of the patcher, printed in MSBuild's canonical format so the build shows it.</summary>
public sealed record PlugDiagnostic(string File, string Code, string Message, bool IsError = true)
{
    public override string ToString() => $"{File}: {(IsError ? "error" : "warning")} {Code}: {Message}";
}

/// <summary>An assembly that holds plugs; <see cref="Project"/> (the .csproj) is where its errors point, when known.</summary>
public sealed record PlugInput(string Assembly, string? Project = null)
{
    public string ReportPath => Project ?? Assembly;
}

/// <summary>What to patch: the kernel assemblies ilc compiles, the plug assemblies, and where patched copies go.</summary>
public sealed record PatchRequest(IReadOnlyList<string> KernelAssemblies, IReadOnlyList<PlugInput> Plugs, string OutputDirectory);

/// <summary>
/// The outcome: the diagnostics, a line per applied plug, and the assemblies to hand to ilc in input
/// order (the patched copy of an assembly the patcher changed, the original otherwise). Empty
/// <see cref="IlcInputs"/> when there were errors.
/// </summary>
public sealed record PatchResult(IReadOnlyList<PlugDiagnostic> Diagnostics, IReadOnlyList<string> Applied, IReadOnlyList<string> IlcInputs)
{
    public bool Succeeded => !Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Applies [Plug] classes: for each public static method of a plug class, the method of the same
/// name and signature in the target type gets a new body that loads its arguments (`this` first
/// for an instance method), calls the plug method and returns. The attributes are matched by full
/// name (Kernel.Core.Plugs.*), so the patcher needs no reference to the kernel's core library.
/// </summary>
public static class PlugPatcher
{
    public const string PlugAttribute = "Kernel.Core.Plugs.PlugAttribute";
    public const string PlugMethodAttribute = "Kernel.Core.Plugs.PlugMethodAttribute";
    public const string PlugTargetAttribute = "Kernel.Core.Plugs.PlugTargetAttribute";

    public static PatchResult Patch(PatchRequest request)
    {
        var diagnostics = new List<PlugDiagnostic>();
        var applied = new List<string>();
        var resolver = new SetResolver();
        var kernel = new List<(string Path, AssemblyDefinition Assembly)>();
        var plugs = new List<(PlugInput Input, AssemblyDefinition Assembly)>();

        foreach (var path in request.KernelAssemblies)
            if (Read(path, path, resolver, diagnostics) is { } a) kernel.Add((path, a));
        foreach (var plug in request.Plugs)
        {
            var known = kernel.FirstOrDefault(k => SamePath(k.Path, plug.Assembly)).Assembly;
            if (known != null) { plugs.Add((plug, known)); continue; }
            if (Read(plug.Assembly, plug.ReportPath, resolver, diagnostics) is { } a) plugs.Add((plug, a));
        }
        if (diagnostics.Count > 0) return new PatchResult(diagnostics, applied, Array.Empty<string>());

        var changed = new HashSet<ModuleDefinition>();
        var pluggedBy = new Dictionary<MethodDefinition, MethodDefinition>();

        foreach (var (input, assembly) in plugs)
            foreach (var type in assembly.MainModule.GetTypes())
            {
                var attribute = Find(type.CustomAttributes, PlugAttribute);
                if (attribute == null) continue;
                ApplyPlugClass(input, type, attribute, kernel.Select(k => k.Assembly).ToList(), pluggedBy, changed, diagnostics, applied);
            }

        if (diagnostics.Any(d => d.IsError)) return new PatchResult(diagnostics, applied, Array.Empty<string>());

        EnumNamer.Apply(kernel.Select(k => k.Assembly).ToList(), changed, applied);

        Directory.CreateDirectory(request.OutputDirectory);
        foreach (var stale in Directory.EnumerateFiles(request.OutputDirectory, "*.dll")) File.Delete(stale);
        var outputs = new List<string>();
        var inputs = kernel.Select(k => (k.Path, k.Assembly))
            .Concat(plugs.Where(p => !kernel.Any(k => k.Assembly == p.Assembly)).Select(p => (Path: p.Input.Assembly, p.Assembly)));
        foreach (var (path, assembly) in inputs)
        {
            if (!changed.Contains(assembly.MainModule)) { outputs.Add(Path.GetFullPath(path)); continue; }
            string target = Path.GetFullPath(Path.Combine(request.OutputDirectory, Path.GetFileName(path)));
            assembly.Write(target, new WriterParameters { DeterministicMvid = true });
            outputs.Add(target);
        }
        return new PatchResult(diagnostics, applied, outputs);
    }

    static void ApplyPlugClass(PlugInput input, TypeDefinition plug, CustomAttribute attribute, List<AssemblyDefinition> kernel,
        Dictionary<MethodDefinition, MethodDefinition> pluggedBy, HashSet<ModuleDefinition> changed,
        List<PlugDiagnostic> diagnostics, List<string> applied)
    {
        string file = input.ReportPath;
        void Error(string code, string message) => diagnostics.Add(new PlugDiagnostic(file, code, message));

        var targetRef = Named(attribute, "Target") as TypeReference;
        var targetName = Named(attribute, "TargetName") as string;
        bool optional = Named(attribute, "IsOptional") is true;
        string plugName = plug.FullName;

        if (!(plug.IsAbstract && plug.IsSealed) || plug.IsInterface)
        {
            Error("PLUG004", $"plug class {plugName} is not static: declare it 'public static class {plug.Name}' (a plug's methods replace static bodies, it is never instantiated)");
            return;
        }
        if (targetRef == null && string.IsNullOrEmpty(targetName))
        {
            Error("PLUG006", $"plug class {plugName} names no target: set [Plug(Target = typeof(X))] or [Plug(TargetName = \"Namespace.X\")]");
            return;
        }
        if (targetRef != null && !string.IsNullOrEmpty(targetName) && targetName != targetRef.FullName)
        {
            Error("PLUG006", $"plug class {plugName} names two targets: Target = {targetRef.FullName} and TargetName = \"{targetName}\"; keep one");
            return;
        }
        string wanted = targetRef?.FullName ?? targetName!.Replace('+', '/');
        TypeDefinition? target = kernel.Select(a => a.MainModule.GetType(wanted)).FirstOrDefault(t => t != null);
        if (target == null)
        {
            if (optional) { applied.Add($"plug {plugName} skipped: its optional target {wanted} is not in the kernel assemblies"); return; }
            Error("PLUG001", $"plug class {plugName}: target type {wanted} not found in the kernel assemblies ({string.Join(", ", kernel.Select(a => a.Name.Name))}); check the name (nested types as Outer/Inner) or set IsOptional = true");
            return;
        }
        if (plug.HasGenericParameters || target.HasGenericParameters)
        {
            Error("PLUG012", $"plug class {plugName}: generic plug classes and generic targets ({target.FullName}) are not supported");
            return;
        }

        int count = 0, errorsBefore = diagnostics.Count;
        var mine = new HashSet<MethodDefinition>();
        foreach (var method in plug.Methods)
        {
            if (method.IsConstructor) continue;
            var options = Find(method.CustomAttributes, PlugMethodAttribute) ?? PropertyOptions(plug, method);
            if (options != null && Named(options, "Ignore") is true) continue;
            bool isPublicStatic = method.IsPublic && method.IsStatic;
            if (!isPublicStatic)
            {
                if (options != null)
                    Error("PLUG005", $"plug method {plugName}.{method.Name} is not public static: a plug method must be 'public static' (make it so, or drop [PlugMethod] from a helper)");
                continue;
            }
            if (method.HasGenericParameters)
            {
                Error("PLUG012", $"plug method {plugName}.{method.Name} is generic: generic plug methods are not supported");
                continue;
            }
            string name = options != null && Named(options, "TargetName") is string n && n.Length > 0 ? n : method.Name;
            bool methodOptional = options != null && Named(options, "IsOptional") is true;
            var candidates = target.Methods.Where(m => m.Name == name).ToList();
            if (candidates.Count == 0)
            {
                if (methodOptional) { applied.Add($"plug method {plugName}.{method.Name} skipped: {target.FullName} has no {name}"); continue; }
                Error("PLUG002", $"plug method {plugName}.{method.Name} has no target: {target.FullName} has no method named {name}" +
                    " (make a helper private or internal, or mark it [PlugMethod(Ignore = true)])");
                continue;
            }
            MethodDefinition? match = null;
            var reasons = new List<string>();
            foreach (var candidate in candidates)
            {
                string? why = Mismatch(candidate, method);
                if (why == null) { match = candidate; break; }
                reasons.Add(candidates.Count == 1 ? why : $"{Describe(candidate)}: {why}");
            }
            if (match == null)
            {
                Error("PLUG003", $"plug method {plugName}.{method.Name} does not match the signature of {target.FullName}.{name}: {string.Join("; ", reasons)}");
                continue;
            }
            if (match.IsAbstract)
            {
                Error("PLUG009", $"plug method {plugName}.{method.Name}: the target {Describe(match)} is abstract, it has no body to replace");
                continue;
            }
            if (pluggedBy.TryGetValue(match, out var earlier))
            {
                Error("PLUG008", $"plug method {plugName}.{method.Name}: {Describe(match)} is already plugged by {earlier.DeclaringType.FullName}.{earlier.Name} (in {earlier.Module.Assembly.Name.Name}); one plug per method");
                continue;
            }
            pluggedBy[match] = method;
            mine.Add(match);
            Forward(match, method);
            changed.Add(match.Module);
            count++;
        }

        var requirement = Find(target.CustomAttributes, PlugTargetAttribute);
        if (requirement != null && Named(requirement, "RequireComplete") is true)
        {
            var missing = target.Methods.Where(m => m.IsPublic && m.IsStatic && !m.IsConstructor && !mine.Contains(m)).Select(Describe).ToList();
            if (missing.Count > 0 && count > 0 && diagnostics.Count == errorsBefore)
                Error("PLUG007", $"plug class {plugName} replaces only part of {target.FullName}, which requires a complete plug ([PlugTarget(RequireComplete = true)]); missing: {string.Join(", ", missing)}");
        }
        applied.Add($"plugged {target.FullName} with {plugName} ({count} method{(count == 1 ? "" : "s")}, {plug.Module.Assembly.Name.Name})");
    }

    /// <summary>Why <paramref name="plug"/> cannot replace <paramref name="target"/>; null when it can.</summary>
    public static string? Mismatch(MethodDefinition target, MethodDefinition plug)
    {
        var expected = new List<string>();
        if (target.HasThis)
            expected.Add(target.DeclaringType.IsValueType ? target.DeclaringType.FullName + "&" : target.DeclaringType.FullName);
        expected.AddRange(target.Parameters.Select(p => p.ParameterType.FullName));
        var actual = plug.Parameters.Select(p => p.ParameterType.FullName).ToList();

        if (target.HasGenericParameters) return "the target is generic (not supported)";
        if (target.HasThis && actual.Count == target.Parameters.Count && actual.SequenceEqual(expected.Skip(1)))
            return $"static vs instance: the target is an instance method, so the plug's first parameter must be 'this' ({expected[0]})";
        if (!target.HasThis && actual.Count == target.Parameters.Count + 1 && actual.Skip(1).SequenceEqual(expected)
            && actual[0].TrimEnd('&') == target.DeclaringType.FullName)
            return $"static vs instance: the target is static, but the plug has an extra first parameter ({actual[0]}) as if for 'this'";
        if (target.ReturnType.FullName != plug.ReturnType.FullName)
            return $"return type: the target returns {target.ReturnType.FullName}, the plug returns {plug.ReturnType.FullName}";
        if (actual.Count != expected.Count)
            return $"parameter count: the target takes {expected.Count}{(target.HasThis ? " (with 'this')" : "")}, the plug takes {actual.Count}";
        for (int i = 0; i < expected.Count; i++)
            if (expected[i] != actual[i])
            {
                bool isThis = target.HasThis && i == 0;
                string name = isThis ? "this" : target.Parameters[target.HasThis ? i - 1 : i].Name;
                return $"parameter {i + 1} ({name}) type: the target has {expected[i]}, the plug has {actual[i]}";
            }
        return null;
    }

    /// <summary>Replaces the target's body with: ldarg 0..n-1; call plug; ret.</summary>
    static void Forward(MethodDefinition target, MethodDefinition plug)
    {
        var module = target.Module;
        MethodReference callee = plug.Module == module ? plug : Reference(module, target, plug);
        if (!target.HasBody)
        {
            // an extern, internal-call or P/Invoke target becomes an ordinary IL method
            target.IsInternalCall = false;
            target.IsRuntime = false;
            target.IsPInvokeImpl = false;
            target.PInvokeInfo = null;
            target.IsIL = true;
            target.IsManaged = true;
            var import = target.CustomAttributes.Where(a => a.AttributeType.Name is "RuntimeImportAttribute" or "DllImportAttribute").ToList();
            foreach (var a in import) target.CustomAttributes.Remove(a);
        }
        var body = new MethodBody(target);
        target.Body = body;
        var il = body.GetILProcessor();
        int args = target.Parameters.Count + (target.HasThis ? 1 : 0);
        for (int i = 0; i < args; i++)
        {
            switch (i)
            {
                case 0: il.Emit(OpCodes.Ldarg_0); break;
                case 1: il.Emit(OpCodes.Ldarg_1); break;
                case 2: il.Emit(OpCodes.Ldarg_2); break;
                case 3: il.Emit(OpCodes.Ldarg_3); break;
                default:
                    var p = target.Parameters[target.HasThis ? i - 1 : i];
                    il.Emit(i < 256 ? OpCodes.Ldarg_S : OpCodes.Ldarg, p);
                    break;
            }
        }
        il.Emit(OpCodes.Call, callee);
        il.Emit(OpCodes.Ret);
    }

    /// <summary>
    /// A reference from the target's module to the plug method, built from the target's own
    /// signature types (they match the plug's: checked before), so no type of the core library is
    /// imported back into itself; only the plug's declaring type points at the plug assembly.
    /// </summary>
    static MethodReference Reference(ModuleDefinition module, MethodDefinition target, MethodDefinition plug)
    {
        var plugAssembly = plug.Module.Assembly.Name;
        var scope = module.AssemblyReferences.FirstOrDefault(r => r.Name == plugAssembly.Name);
        if (scope == null)
        {
            scope = new AssemblyNameReference(plugAssembly.Name, plugAssembly.Version) { PublicKeyToken = plugAssembly.PublicKeyToken, Culture = plugAssembly.Culture };
            module.AssemblyReferences.Add(scope);
        }
        var reference = new MethodReference(plug.Name, target.ReturnType, TypeIn(module, plug.DeclaringType, scope)) { HasThis = false };
        if (target.HasThis)
            reference.Parameters.Add(new ParameterDefinition("this", ParameterAttributes.None,
                target.DeclaringType.IsValueType ? new ByReferenceType(target.DeclaringType) : target.DeclaringType));
        foreach (var p in target.Parameters)
            reference.Parameters.Add(new ParameterDefinition(p.Name, ParameterAttributes.None, p.ParameterType));
        return reference;
    }

    static TypeReference TypeIn(ModuleDefinition module, TypeDefinition type, IMetadataScope scope)
    {
        var reference = new TypeReference(type.IsNested ? "" : type.Namespace, type.Name, module, scope, type.IsValueType);
        if (type.IsNested) reference.DeclaringType = TypeIn(module, type.DeclaringType, scope);
        return reference;
    }

    static string Describe(MethodDefinition m) =>
        $"{m.DeclaringType.FullName}.{m.Name}({string.Join(", ", m.Parameters.Select(p => p.ParameterType.FullName))}){(m.IsStatic ? "" : " (instance)")}";

    /// <summary>[PlugMethod] on a property applies to its accessors.</summary>
    static CustomAttribute? PropertyOptions(TypeDefinition plug, MethodDefinition accessor)
    {
        foreach (var property in plug.Properties)
            if (property.GetMethod == accessor || property.SetMethod == accessor)
                return Find(property.CustomAttributes, PlugMethodAttribute);
        return null;
    }

    static CustomAttribute? Find(IEnumerable<CustomAttribute> attributes, string fullName) =>
        attributes.FirstOrDefault(a => a.AttributeType.FullName == fullName);

    static object? Named(CustomAttribute attribute, string name)
    {
        foreach (var p in attribute.Properties) if (p.Name == name) return p.Argument.Value;
        foreach (var f in attribute.Fields) if (f.Name == name) return f.Argument.Value;
        return null;
    }

    static AssemblyDefinition? Read(string path, string report, SetResolver resolver, List<PlugDiagnostic> diagnostics)
    {
        if (!File.Exists(path))
        {
            diagnostics.Add(new PlugDiagnostic(report, "PLUG010", $"assembly {path} not found (build the project first)"));
            return null;
        }
        try
        {
            var assembly = AssemblyDefinition.ReadAssembly(path, new ReaderParameters { AssemblyResolver = resolver, InMemory = true, ReadSymbols = false });
            resolver.Add(assembly);
            return assembly;
        }
        catch (Exception e) when (e is BadImageFormatException or IOException or InvalidOperationException)
        {
            diagnostics.Add(new PlugDiagnostic(report, "PLUG010", $"cannot read {path} as a .NET assembly: {e.Message}"));
            return null;
        }
    }

    static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);

    /// <summary>Resolves assembly references among the assemblies given to the patcher (nothing else is a kernel assembly).</summary>
    sealed class SetResolver : IAssemblyResolver
    {
        readonly Dictionary<string, AssemblyDefinition> byName = new(StringComparer.OrdinalIgnoreCase);
        public void Add(AssemblyDefinition assembly) => byName.TryAdd(assembly.Name.Name, assembly);
        public AssemblyDefinition Resolve(AssemblyNameReference name) => Resolve(name, new ReaderParameters());
        public AssemblyDefinition Resolve(AssemblyNameReference name, ReaderParameters parameters) =>
            byName.TryGetValue(name.Name, out var a) ? a : throw new AssemblyResolutionException(name);
        public void Dispose() { }
    }
}
