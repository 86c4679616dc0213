using System.Net;
using System.Net.Sockets;
using WireMock.Server;
using WireMock.Settings;

namespace Http.Resilience.IntegrationTests.Helpers;

internal static class Mock
{
    /// <summary>A WireMock.Net server bound to 127.0.0.1 only.</summary>
    /// <remarks>One request is sent and forgotten first, so WireMock's first-request costs never land in a timed test.</remarks>
    public static WireMockServer Start()
    {
        var server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });
        using (var warmUp = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            warmUp.GetAsync(new Uri(server.BaseAddress(), "__warmup")).GetAwaiter().GetResult().Dispose();
        }

        server.ResetLogEntries();
        return server;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Uri BaseAddress(this WireMockServer server) => new(server.Url! + "/");
}
