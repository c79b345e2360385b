using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Sockets;
using System.Text;
using TestRunner.Emulator;
using TestRunner.Screen;
using Xunit;

namespace TestRunner.Tests;

public class PpmTests
{
    static byte[] Bytes(string header, params byte[] pixels) => [.. Encoding.ASCII.GetBytes(header), .. pixels];

    [Fact]
    public void A_P6_image_as_QEMU_writes_it_is_read_pixel_by_pixel()
    {
        var image = Ppm.Parse(Bytes("P6\n2 1\n255\n", 0xAA, 0xBB, 0xCC, 0, 0, 0));
        Assert.Equal((2, 1), (image.Width, image.Height));
        Assert.Equal(0xAABBCC, image[0, 0]);
        Assert.Equal(0x000000, image[1, 0]);
    }

    [Fact]
    public void Comments_and_any_whitespace_in_the_header_are_allowed()
    {
        var image = Ppm.Parse(Bytes("P6 # made by hand\n1\t\r\n # another\n 1 255\n", 1, 2, 3));
        Assert.Equal(0x010203, image[0, 0]);
    }

    [Fact]
    public void A_maxval_below_255_is_scaled_to_8_bits()
    {
        var image = Ppm.Parse(Bytes("P6 1 1 15\n", 15, 0, 5));
        Assert.Equal(0xFF0055, image[0, 0]);
    }

    [Fact]
    public void Writing_then_reading_gives_the_same_image()
    {
        var pixels = Enumerable.Range(0, 3 * 4 * 3).Select(i => (byte)(i * 7)).ToArray();
        var image = new RgbImage(3, 4, pixels);
        var back = Ppm.Parse(Ppm.Write(image));
        Assert.Equal((3, 4), (back.Width, back.Height));
        Assert.Equal(pixels, back.Pixels);
        Assert.StartsWith("P6\n3 4\n255\n", Encoding.ASCII.GetString(Ppm.Write(image)));
    }

    [Theory]
    [InlineData("P3\n1 1\n255\n", "does not start with P6")]
    [InlineData("P6\n1\n", "ends before its height")]
    [InlineData("P6\n1 x 255\n", "height is not a decimal number")]
    [InlineData("P6\n0 1 255\n", "has no pixels")]
    [InlineData("P6\n1 1 65535\n", "maxval 65535 is not supported")]
    [InlineData("P6\n2 2 255\n\x01\x02\x03", "truncated: 2x2 needs 12 bytes of pixels, the file has 3")]
    [InlineData("P6\n1 1 255", "does not end in a whitespace byte")]
    public void Bad_files_are_refused_naming_the_fault(string file, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => Ppm.Parse(Encoding.Latin1.GetBytes(file)));
        Assert.Contains(message, e.Message);
    }
}

public class PngTests
{
    static List<(string Type, byte[] Data, uint Crc)> Chunks(byte[] png)
    {
        Assert.Equal(Png.Signature.ToArray(), png[..8]);
        var chunks = new List<(string, byte[], uint)>();
        int pos = 8;
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            chunks.Add((type, data, crc));
            pos += 12 + length;
        }
        Assert.Equal(png.Length, pos);
        return chunks;
    }

    [Fact]
    public void The_CRC_is_the_standard_CRC_32()
    {
        Assert.Equal(0xCBF43926u, Png.Crc32("123456789"u8));
        Assert.Equal(0x00000000u, Png.Crc32([]));
    }

    [Fact]
    public void A_PNG_has_the_signature_IHDR_one_IDAT_and_IEND_each_with_its_CRC()
    {
        var png = Png.Encode(new RgbImage(720, 400, new byte[720 * 400 * 3]));
        var chunks = Chunks(png);
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        foreach (var (type, data, crc) in chunks)
            Assert.Equal(Png.Crc32([.. Encoding.ASCII.GetBytes(type), .. data]), crc);
        var ihdr = chunks[0].Data;
        Assert.Equal(720, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(400, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal(new byte[] { 8, 2, 0, 0, 0 }, ihdr[8..]);          // 8-bit RGB, deflate, no filter method, no interlace
        Assert.Equal(0xAE426082u, chunks[2].Crc);                      // the IEND every PNG ends with
        Assert.True(png.Length < 20_000, $"a black screen should compress, not take {png.Length} bytes");
    }

    [Fact]
    public void The_IDAT_inflates_to_the_pixels_row_by_row_after_filter_byte_0()
    {
        var random = new Random(4);
        var pixels = new byte[5 * 3 * 3];
        random.NextBytes(pixels);
        var idat = Chunks(Png.Encode(new RgbImage(5, 3, pixels)))[1].Data;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(idat), CompressionMode.Decompress)) zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        Assert.Equal(3 * (1 + 5 * 3), raw.Length);
        for (int y = 0; y < 3; y++)
        {
            Assert.Equal(0, raw[y * 16]);
            Assert.Equal(pixels.AsSpan(y * 15, 15).ToArray(), raw.AsSpan(y * 16 + 1, 15).ToArray());
        }
    }

    [Fact]
    public void Save_picks_PNG_or_PPM_by_the_extension_and_refuses_others()
    {
        var dir = Directory.CreateTempSubdirectory("screendump-");
        try
        {
            var image = new RgbImage(1, 1, [9, 8, 7]);
            Screendump.Save(image, Path.Combine(dir.FullName, "sub", "a.png"));
            Screendump.Save(image, Path.Combine(dir.FullName, "a.PPM"));
            Assert.Equal(Png.Signature.ToArray(), File.ReadAllBytes(Path.Combine(dir.FullName, "sub", "a.png"))[..8]);
            Assert.Equal(0x090807, Ppm.Parse(File.ReadAllBytes(Path.Combine(dir.FullName, "a.PPM")))[0, 0]);
            Assert.Contains("must end in .png or .ppm", Screendump.CheckPath("screen.jpg"));
        }
        finally { dir.Delete(true); }
    }
}

