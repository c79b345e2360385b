using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Kernel.Patcher;

/// <summary>
/// Gives the kernel's enums their names. The image ilc makes has no metadata, so Enum.ToString
/// cannot read a member's name; this step writes the names into code. In every kernel assembly
/// that defines enums it adds a class <see cref="GeneratedType"/> with
/// <list type="bullet">
/// <item>a method per enum type, <c>static void Members_N(EnumMembers m)</c>: one
/// <c>m.Add("Name", value)</c> per member in declaration order, then <c>m.MarkFlags()</c> for a
/// [Flags] type;</item>
/// <item><c>static bool Lookup(object boxed, EnumMembers m)</c>: for each enum type E,
/// <c>if (boxed is E) { Members_N(m); return true; }</c>, and false at the end;</item>
/// </list>
/// and a module initializer (the <c>&lt;Module&gt;</c> class constructor, which ilc runs at module
/// initialisation) that registers Lookup with <c>EnumNames.Register(&amp;Lookup)</c>. A private
/// (or protected) nested enum, and each type around it, becomes assembly-visible so that Lookup
/// may test for it: nothing in the image depends on visibility (it has no reflection). The core
/// library's types are found by full name; without them (a fixture assembly set) nothing is done.
/// </summary>
public static class EnumNamer
{
    public const string MembersType = "Kernel.Core.Runtime.EnumMembers";
    public const string RegistryType = "Kernel.Core.Runtime.EnumNames";
    public const string GeneratedNamespace = "Kernel.Generated";
    public const string GeneratedType = "EnumNameTables";
    public const string FlagsAttribute = "System.FlagsAttribute";

    /// <summary>Adds the tables to each assembly of <paramref name="kernel"/> with enums; marks those modules changed; one line per assembly in <paramref name="applied"/>.</summary>
    public static void Apply(IReadOnlyList<AssemblyDefinition> kernel, HashSet<ModuleDefinition> changed, List<string> applied)
    {
        TypeDefinition? members = null, registry = null;
        foreach (var a in kernel)
        {
            members ??= a.MainModule.GetType(MembersType);
            registry ??= a.MainModule.GetType(RegistryType);
        }
        if (members == null || registry == null) return;
        var add = members.Methods.Single(m => m.Name == "Add" && m.Parameters.Count == 2);
        var markFlags = members.Methods.Single(m => m.Name == "MarkFlags" && m.Parameters.Count == 0);
        var register = registry.Methods.Single(m => m.Name == "Register" && m.Parameters.Count == 1);

        foreach (var assembly in kernel)
        {
            var module = assembly.MainModule;
            if (module.GetType(GeneratedNamespace, GeneratedType) != null) continue;
            var enums = module.GetTypes().Where(Nameable).ToList();
            if (enums.Count == 0) continue;
            int memberCount = AddTables(module, enums, members, add, markFlags, register);
            changed.Add(module);
            applied.Add($"enum names: {enums.Count} enums ({memberCount} members) in {assembly.Name.Name}");
        }
    }

    /// <summary>An enum the tables can name: not inside a generic type (its boxed type would need the instantiation).</summary>
    static bool Nameable(TypeDefinition t)
    {
        if (!t.IsEnum) return false;
        for (var d = t; d != null; d = d.DeclaringType) if (d.HasGenericParameters) return false;
        return true;
    }

