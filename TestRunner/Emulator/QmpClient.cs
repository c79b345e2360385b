using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TestRunner.Emulator;

/// <summary>A QMP command that QEMU refused, or a conversation that broke.</summary>
public sealed class QmpException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A client of the QEMU Machine Protocol on a Unix socket (QEMU started with
/// <c>-qmp unix:PATH,server=on,wait=off</c>): JSON objects one per line. After QEMU's greeting
/// the client leaves capabilities negotiation (<c>qmp_capabilities</c>); then each command gets
/// a <c>return</c> or an <c>error</c>; asynchronous <c>event</c>s in between are skipped.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    readonly Socket socket;
    readonly StreamReader reader;
    readonly Stream stream;

    QmpClient(Socket socket)
    {
        this.socket = socket;
        stream = new NetworkStream(socket, ownsSocket: false);
        reader = new StreamReader(stream, new UTF8Encoding(false));
    }

    /// <summary>The greeting's QEMU version ("7.2.22"), once connected.</summary>
    public string Version { get; private set; } = "";

    /// <summary>
    /// Connects to <paramref name="socketPath"/>, retrying for up to <paramref name="wait"/> while
    /// QEMU has not created or opened it yet, reads the greeting and negotiates capabilities.
    /// </summary>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan wait, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (DateTime.UtcNow >= deadline)
                    throw new QmpException($"cannot connect to QEMU's QMP socket {socketPath}: {e.Message}", e);
                await Task.Delay(50, cancel).ConfigureAwait(false);
                continue;
            }
            var client = new QmpClient(socket);
            try
            {
                var greeting = await client.ReadObjectAsync(cancel).ConfigureAwait(false);
                if (greeting["QMP"] is not JsonObject qmp) throw new QmpException($"QMP greeting expected, got {greeting.ToJsonString()}");
                var v = qmp["version"]?["qemu"];
                if (v != null) client.Version = $"{v["major"]}.{v["minor"]}.{v["micro"]}";
                await client.ExecuteAsync("qmp_capabilities", null, cancel).ConfigureAwait(false);
                return client;
            }
            catch
            {
                await client.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> and returns its <c>return</c> value; throws <see cref="QmpException"/> with QEMU's description on an error.</summary>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancel = default)
    {
        var request = new JsonObject { ["execute"] = command };
        if (arguments != null) request["arguments"] = arguments;
        var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
        try
        {
            await stream.WriteAsync(bytes, cancel).ConfigureAwait(false);
            await stream.FlushAsync(cancel).ConfigureAwait(false);
        }
        catch (IOException e) { throw new QmpException($"QMP connection lost sending '{command}': {e.Message}", e); }
        while (true)
        {
            var reply = await ReadObjectAsync(cancel).ConfigureAwait(false);
            if (reply.ContainsKey("event")) continue;
            if (reply.TryGetPropertyValue("return", out var value)) return value;
            if (reply["error"] is JsonObject error)
                throw new QmpException($"QEMU refused '{command}': {error["desc"]?.GetValue<string>() ?? error.ToJsonString()}" +
                    (error["class"] is JsonNode c ? $" ({c.GetValue<string>()})" : ""));
            throw new QmpException($"unexpected QMP reply to '{command}': {reply.ToJsonString()}");
        }
    }

    /// <summary>Asks QEMU to write the display as a PPM file at <paramref name="ppmPath"/> (written by QEMU itself, so an absolute path it can reach).</summary>
    public Task ScreendumpAsync(string ppmPath, CancellationToken cancel = default) =>
        ExecuteAsync("screendump", new JsonObject { ["filename"] = ppmPath }, cancel);

    async Task<JsonObject> ReadObjectAsync(CancellationToken cancel)
    {
        while (true)
        {
            string? line;
            try { line = await reader.ReadLineAsync(cancel).ConfigureAwait(false); }
            catch (IOException e) { throw new QmpException($"QMP connection lost: {e.Message}", e); }
            if (line == null) throw new QmpException("QEMU closed the QMP connection");
            if (line.Trim().Length == 0) continue;
            try
            {
                return JsonNode.Parse(line) as JsonObject ?? throw new QmpException($"QMP sent something other than an object: {line}");
            }
            catch (JsonException e) { throw new QmpException($"QMP sent malformed JSON: {line}", e); }
        }
    }

    public ValueTask DisposeAsync()
    {
        reader.Dispose();
        stream.Dispose();
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
