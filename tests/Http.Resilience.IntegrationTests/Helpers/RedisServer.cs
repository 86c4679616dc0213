using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Http.Resilience.IntegrationTests.Helpers;

/// <summary>
/// A real <c>redis-server</c> of the test's own, on a free loopback port, started and stopped by PID: killed (SIGKILL),
/// frozen (SIGSTOP), thawed and restarted on the same port by the outage tests.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private Process? _process;
    private bool _frozen;

    private RedisServer(string binary, int port)
    {
        Binary = binary;
        Port = port;
    }

    public string Binary { get; }

    public int Port { get; }

    /// <summary>Gets a connection string for a connection of its own that never blocks on a dead server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=500,syncTimeout=500,asyncTimeout=500";

    public static async Task<RedisServer> StartAsync()
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                "redis-server was not found (looked in /usr/bin and /usr/local/bin). The fleet tests run against a real Redis: " +
                "install it with 'apt-get install -y redis-server' (.ci/run does so when it is missing).");
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new RedisServer(binary, port);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its port and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        var info = new ProcessStartInfo(Binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _frozen = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!await AnswersPingAsync(timeout.Token))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited at start with code {_process.ExitCode}.");
            }

            await Task.Delay(20, timeout.Token); // the server is starting: a bounded wait for it to listen
        }
    }

    /// <summary>Kills the server at once, as a crash would (SIGKILL).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            if (_frozen)
            {
                Signal("CONT");
            }

            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>Freezes the server (SIGSTOP): its connections stay open and nothing answers.</summary>
    public void Freeze()
    {
        Signal("STOP");
        _frozen = true;
    }

    /// <summary>Lets a frozen server go on (SIGCONT).</summary>
    public void Thaw()
    {
        Signal("CONT");
        _frozen = false;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private async Task<bool> AnswersPingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, cancellationToken);
            return read > 0 && System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
