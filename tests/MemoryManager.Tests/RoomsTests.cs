using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>
    /// The memory manager's rooms (docs/memory-manager.md, "Rooms"): one namespace per folder,
    /// one concept per class, no type spread over folders, and the Linux functions a reader
    /// looks for each in one obvious file.
    /// </summary>
    public class RoomsTests
    {
        private static string Root => Path.Combine(KernelSubsetTests.RepoRoot(), "MemoryManager");

        /// <summary>Every source of MemoryManager/ (bin and obj left out), as a path relative to it with '/' separators.</summary>
        private static string[] Sources() =>
            Directory.GetFiles(Root, "*.cs", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
                .Where(f => !f.StartsWith("bin/") && !f.StartsWith("obj/"))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray();

        private static string Folder(string relative) => relative.Contains('/') ? relative.Substring(0, relative.LastIndexOf('/')) : "";

        [Fact]
        public void Each_folder_of_the_memory_manager_is_one_namespace_named_after_it()
        {
            var problems = new StringBuilder();
            foreach (string f in Sources())
            {
                string folder = Folder(f);
                string expected = folder.Length == 0 ? "MemoryManager" : "MemoryManager." + folder.Replace('/', '.');
                var declared = Regex.Matches(File.ReadAllText(Path.Combine(Root, f)), @"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)
                    .Select(m => m.Groups[1].Value).ToArray();
                if (declared.Length == 0 || declared.Any(n => n != expected))
                    problems.Append(f).Append(": namespace ").Append(string.Join(", ", declared)).Append(", expected ").Append(expected).Append('\n');
            }
            Assert.Equal("", problems.ToString());
        }

        [Fact]
        public void No_type_is_declared_partial_in_two_folders()
        {
            var folders = new Dictionary<string, SortedSet<string>>();
            foreach (string f in Sources())
                foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(Root, f)), @"\bpartial\s+(?:class|struct)\s+(\w+)"))
                {
                    if (!folders.TryGetValue(m.Groups[1].Value, out var set)) folders[m.Groups[1].Value] = set = new SortedSet<string>();
                    set.Add(Folder(f));
                }
            Assert.NotEmpty(folders);   // PageAllocator and SlabAllocator are partial, each within its folder
            Assert.Equal("", string.Join("\n", folders.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key + ": " + string.Join(", ", kv.Value))));
        }

        [Theory]
        [InlineData("shrink_inactive_list", "ShrinkInactiveList", "Reclaim/Vmscan.cs")]
        [InlineData("shrink_active_list", "ShrinkActiveList", "Reclaim/Vmscan.cs")]
        [InlineData("shrink_node", "ShrinkNode", "Reclaim/Vmscan.cs")]
        [InlineData("try_to_free_pages", "TryToFreePages", "Reclaim/Vmscan.cs")]
        [InlineData("wakeup_kswapd", "WakeupKswapd", "Reclaim/Kswapd.cs")]
        [InlineData("balance_pgdat", "BalancePgdat", "Reclaim/Kswapd.cs")]
        [InlineData("pgdat_balanced", "PgdatBalanced", "Reclaim/Kswapd.cs")]
        [InlineData("out_of_memory", "OutOfMemory", "Oom/OomKiller.cs")]
        [InlineData("oom_badness", "OomBadness", "Oom/OomKiller.cs")]
        [InlineData("select_bad_process", "SelectBadProcess", "Oom/OomKiller.cs")]
        [InlineData("__oom_reap_task_mm", "Reap", "Oom/OomReaper.cs")]
        [InlineData("do_swap_page", "DoSwapPage", "Processes/ProcessMemory.cs")]
        [InlineData("exit_mm", "ExitProcess", "Processes/ProcessMemory.cs")]
        [InlineData("find_get_page", "FindGetPage", "Files/PageCache.cs")]
        [InlineData("get_swap_page", "GetSwapPage", "Swap/RamSwapDevice.cs")]
        public void A_linux_function_is_declared_in_one_file_whose_comments_name_it(string linux, string method, string file)
        {
            var declaredIn = Sources().Where(f => Regex.IsMatch(File.ReadAllText(Path.Combine(Root, f)),
                @"\b(public|private|internal)\s[^;={}()]*\b" + method + @"\s*\(")).ToArray();
            Assert.Equal(new[] { file }, declaredIn);
            Assert.Contains(linux, File.ReadAllText(Path.Combine(Root, file)));
        }

        [Fact]
        public void The_node_container_is_pglist_data_and_holds_the_lru_lists_and_the_kswapd_state()
        {
            string text = File.ReadAllText(Path.Combine(Root, "Node/PgData.cs"));
            Assert.Contains("pglist_data", text);
            FieldInfo[] fields = typeof(MemoryManager.Node.PgData).GetFields(BindingFlags.Instance | BindingFlags.Public);
            Assert.Contains(fields, f => f.FieldType == typeof(MemoryManager.Node.LruVec));
            Assert.Contains(fields, f => f.FieldType == typeof(MemoryManager.Node.KswapdNode));
        }

        [Fact]
        public void Vm_only_wires_the_parts_together_and_keeps_no_state_of_its_own()
        {
            FieldInfo[] fields = typeof(Vm).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            Assert.NotEmpty(fields);
            Assert.Equal("", string.Join(", ", fields.Where(f => !f.IsInitOnly).Select(f => f.Name)));
            Assert.Equal("", string.Join(", ", fields.Where(f => f.FieldType.IsPrimitive).Select(f => f.Name)));
        }
    }
}
