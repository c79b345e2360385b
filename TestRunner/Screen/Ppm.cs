using System.Text;

namespace TestRunner.Screen;

/// <summary>
/// Binary PPM (P6), the format of QEMU's <c>screendump</c>: "P6", width, height and maxval as
/// decimal numbers separated by whitespace (with '#' comments to the end of a line), one
/// whitespace byte, then width x height RGB pixels of one byte per sample (maxval 1..255).
/// </summary>
public static class Ppm
{
    /// <summary>Reads a P6 image; samples are scaled to 0..255 when maxval is below 255. Throws <see cref="InvalidDataException"/> naming the fault.</summary>
    public static RgbImage Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < 2 || data[0] != 'P' || data[1] != '6')
            throw new InvalidDataException("not a binary PPM: it does not start with P6");
        int pos = 2;
        int width = Number(data, ref pos, "width");
        int height = Number(data, ref pos, "height");
        int maxval = Number(data, ref pos, "maxval");
        if (width == 0 || height == 0) throw new InvalidDataException($"PPM of {width}x{height} pixels has no pixels");
        if (maxval is 0 or > 255) throw new InvalidDataException($"PPM maxval {maxval} is not supported (1..255, one byte per sample)");
        if (pos >= data.Length || !IsSpace(data[pos])) throw new InvalidDataException("PPM header does not end in a whitespace byte");
        pos++;
        long needed = (long)width * height * 3;
        if (needed > int.MaxValue) throw new InvalidDataException($"PPM of {width}x{height} pixels is too large");
        if (data.Length - pos < needed)
            throw new InvalidDataException($"PPM is truncated: {width}x{height} needs {needed} bytes of pixels, the file has {data.Length - pos}");
        var pixels = data.Slice(pos, (int)needed).ToArray();
        if (maxval != 255)
            for (int i = 0; i < pixels.Length; i++)
            {
                if (pixels[i] > maxval) throw new InvalidDataException($"PPM sample {pixels[i]} at byte {pos + i} exceeds maxval {maxval}");
                pixels[i] = (byte)((pixels[i] * 255 + maxval / 2) / maxval);
            }
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Writes <paramref name="image"/> as P6 with maxval 255.</summary>
    public static byte[] Write(RgbImage image)
    {
        var header = Encoding.ASCII.GetBytes($"P6\n{image.Width} {image.Height}\n255\n");
        var bytes = new byte[header.Length + image.Pixels.Length];
        header.CopyTo(bytes, 0);
        image.Pixels.CopyTo(bytes, header.Length);
        return bytes;
    }

    static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    static int Number(ReadOnlySpan<byte> data, ref int pos, string what)
    {
        while (pos < data.Length)
        {
            if (IsSpace(data[pos])) pos++;
            else if (data[pos] == '#') { while (pos < data.Length && data[pos] != '\n' && data[pos] != '\r') pos++; }
            else break;
        }
        if (pos == data.Length) throw new InvalidDataException($"PPM header ends before its {what}");
        if (pos == 2 || !IsSpace(data[pos - 1])) throw new InvalidDataException($"PPM header has no whitespace before its {what}");
        long value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] >= '0' && data[pos] <= '9')
        {
            value = value * 10 + (data[pos++] - '0');
            if (value > int.MaxValue) throw new InvalidDataException($"PPM {what} is too large");
        }
        if (pos == start) throw new InvalidDataException($"PPM {what} is not a decimal number");
        return (int)value;
    }
}
