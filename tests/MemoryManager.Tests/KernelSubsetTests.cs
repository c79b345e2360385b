using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using MemoryManager.Core;
using MemoryManager.Slab;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>MemoryManager/ also compiles inside the kernel: its sources keep to docs/kernel-csharp-subset.md.</summary>
    public class KernelSubsetTests
    {
        internal static string RepoRoot()
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "Kernel.sln"))) d = d.Parent;
            Assert.NotNull(d);
            return d.FullName;
        }

        /// <summary>The code with comments removed and string/char literal contents blanked (quotes kept).</summary>
        private static string CodeOnly(string src)
        {
            var sb = new StringBuilder(src.Length);
            for (int i = 0; i < src.Length; i++)
            {
                char c = src[i];
                if (c == '/' && i + 1 < src.Length && src[i + 1] == '/') { while (i < src.Length && src[i] != '\n') i++; sb.Append('\n'); continue; }
                if (c == '/' && i + 1 < src.Length && src[i + 1] == '*') { i += 2; while (i + 1 < src.Length && !(src[i] == '*' && src[i + 1] == '/')) i++; i++; continue; }
                if (c == '"' || c == '\'')
                {
                    bool interpolated = i > 0 && src[i - 1] == '$';
                    sb.Append(c);
                    i++;
                    while (i < src.Length && src[i] != c) { if (src[i] == '\\') i++; i++; }
                    sb.Append(c);
                    if (interpolated) sb.Append("/*interpolated*/");
                    continue;
                }
                sb.Append(c);
            }
            return sb.ToString();
        }

        private static readonly (string pattern, string why)[] Forbidden =
        {
            (@"\bthrow\b", "throw (errors are values)"),
            (@"\bcatch\b", "catch"),
            (@"\$""", "string interpolation"),
            (@"interpolated", "string interpolation"),
            (@"System\.Collections", "System.Collections"),
            (@"System\.Linq", "LINQ"),
            (@"\bstring\.Format\b|\bString\.Format\b", "string.Format"),
            (@"\bStringBuilder\b", "StringBuilder"),
            (@"\.ToString\(", "ToString()"),
            (@"\bMath\.", "Math"),
            (@"\byield\b", "iterators"),
            (@"\block\s*\(", "lock"),
            (@"\bforeach\b", "foreach"),
            (@"\basync\b|\bawait\b", "async"),
            (@"\bList<|\bDictionary<|\bSpan<|\bHashSet<", "collections and Span"),
            (@"\bConsole\.", "Console"),
            (@"\.HasFlag\(", "Enum.HasFlag"),
            (@"\bdelegate\b(?!\s*\*)", "delegates"),
            (@"""\s*\+|\+\s*""", "string concatenation"),
            (@"\.(MaxValue|MinValue)\b", "MaxValue/MinValue (not in the kernel core library: write the constant)"),
            (@"\bNativeMemory\b|\bMarshal\.", "native memory and interop (memory comes from outside)"),
        };

        [Fact]
        public void Memory_manager_sources_keep_to_the_kernel_subset()
        {
            string root = Path.Combine(RepoRoot(), "MemoryManager");
            var files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains(Path.DirectorySeparatorChar + "obj" + Path.DirectorySeparatorChar)
                         && !f.Contains(Path.DirectorySeparatorChar + "bin" + Path.DirectorySeparatorChar)).ToArray();
            Assert.NotEmpty(files);
            var problems = new StringBuilder();
            foreach (var f in files)
            {
                string[] lines = CodeOnly(File.ReadAllText(f)).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                    foreach (var (pattern, why) in Forbidden)
                        if (Regex.IsMatch(lines[i], pattern))
                            problems.Append(Path.GetFileName(f)).Append(':').Append(i + 1).Append(": ").Append(why).Append(": ").Append(lines[i].Trim()).Append('\n');
            }
            Assert.Equal("", problems.ToString());
        }

        [Fact]
        public void Allocation_free_reclaim_and_introspection_paths_create_no_objects()
        {
            string root = Path.Combine(RepoRoot(), "MemoryManager");
            // Set-up code (PageAllocator.cs: Create, MemoryMap.cs, AllocatorOptions.cs: Default;
            // SlabAllocator.cs: Create; the tables Vm.Create sizes: Nodes, PgData, LruVec,
            // ProcessTable, PageCache, RamSwapDevice) may allocate; nothing else may. The files
            // that mix set-up and paths are checked at run time (Reclaim/NoAllocationTests).
            string[] pathFiles =
            {
                "Allocator/Alloc.cs", "Allocator/Buddy.cs", "Allocator/Free.cs", "Allocator/Watermarks.cs", "Allocator/ProcFs.cs",
                "Allocator/Checker.cs", "Allocator/Zone.cs", "Allocator/VmStat.cs", "Allocator/MemoryRange.cs",
                "Core/TextFormat.cs", "Core/PageBytes.cs",
                "Slab/SlabAlloc.cs", "Slab/SlabFree.cs", "Slab/SlabInfo.cs", "Slab/SlabChecker.cs", "Slab/SlabResult.cs",
                "Slab/KmemCache.cs", "Slab/SlabState.cs",
                "Reclaim/Vmscan.cs", "Reclaim/Kswapd.cs", "Reclaim/ScanControl.cs", "Oom/OomKiller.cs", "Oom/OomReaper.cs",
                "Processes/ProcessMemory.cs", "Processes/UserPages.cs", "Processes/Pte.cs", "Core/MmEvents.cs", "Census.cs",
            };
            var problems = new StringBuilder();
            foreach (var name in pathFiles)
            {
                string[] lines = CodeOnly(File.ReadAllText(Path.Combine(root, name))).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                    if (Regex.IsMatch(lines[i], @"\bnew\b") && !Regex.IsMatch(lines[i], @"new (CheckState|SlabCheck)\b"))
                        problems.Append(name).Append(':').Append(i + 1).Append(": ").Append(lines[i].Trim()).Append('\n');
            }
            Assert.Equal("", problems.ToString());
        }

        [Fact]
        public void The_subset_scanner_catches_what_it_forbids()
        {
            string bad = "void F() { var s = $\"x{1}\"; throw null; foreach (var x in a) {} var t = \"a\" + b; }";
            string code = CodeOnly(bad);
            Assert.Contains(Forbidden, f => f.why == "throw (errors are values)" && Regex.IsMatch(code, f.pattern));
            Assert.Contains(Forbidden, f => f.why == "string interpolation" && Regex.IsMatch(code, f.pattern));
            Assert.Contains(Forbidden, f => f.why == "foreach" && Regex.IsMatch(code, f.pattern));
            Assert.Contains(Forbidden, f => f.why == "string concatenation" && Regex.IsMatch(code, f.pattern));
            Assert.DoesNotContain(Forbidden, f => Regex.IsMatch(CodeOnly("// throw in a comment\nint x = \"catch\".Length;"), f.pattern));
        }
    }
}
