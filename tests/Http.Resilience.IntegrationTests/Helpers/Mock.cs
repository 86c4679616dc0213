using WireMock.Server;
using WireMock.Settings;
using System.Net;
using System.Net.Sockets;

namespace Http.Resilience.IntegrationTests.Helpers;

internal static class Mock
{
    /// <summary>A WireMock.Net server bound to 127.0.0.1 only.</summary>
    public static WireMockServer Start()
        => WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{FreePort()}"] });

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static Uri BaseAddress(this WireMockServer server) => new(server.Url! + "/");
}
