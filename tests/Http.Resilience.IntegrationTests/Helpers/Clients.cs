using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests.Helpers;

/// <summary>Builds a named client through IHttpClientFactory with the chain on, against a loopback server.</summary>
internal sealed class Clients : IDisposable
{
    public const string Name = "dependency";

    private readonly ServiceProvider _provider;

    // timeProvider: the chain's clock; a fake one lets a test end a break without waiting for it.
    public Clients(Uri baseAddress, Action<HttpResilienceOptions> configure, int maxConnectionsPerServer = int.MaxValue, Action<IHttpClientBuilder>? client = null, TimeProvider? timeProvider = null)
    {
        var services = new ServiceCollection();
        if (timeProvider is not null)
        {
            services.AddSingleton(timeProvider);
        }

        var builder = services.AddHttpClient(Name, c => c.BaseAddress = baseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { MaxConnectionsPerServer = maxConnectionsPerServer, UseProxy = false });
        client?.Invoke(builder);
        builder.AddHttpResilience(configure);
        _provider = services.BuildServiceProvider();
    }

    public HttpClient Create() => _provider.GetRequiredService<IHttpClientFactory>().CreateClient(Name);

    public void Dispose() => _provider.Dispose();
}
