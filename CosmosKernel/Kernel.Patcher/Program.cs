using Kernel.Patcher;

// Kernel.Patcher --out <dir> --list <file> [--plug <plug.dll> [--plug-project <plug.csproj>]]... <kernel assembly>...
// Arguments may also come from a response file: @file, one argument a line.
// Prints diagnostics in MSBuild's canonical format ("file: error PLUG001: ...") and writes to
// --list the assemblies ilc should compile, one a line. Exit 0 on success, 1 on plug errors, 2 on bad usage.

var args2 = new List<string>();
foreach (var a in args)
{
    if (a.StartsWith('@') && File.Exists(a[1..])) args2.AddRange(File.ReadAllLines(a[1..]).Where(l => l.Trim().Length > 0).Select(l => l.Trim()));
    else args2.Add(a);
}

string? output = null, list = null;
var kernel = new List<string>();
var plugs = new List<PlugInput>();
for (int i = 0; i < args2.Count; i++)
{
    string a = args2[i];
    string Next() => i + 1 < args2.Count ? args2[++i] : throw new ArgumentException($"{a} needs a value");
    try
    {
        switch (a)
        {
            case "--out": output = Next(); break;
            case "--list": list = Next(); break;
            case "--plug": plugs.Add(new PlugInput(Next())); break;
            case "--plug-project":
                if (plugs.Count == 0) throw new ArgumentException("--plug-project must follow a --plug");
                plugs[^1] = plugs[^1] with { Project = Next() };
                break;
            default:
                if (a.StartsWith("--")) throw new ArgumentException($"unknown option {a}");
                kernel.Add(a);
                break;
        }
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"Kernel.Patcher: error PLUG000: {e.Message}");
        return 2;
    }
}
if (output == null || list == null || kernel.Count == 0)
{
    Console.Error.WriteLine("Kernel.Patcher: error PLUG000: usage: Kernel.Patcher --out <dir> --list <file> [--plug <dll> [--plug-project <csproj>]]... <kernel assemblies>");
    return 2;
}

PatchResult result;
try
{
    result = PlugPatcher.Patch(new PatchRequest(kernel, plugs, output));
}
catch (Exception e)
{
    // A host tool may fail, but the build must show one clean line, not a stack trace.
    string where = plugs.Count > 0 ? plugs[0].ReportPath : kernel[0];
    Console.WriteLine($"{where}: error PLUG000: the patcher failed: {e.GetType().Name}: {e.Message}");
    return 1;
}
foreach (var line in result.Applied) Console.WriteLine($"Kernel.Patcher: {line}");
foreach (var d in result.Diagnostics) Console.WriteLine(d);
if (!result.Succeeded)
{
    if (File.Exists(list)) File.Delete(list);
    return 1;
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(list))!);
File.WriteAllLines(list, result.IlcInputs);
return 0;
