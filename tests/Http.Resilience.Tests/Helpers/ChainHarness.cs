using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Tests.Helpers;

/// <summary>The whole chain, built through IHttpClientFactory like a user would, over a <see cref="StubHandler"/> and a <see cref="TestClock"/>.</summary>
internal sealed class ChainHarness : IDisposable
{
    public const string ClientName = "test";

    private readonly ServiceProvider _provider;

    public ChainHarness(Action<HttpResilienceOptions>? configure = null, IConfiguration? section = null, Action<IHttpClientBuilder>? client = null, double jitter = 0, CapturingLoggerProvider? logs = null)
    {
        var services = new ServiceCollection();
        if (logs is not null)
        {
            services.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace));
        }

        services.AddSingleton<TimeProvider>(Clock);
        var builder = services.AddHttpClient(ClientName, c => c.BaseAddress = new Uri("http://127.0.0.1/"))
            .ConfigurePrimaryHttpMessageHandler(() => Stub);
        client?.Invoke(builder);
        if (section is not null && configure is not null)
        {
            builder.AddHttpResilience(section, configure);
        }
        else if (section is not null)
        {
            builder.AddHttpResilience(section);
        }
        else if (configure is not null)
        {
            builder.AddHttpResilience(configure);
        }
        else
        {
            builder.AddHttpResilience();
        }

        _provider = services.BuildServiceProvider();
        Registry.Jitter = () => jitter;
    }

    public TestClock Clock { get; } = new();

    public StubHandler Stub { get; } = new();

    public IServiceProvider Services => _provider;

    public ResilienceRegistry Registry => _provider.GetRequiredService<ResilienceRegistry>();

    public HttpClient CreateClient() => _provider.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);

    public void Dispose() => _provider.Dispose();
}