    static int AddTables(ModuleDefinition module, List<TypeDefinition> enums, TypeDefinition members, MethodDefinition add,
        MethodDefinition markFlags, MethodDefinition register)
    {
        // The core library's own System types: for the kernel, Cecil's module.TypeSystem would name
        // "mscorlib", which the kernel has not. (Host fixtures, whose core is not a core library, use the module's.)
        var core = members.Module;
        TypeReference System(string name, TypeReference host) => core.GetType(name) is { } t ? module.ImportReference(t) : host;
        var objectType = System("System.Object", module.TypeSystem.Object);
        var boolType = System("System.Boolean", module.TypeSystem.Boolean);
        var voidType = System("System.Void", module.TypeSystem.Void);
        var membersRef = module.ImportReference(members);
        var addRef = module.ImportReference(add);
        var markFlagsRef = module.ImportReference(markFlags);
        var registerRef = module.ImportReference(register);

        var tables = new TypeDefinition(GeneratedNamespace, GeneratedType,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.BeforeFieldInit | TypeAttributes.Class,
            objectType);
        module.Types.Add(tables);

        var lookup = new MethodDefinition("Lookup", MethodAttributes.Assembly | MethodAttributes.Static | MethodAttributes.HideBySig, boolType);
        lookup.Parameters.Add(new ParameterDefinition("boxed", ParameterAttributes.None, objectType));
        lookup.Parameters.Add(new ParameterDefinition("members", ParameterAttributes.None, membersRef));
        tables.Methods.Add(lookup);
        var il = lookup.Body.GetILProcessor();

        int total = 0;
        for (int n = 0; n < enums.Count; n++)
        {
            var e = enums[n];
            for (var t = e; t.IsNested; t = t.DeclaringType)
                if (t.IsNestedPrivate || t.IsNestedFamily || t.IsNestedFamilyAndAssembly)
                    t.Attributes = (t.Attributes & ~TypeAttributes.VisibilityMask) | TypeAttributes.NestedAssembly;
            var fill = new MethodDefinition($"Members_{n}", MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig, voidType);
            fill.Parameters.Add(new ParameterDefinition("members", ParameterAttributes.None, membersRef));
            tables.Methods.Add(fill);
            var f = fill.Body.GetILProcessor();
            foreach (var field in e.Fields)
            {
                if (!field.IsStatic || !field.HasConstant) continue;
                f.Emit(OpCodes.Ldarg_0);
                f.Emit(OpCodes.Ldstr, field.Name);
                f.Emit(OpCodes.Ldc_I8, unchecked((long)Bits(field.Constant)));
                f.Emit(OpCodes.Callvirt, addRef);
                total++;
            }
            if (e.CustomAttributes.Any(a => a.AttributeType.FullName == FlagsAttribute))
            {
                f.Emit(OpCodes.Ldarg_0);
                f.Emit(OpCodes.Callvirt, markFlagsRef);
            }
            f.Emit(OpCodes.Ret);

            var next = Instruction.Create(OpCodes.Nop);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Isinst, e);
            il.Emit(OpCodes.Brfalse, next);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Call, fill);
            il.Emit(OpCodes.Ldc_I4_1);
            il.Emit(OpCodes.Ret);
            il.Append(next);
        }
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Ret);

        // The module initializer: EnumNames.Register(&Lookup) first in <Module>'s class constructor.
        var moduleType = module.GetType("<Module>");
        var cctor = moduleType.Methods.FirstOrDefault(m => m.IsConstructor && m.IsStatic);
        if (cctor == null)
        {
            cctor = new MethodDefinition(".cctor", MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.HideBySig
                | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName, voidType);
            moduleType.Methods.Add(cctor);
            cctor.Body.GetILProcessor().Emit(OpCodes.Ret);
        }
        var body = cctor.Body.GetILProcessor();
        var first = cctor.Body.Instructions[0];
        body.InsertBefore(first, Instruction.Create(OpCodes.Ldftn, lookup));
        body.InsertBefore(first, Instruction.Create(OpCodes.Call, registerRef));
        return total;
    }

    /// <summary>A member's constant as the 64 bits Enum.ToString compares: signed types sign-extended, unsigned ones zero-extended.</summary>
    public static ulong Bits(object constant) => constant switch
    {
        sbyte v => unchecked((ulong)(long)v),
        short v => unchecked((ulong)(long)v),
        int v => unchecked((ulong)(long)v),
        long v => unchecked((ulong)v),
        byte v => v,
        ushort v => v,
        char v => v,
        uint v => v,
        ulong v => v,
        bool v => v ? 1UL : 0UL,
        _ => throw new InvalidOperationException($"an enum constant of type {constant.GetType().Name}"),
    };
}
