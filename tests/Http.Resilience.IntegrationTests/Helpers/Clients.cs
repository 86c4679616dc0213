using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests.Helpers;

/// <summary>Builds a named client through IHttpClientFactory with the chain on, against a loopback server.</summary>
internal sealed class Clients : IDisposable
{
    public const string Name = "dependency";

    private readonly ServiceProvider _provider;

    public Clients(Uri baseAddress, Action<HttpResilienceOptions> configure, int maxConnectionsPerServer = int.MaxValue, Action<IHttpClientBuilder>? client = null)
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient(Name, c => c.BaseAddress = baseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = maxConnectionsPerServer, UseProxy = false });
        client?.Invoke(builder);
        builder.AddHttpResilience(configure);
        _provider = services.BuildServiceProvider();
    }

    public HttpClient Create() => _provider.GetRequiredService<IHttpClientFactory>().CreateClient(Name);

    public void Dispose() => _provider.Dispose();
}
