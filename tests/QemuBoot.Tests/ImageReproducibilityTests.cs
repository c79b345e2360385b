using System.Text;
using Xunit;

namespace QemuBoot.Tests;

/// <summary>
/// A deterministic run must print the same bytes in every clone (docs/labs, "Deterministic
/// runs"). GRUB loads the kernel ELF's symbol and string tables below the first page the kernel
/// may use, so a checkout's absolute path in the image (nasm's file symbols once carried it)
/// moved the memmap and the boot arena by a page between clones, and with them the addresses a
/// lab page shows.
/// </summary>
public class ImageReproducibilityTests
{
    [Fact]
    public async Task The_kernel_image_names_no_path_of_the_checkout_it_was_built_in()
    {
        var layout = await KernelImage.RequireAsync();
        byte[] elf = File.ReadAllBytes(layout.ElfPath);
        string root = Path.GetFullPath(layout.RepoRoot).TrimEnd('/');
        int at = elf.AsSpan().IndexOf(Encoding.UTF8.GetBytes(root));
        Assert.True(at < 0, at < 0 ? "" :
            $"{layout.ElfPath} holds the checkout's path at offset 0x{at:x}: " +
            Encoding.UTF8.GetString(elf, at, Math.Min(120, elf.Length - at)).Split('\0')[0]);
    }
}
