namespace TestRunner.Screen;

/// <summary>An 8-bit RGB picture: <see cref="Pixels"/> holds Width x Height pixels, row by row, three bytes each.</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"an image of {width}x{height} pixels has none");
        if (pixels.Length != checked(width * height * 3))
            throw new ArgumentException($"a {width}x{height} RGB image needs {width * height * 3} bytes, not {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    /// <summary>The colour at (<paramref name="x"/>, <paramref name="y"/>) as 0xRRGGBB.</summary>
    public int this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(x), $"({x}, {y}) is outside {Width}x{Height}");
            int i = (y * Width + x) * 3;
            return Pixels[i] << 16 | Pixels[i + 1] << 8 | Pixels[i + 2];
        }
    }
}