/// <summary>The QMP client against an in-process server speaking QEMU's side of the protocol.</summary>
public class QmpClientTests
{
    const string Greeting = """{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}""";

    static async Task<(string[] Received, Exception? Error)> Converse(Func<QmpClient, Task> client, params string[] replies)
    {
        var dir = Directory.CreateTempSubdirectory("qmp-");
        string path = Path.Combine(dir.FullName, "q.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var received = new List<string>();
        var server = Task.Run(async () =>
        {
            using var s = await listener.AcceptAsync();
            using var stream = new NetworkStream(s);
            using var reader = new StreamReader(stream);
            using var writer = new StreamWriter(stream) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync(Greeting);
            foreach (var reply in replies)
            {
                if (await reader.ReadLineAsync() is not string line) break;
                received.Add(line);
                foreach (var part in reply.Split('\n')) await writer.WriteLineAsync(part);
            }
        });
        Exception? error = null;
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(path, TimeSpan.FromSeconds(5));
            Assert.Equal("7.2.22", qmp.Version);
            await client(qmp);
        }
        catch (QmpException e) { error = e; }
        await server.WaitAsync(TimeSpan.FromSeconds(5));
        dir.Delete(true);
        return (received.ToArray(), error);
    }

    [Fact]
    public async Task Capabilities_are_negotiated_then_screendump_asks_for_the_file_and_events_in_between_are_skipped()
    {
        var (received, error) = await Converse(q => q.ScreendumpAsync("/tmp/x.ppm"),
            """{"return": {}}""",
            """{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}""" + "\n" + """{"return": {}}""");
        Assert.Null(error);
        Assert.Equal(["""{"execute":"qmp_capabilities"}""", """{"execute":"screendump","arguments":{"filename":"/tmp/x.ppm"}}"""], received);
    }

    [Fact]
    public async Task An_error_reply_becomes_an_exception_with_QEMUs_description()
    {
        var (_, error) = await Converse(q => q.ScreendumpAsync("/nope/x.ppm"),
            """{"return": {}}""",
            """{"error": {"class": "GenericError", "desc": "failed to open file '/nope/x.ppm': No such file or directory"}}""");
        Assert.Contains("QEMU refused 'screendump': failed to open file '/nope/x.ppm'", error?.Message);
        Assert.Contains("GenericError", error?.Message);
    }

    [Fact]
    public async Task A_server_that_hangs_up_is_reported_not_awaited_forever()
    {
        var (_, error) = await Converse(q => q.ScreendumpAsync("/tmp/x.ppm"), """{"return": {}}""");
        Assert.Contains("QMP connection", error?.Message);   // lost while sending, or closed before the reply
    }

    [Fact]
    public async Task A_socket_nobody_listens_on_is_refused_after_the_wait()
    {
        var e = await Assert.ThrowsAsync<QmpException>(() => QmpClient.ConnectAsync(Path.Combine(Path.GetTempPath(), $"no-qmp-{Guid.NewGuid():N}.sock"), TimeSpan.FromMilliseconds(200)));
        Assert.Contains("cannot connect to QEMU's QMP socket", e.Message);
    }
}
