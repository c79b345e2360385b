using System.Globalization;

namespace TestRunner.Emulator;

/// <summary>
/// A guest memory size as QEMU's <c>-m</c> takes it: a whole number of MiB, written with an
/// optional K, M, G or T suffix (<c>256M</c>, <c>6G</c>, <c>512</c> = 512 MiB).
/// </summary>
public readonly record struct MemorySize(long MiB)
{
    /// <summary>
    /// The smallest size the runner accepts: GRUB needs room to load the kernel image above 1 MiB
    /// and itself (with a 1.5 MiB image, 4 MiB hangs before the kernel runs: nothing arrives on
    /// serial; 5 MiB still works). How much the kernel itself needs it says at boot, and below
    /// that it stops with "this kernel needs at least N MiB of RAM" (docs/kernel-heap.md).
    /// </summary>
    public const long MinimumMiB = 6;
    /// <summary>The largest size the runner accepts (1 TiB).</summary>
    public const long MaximumMiB = 1024 * 1024;

    public static readonly MemorySize Default = new(256);

    /// <summary>
    /// Parses a size; on bad input returns false with a message that quotes the text and says what
    /// is accepted (the caller puts the option's name in front).
    /// </summary>
    public static bool TryParse(string? text, out MemorySize size, out string error)
    {
        size = default;
        error = "";
        string s = (text ?? "").Trim();
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        else if (s.EndsWith("B", StringComparison.OrdinalIgnoreCase) && s.Length > 1 && char.IsLetter(s[^2])) s = s[..^1];
        long unitKiB = 1024;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            unitKiB = char.ToUpperInvariant(s[^1]) switch
            {
                'K' => 1,
                'M' => 1024,
                'G' => 1024 * 1024,
                'T' => 1024L * 1024 * 1024,
                _ => -1,
            };
            s = s[..^1];
        }
        if (unitKiB > 0 && s.Length > 1 && s[0] == '-' && s[1..].All(char.IsAsciiDigit))
        {
            error = $"'{text}' is out of range: use {MinimumMiB}M to 1T";
            return false;
        }
        if (unitKiB < 0 || s.Length == 0 || !s.All(char.IsAsciiDigit))
        {
            error = $"'{text}' is not a memory size: write a whole number with an optional K, M, G or T suffix (256M, 6G)";
            return false;
        }
        // A number too large for a long, or whose KiB would not fit one, is beyond the range anyway:
        // refuse it as such rather than let the multiplication wrap.
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > MaximumMiB * 1024 / unitKiB)
        {
            error = $"'{text}' is out of range: use {MinimumMiB}M to 1T";
            return false;
        }
        long kib = n * unitKiB;
        if (kib % 1024 != 0)
        {
            error = $"'{text}' is not a whole number of MiB";
            return false;
        }
        long mib = kib / 1024;
        if (mib < MinimumMiB || mib > MaximumMiB)
        {
            error = $"'{text}' is out of range: use {MinimumMiB}M to 1T";
            return false;
        }
        size = new MemorySize(mib);
        return true;
    }

    /// <summary>Parses a size or throws <see cref="ArgumentException"/> with the parse message.</summary>
    public static MemorySize Parse(string text) =>
        TryParse(text, out var size, out var error) ? size : throw new ArgumentException(error);

    /// <summary>The argument for QEMU's -m: whole GiB as <c>6G</c>, otherwise MiB as <c>256M</c>.</summary>
    public override string ToString() => MiB % 1024 == 0 ? $"{MiB / 1024}G" : $"{MiB}M";
}
