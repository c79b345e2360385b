using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using Xunit;

namespace MemoryManager.Tests
{
    /// <summary>
    /// How the memory manager's sources reach their builds (docs/memory-manager.md, "Projects"):
    /// each file belongs to one project or one shared item list (.projitems) in its own folder, and
    /// a project that needs it imports that list instead of naming the file.
    /// </summary>
    public class BuildLayoutTests
    {
        private static readonly string[] SkippedFolders = { "bin", "obj", "artifacts", ".git" };

        private static string[] ProjectFiles(string pattern) =>
            Directory.GetFiles(KernelSubsetTests.RepoRoot(), pattern, SearchOption.AllDirectories)
                .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => SkippedFolders.Contains(part)))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray();

        /// <summary>Every Include, Remove and Update path of the file's Compile items.</summary>
        private static string[] CompilePaths(string file) =>
            XDocument.Load(file).Descendants().Where(e => e.Name.LocalName == "Compile")
                .SelectMany(e => new[] { "Include", "Remove", "Update", "Exclude" }.Select(a => (string)e.Attribute(a)))
                .Where(v => v != null).SelectMany(v => v.Split(';')).Select(v => v.Trim()).Where(v => v.Length > 0).ToArray();

        [Fact]
        public void No_project_compiles_a_file_from_another_projects_folder()
        {
            string[] projects = ProjectFiles("*.csproj");
            Assert.Contains(projects, p => p.EndsWith("MemoryManager.Kernel.csproj"));
            var problems = new StringBuilder();
            foreach (string project in projects)
                foreach (string path in CompilePaths(project))
                    if (path.Contains("..") || Path.IsPathRooted(path) || path.Contains("$("))
                        problems.Append(Path.GetFileName(project)).Append(": Compile ").Append(path).Append('\n');
            Assert.Equal("", problems.ToString());
        }

        [Fact]
        public void A_shared_item_list_names_only_files_below_its_own_folder()
        {
            string[] lists = ProjectFiles("*.projitems");
            Assert.Contains(lists, l => l.EndsWith(Path.Combine("MemoryManager", "MemoryManager.projitems")));
            Assert.Contains(lists, l => l.EndsWith(Path.Combine("MemoryManager", "Common", "Common.projitems")));
            var problems = new StringBuilder();
            foreach (string list in lists)
                foreach (string path in CompilePaths(list))
                    if (!path.StartsWith("$(MSBuildThisFileDirectory)", StringComparison.Ordinal) || path.Contains(".."))
                        problems.Append(Path.GetFileName(list)).Append(": Compile ").Append(path).Append('\n');
            Assert.Equal("", problems.ToString());
        }

        [Fact]
        public void The_kernel_core_library_and_the_host_build_each_import_Common_and_the_kernel_build_of_the_memory_manager_does_not()
        {
            string root = KernelSubsetTests.RepoRoot();
            string Imports(string project) => string.Join(";", XDocument.Load(Path.Combine(root, project)).Descendants()
                .Where(e => e.Name.LocalName == "Import").Select(e => (string)e.Attribute("Project")));
            Assert.Contains("Common/Common.projitems", Imports("CosmosKernel/Kernel.CoreLib/Kernel.CoreLib.csproj"));
            Assert.Contains("Common/Common.projitems", Imports("MemoryManager/MemoryManager.csproj"));
            Assert.Contains("MemoryManager.projitems", Imports("MemoryManager/MemoryManager.csproj"));
            Assert.Contains("MemoryManager/MemoryManager.projitems", Imports("CosmosKernel/MemoryManager.Kernel/MemoryManager.Kernel.csproj"));
            Assert.DoesNotContain("Common.projitems", Imports("CosmosKernel/MemoryManager.Kernel/MemoryManager.Kernel.csproj"));
        }
    }
}
