using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Http.Resilience.Tests;

/// <summary>The mistakes a new user makes in configuration, each with a clear message or a safe behaviour.</summary>
public class ConfigurationMistakesTests
{
    private static IConfigurationRoot Config(params (string Key, string Value)[] values)
        => new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build();

    [Fact]
    public void DeadlineAlone_ShorterThanTheDefaultAttemptTimeout_IsValidAndTheAttemptTimeoutFollowsIt()
    {
        var config = Config(("HttpResilience:payment:Deadline", "00:00:01"));
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:payment"));

        h.CreateClient();

        var options = h.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(ChainHarness.ClientName);
        Assert.Equal(TimeSpan.FromSeconds(1), options.AttemptTimeout);
    }

    [Fact]
    public void AttemptTimeoutSetAboveTheDeadline_IsStillAnError()
    {
        using var h = new ChainHarness(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(1);
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
        });

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());
        Assert.Contains("'AttemptTimeout' must not be greater than Deadline", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttemptTimeoutNotSet_FollowsTheDeadlineDownButNeverUp()
    {
        var options = new HttpResilienceOptions { Deadline = TimeSpan.FromMilliseconds(500) };
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.AttemptTimeout);
        options.Deadline = TimeSpan.FromSeconds(30);
        Assert.Equal(TimeSpan.FromSeconds(2), options.AttemptTimeout);
        options.Deadline = Timeout.InfiniteTimeSpan;
        Assert.Equal(TimeSpan.FromSeconds(2), options.AttemptTimeout);
    }
}
