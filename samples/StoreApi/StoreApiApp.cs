using Http.Resilience;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace StoreApi;

/// <summary>
/// The store: a checkout (payment, critical: no fallback), a catalog (inventory, stale-if-error), live stock (inventory
/// again, with settings of its own: no fallback, one try) and notifications.
/// </summary>
public static class StoreApiApp
{
    /// <summary>Builds the app; tests pass <paramref name="configure"/> to point it at their own servers.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var dependencies = builder.Configuration.GetSection("Dependencies");
        var resilience = builder.Configuration.GetSection("HttpResilience");

        // One line per dependency: each gets its own deadline, retries, circuit and bulkhead from appsettings.json.
        builder.Services.AddHttpClient<PaymentClient>("payment", c => c.BaseAddress = new Uri(dependencies["Payment"]!))
            .AddHttpResilience(resilience.GetSection("payment"));
        builder.Services.AddHttpClient("inventory", c => c.BaseAddress = new Uri(dependencies["Inventory"]!))
            .AddHttpResilience(resilience.GetSection("inventory"));
        builder.Services.AddHttpClient("notifications", c => c.BaseAddress = new Uri(dependencies["Notifications"]!))
            .AddHttpResilience(resilience.GetSection("notifications"), o => o.Fallback.UseResponse((_, _) => new HttpResponseMessage(System.Net.HttpStatusCode.Accepted)));

        builder.Services.AddHealthChecks().AddHttpResilienceCircuits();
        var telemetry = builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("Http.Resilience").AddPrometheusExporter());

        // Traces when asked for: each logical request is a span ("Http.Resilience"), parent of its attempts' HttpClient spans
        // ("System.Net.Http"). Tracing:Console=true prints them; OTEL_EXPORTER_OTLP_ENDPOINT sends them to a collector (Jaeger, Aspire).
        var toConsole = builder.Configuration.GetValue<bool>("Tracing:Console");
        var toOtlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (toConsole || toOtlp)
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource("Http.Resilience", "System.Net.Http");
                if (toConsole)
                {
                    tracing.AddConsoleExporter();
                }

                if (toOtlp)
                {
                    tracing.AddOtlpExporter();
                }
            });
        }

        var app = builder.Build();
        app.UseDeadlinePropagation(o => o.DefaultDeadline = TimeSpan.FromSeconds(20));

        // Liveness: this service's own health only. Dependencies have their own endpoint: a liveness probe that fails when a dependency is down gets healthy instances restarted.
        app.MapHealthChecks("/health", new() { Predicate = _ => false });
        app.MapHealthChecks("/health/dependencies", new() { Predicate = c => c.Tags.Contains("dependencies") });
        app.MapPrometheusScrapingEndpoint("/metrics");

        app.MapPost("/checkout", async (Order order, PaymentClient payments, HttpContext context) =>
        {
            try
            {
                using var response = await payments.ChargeAsync(order, context.RequestAborted);
                return response.IsSuccessStatusCode ? Results.Ok(new { order.Id, status = "charged" }) : Results.StatusCode(502);
            }
            catch (CircuitOpenException ex)
            {
                // Critical: no silent fallback. Say so, and when to come back.
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(ex.RetryAfter?.TotalSeconds ?? 30)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.StatusCode(503);
            }
            catch (HttpResilienceException)
            {
                return Results.StatusCode(503);
            }
        }).WithDeadline(TimeSpan.FromSeconds(15));

        app.MapGet("/products", async (IHttpClientFactory factory, HttpContext context) =>
        {
            try
            {
                using var response = await factory.CreateClient("inventory").GetAsync("items", context.RequestAborted);
                if (response.GetFallbackInfo() is { } fallback)
                {
                    context.Response.Headers["X-Degraded"] = $"{fallback.Kind}; reason={fallback.Reason}"; // never degrade silently
                }

                return Results.Content(await response.Content.ReadAsStringAsync(context.RequestAborted), "application/json", statusCode: (int)response.StatusCode);
            }
            catch (HttpRequestException)
            {
                return Results.StatusCode(503);
            }
        }).WithDeadline(TimeSpan.FromSeconds(5));

        app.MapGet("/products/stock", async (IHttpClientFactory factory, HttpContext context) =>
        {
            // The same dependency, a different need: stock shown at checkout must be live, so this call skips the stale
            // fallback the catalog uses, tries once and gives up after a second. The client's circuit and bulkhead still apply.
            using var request = new HttpRequestMessage(HttpMethod.Get, "items");
            request.DisableResilienceFallback();
            request.SetResilienceMaxRetries(0);
            request.SetResilienceDeadline(TimeSpan.FromSeconds(1));
            try
            {
                using var response = await factory.CreateClient("inventory").SendAsync(request, context.RequestAborted);
                return response.IsSuccessStatusCode
                    ? Results.Content(await response.Content.ReadAsStringAsync(context.RequestAborted), "application/json")
                    : Results.StatusCode(503);
            }
            catch (HttpRequestException)
            {
                return Results.StatusCode(503);
            }
        }).WithDeadline(TimeSpan.FromSeconds(2));

        app.MapPost("/notify", async (IHttpClientFactory factory, HttpContext context) =>
        {
            using var response = await factory.CreateClient("notifications").PostAsync("messages", new StringContent("order placed"), context.RequestAborted);
            return Results.StatusCode((int)response.StatusCode);
        });

        return app;
    }
}
