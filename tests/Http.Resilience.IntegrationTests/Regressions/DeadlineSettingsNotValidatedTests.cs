using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.IntegrationTests.Regressions;

/// <summary>
/// A zero, negative or absurd server-side deadline (<c>DefaultDeadline</c>, <c>WithDeadline</c>) was accepted silently and
/// answered every request with 504. It fails at start-up instead.
/// </summary>
public sealed class DeadlineSettingsNotValidatedTests
{
    [Fact]
    public void Configuration_InvalidDeadlines_FailAtStartUp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        using var app = builder.Build();

        Assert.Throws<ArgumentOutOfRangeException>(() => app.UseDeadlinePropagation(o => o.DefaultDeadline = TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => app.UseDeadlinePropagation(o => o.DefaultDeadline = TimeSpan.FromDays(60)));
        Assert.Throws<ArgumentOutOfRangeException>(() => app.MapGet("/x", () => "x").WithDeadline(TimeSpan.FromSeconds(-1)));
    }
}
