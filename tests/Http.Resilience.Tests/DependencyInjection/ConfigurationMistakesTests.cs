using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Polly;

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

    [Fact]
    public void MisspelledSectionName_IsAFailureNamingThePath()
    {
        var config = Config(("HttpResilience:payment:Deadline", "00:00:05"));
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:paymnet"));

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        Assert.Contains("'HttpResilience:paymnet' is missing or empty", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddHttpResilience() without a section", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HttpResilience:test:Retry:MaxRetrys", "3", "'HttpResilience:test:Retry:MaxRetrys' is not an HttpResilience option; did you mean 'MaxRetries'?")]
    [InlineData("HttpResilience:test:Dedline", "00:00:05", "'HttpResilience:test:Dedline' is not an HttpResilience option; did you mean 'Deadline'?")]
    [InlineData("HttpResilience:test:CircuitBraker:FailureRatio", "0.5", "did you mean 'CircuitBreaker'?")]
    [InlineData("HttpResilience:test:Retry:Colour", "blue", "Valid keys here: BaseDelay, Enabled, MaxDelay, MaxRequestBufferBytes, MaxRetries, MaxRetryAfter.")]
    public void UnknownKey_NamesItsPathAndTheNearestValidName(string key, string value, string expected)
    {
        using var h = new ChainHarness(section: Config((key, value)).GetSection("HttpResilience:test"));

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BareNumberForADuration_IsReportedWithWhatToWrite()
    {
        using var h = new ChainHarness(section: Config(("HttpResilience:test:Deadline", "5")).GetSection("HttpResilience:test"));

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        Assert.Contains("'HttpResilience:test:Deadline' is \"5\", which .NET reads as 5 day(s)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("\"00:00:05\" for 5 seconds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeveralFailures_AreListedOnePerLine()
    {
        using var h = new ChainHarness(o =>
        {
            o.Retry.MaxRetries = -1;
            o.Bulkhead.MaxConcurrency = 0;
        });

        var ex = Assert.Throws<OptionsValidationException>(() => h.CreateClient());

        var lines = ex.Message.Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Contains("'Retry.MaxRetries' must", lines[0], StringComparison.Ordinal);
        Assert.Contains("'Bulkhead.MaxConcurrency' must", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain(".;", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StandardResilienceHandlerOnTheSameClient_FailsWithWhyAndWhatToDo()
    {
        using var h = new ChainHarness(client: b => b.AddStandardResilienceHandler());

        var ex = Assert.Throws<InvalidOperationException>(() => h.CreateClient());

        Assert.Contains("HttpClient 'test' has two resilience layers", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AddStandardResilienceHandler", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Keep one", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public void PollyPipelineAddedAfterTheChain_FailsToo()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("payment").AddHttpResilience().AddResilienceHandler("mine", pipeline => pipeline.AddTimeout(TimeSpan.FromSeconds(1)));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("payment"));
        Assert.Contains("HttpClient 'payment' has two resilience layers", ex.Message, StringComparison.Ordinal);
    }
}
