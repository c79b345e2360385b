using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace TestRunner.Screen;

/// <summary>
/// A minimal PNG writer: truecolour 8 bits per sample (colour type 2), no interlace, every
/// row with filter type 0, one IDAT chunk of zlib data (RFC 1950 through <see cref="ZLibStream"/>),
/// each chunk's CRC-32 computed here (ISO 3309, the polynomial 0xEDB88320 reflected).
/// </summary>
public static class Png
{
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Encode(RgbImage image)
    {
        using var output = new MemoryStream();
        output.Write(Signature);

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), image.Height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type: RGB
        // compression 0 (deflate), filter method 0, interlace 0 (none)
        WriteChunk(output, "IHDR", ihdr);

        using (var idat = new MemoryStream())
        {
            using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
            {
                int stride = image.Width * 3;
                for (int y = 0; y < image.Height; y++)
                {
                    zlib.WriteByte(0); // filter type None
                    zlib.Write(image.Pixels, y * stride, stride);
                }
            }
            WriteChunk(output, "IDAT", idat.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeAndData = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type, typeAndData);
        data.CopyTo(typeAndData, 4);
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        output.Write(word);
    }

    static readonly uint[] CrcTable = MakeCrcTable();

    static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>The CRC-32 PNG chunks carry (the same as zlib's crc32): CRC32("123456789") = 0xCBF43926.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
