using Http.Resilience;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddHttpClient("payment", c => c.BaseAddress = new Uri("http://127.0.0.1:5081/"))
    .AddHttpResilience(o => o.Deadline = TimeSpan.FromSeconds(5))
    .AddFleetRateLimit(o =>
    {
        o.Key = "payment:quota"; // one bucket for every replica of this service
        o.ConnectionString = "127.0.0.1:6379,abortConnect=false";
        o.PermitsPerSecond = 100;
        o.ExpectedReplicas = 4;
    });
builder.Services.AddHttpClient("inventory", c => c.BaseAddress = new Uri("http://127.0.0.1:5082/"))
    .AddHttpResilience(builder.Configuration.GetSection("HttpResilience:inventory"));
builder.Services.AddHealthChecks().AddHttpResilienceCircuits();

var app = builder.Build();
app.UseDeadlinePropagation(o => o.DefaultDeadline = TimeSpan.FromSeconds(10));
app.MapHealthChecks("/health/dependencies");
app.MapGet("/pay", async (IHttpClientFactory factory) =>
{
    try
    {
        using var response = await factory.CreateClient("payment").PostAsJsonAsync("charges", new { Amount = 42 });
        return Results.StatusCode((int)response.StatusCode);
    }
    catch (CircuitOpenException ex)
    {
        return Results.Problem($"payment is failing fast for {ex.RetryAfter}");
    }
}).WithDeadline(TimeSpan.FromSeconds(3));

app.Run();
