using System.Net;
using System.Text;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Http.Resilience.IntegrationTests;

/// <summary>Behaviour 7 (options from appsettings, validated at start-up) and typed clients, in a real host.</summary>
public class ConfigurationAndTypedClientTests
{
    public sealed class CatalogClient(HttpClient http)
    {
        public async Task<string> GetItemsAsync() => await http.GetStringAsync("/items");
    }

    private static HostApplicationBuilder CreateHost(string json)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        return builder;
    }

    [Fact]
    public async Task Host_InvalidSection_FailsAtStartNamingClientAndField()
    {
        var builder = CreateHost("""{ "HttpResilience": { "payment": { "Deadline": "00:00:05", "AttemptTimeout": "00:00:09", "Retry": { "MaxRetries": -1 } } } }""");
        builder.Services.AddHttpClient("payment").AddHttpResilience(builder.Configuration.GetSection("HttpResilience:payment"));
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("HttpClient 'payment'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Retry.MaxRetries' must be between 0 and 100 (was '-1')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'AttemptTimeout' must not be greater than Deadline", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_TypedClientConfiguredFromSection_UsesTheBoundOptions()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/items").UsingGet()).RespondWith(Response.Create().WithStatusCode(503).WithBody("down"));
        var builder = CreateHost("""{ "HttpResilience": { "catalog": { "Retry": { "MaxRetries": 1, "BaseDelay": "00:00:00.010" } } } }""");
        builder.Services.AddHttpClient<CatalogClient>(c => c.BaseAddress = server.BaseAddress())
            .AddHttpResilience(builder.Configuration.GetSection("HttpResilience:catalog"));
        using var host = builder.Build();
        await host.StartAsync();

        var catalog = host.Services.GetRequiredService<CatalogClient>();
        var ex = await Assert.ThrowsAsync<HttpRequestException>(catalog.GetItemsAsync);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode); // the last response came back; the caller's EnsureSuccess saw it
        Assert.Equal(2, server.LogEntries.Count()); // MaxRetries 1 from configuration
        await host.StopAsync();
    }

    [Fact]
    public async Task TypedClient_RetriesThroughTheChain()
    {
        using var server = Mock.Start();
        server.Given(Request.Create().WithPath("/items").UsingGet()).InScenario("t").WillSetStateTo("up").RespondWith(Response.Create().WithStatusCode(500));
        server.Given(Request.Create().WithPath("/items").UsingGet()).InScenario("t").WhenStateIs("up").RespondWith(Response.Create().WithBody("[1,2,3]"));
        var services = new ServiceCollection();
        services.AddHttpClient<CatalogClient>(c => c.BaseAddress = server.BaseAddress()).AddHttpResilience(o => o.Retry.BaseDelay = TimeSpan.Zero);
        using var provider = services.BuildServiceProvider();

        Assert.Equal("[1,2,3]", await provider.GetRequiredService<CatalogClient>().GetItemsAsync());
        Assert.Equal(2, server.LogEntries.Count());
    }
}
