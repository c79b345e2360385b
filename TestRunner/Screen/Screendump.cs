namespace TestRunner.Screen;

/// <summary>Saving a screendump: PNG or PPM, chosen by the file's extension.</summary>
public static class Screendump
{
    /// <summary>Null when <paramref name="path"/> ends in .png or .ppm, else the message refusing it.</summary>
    public static string? CheckPath(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".png" or ".ppm"
            ? null
            : $"screendump file '{path}' must end in .png or .ppm";

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> (.png or .ppm), creating its folder.</summary>
    public static void Save(RgbImage image, string path)
    {
        if (CheckPath(path) is string error) throw new ArgumentException(error, nameof(path));
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, Path.GetExtension(path).Equals(".png", StringComparison.OrdinalIgnoreCase) ? Png.Encode(image) : Ppm.Write(image));
    }
}
