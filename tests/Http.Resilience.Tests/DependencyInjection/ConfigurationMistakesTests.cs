using System.Net;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
    [InlineData("HttpResilience:test:Retry:Colour", "blue", "Valid keys here: BaseDelay, Budget, Enabled, MaxDelay, MaxRequestBufferBytes, MaxRetries, MaxRetryAfter.")]
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
    public async Task BadReload_KeepsTheLastValidOptions_ReportsIt_AndAppliesTheNextValidOne()
    {
        var logs = new CapturingLoggerProvider();
        var config = Config(("HttpResilience:test:Retry:MaxRetries", "1"), ("HttpResilience:test:Retry:BaseDelay", "00:00:00"));
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:test"), logs: logs);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        using (await client.GetAsync("/"))
        {
            Assert.Equal(2, h.Stub.CallCount); // MaxRetries 1
        }

        config["HttpResilience:test:Retry:MaxRetries"] = "-3"; // an invalid reload
        ReloadIgnoringListenerFailures(config);

        var again = h.CreateClient(); // no exception: the typed client's constructor keeps working
        using (await again.GetAsync("/"))
        {
            Assert.Equal(4, h.Stub.CallCount); // still MaxRetries 1: the last valid options
        }

        var rejected = Assert.Single(logs.Entries, e => e.EventId.Name == "ConfigurationRejected");
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains("'Retry.MaxRetries' must be between 0 and 100", rejected.Message, StringComparison.Ordinal);
        var (rejectedClient, message) = Assert.Single(h.Registry.GetRejectedConfigurations());
        Assert.Equal(ChainHarness.ClientName, rejectedClient);
        Assert.Contains("Retry.MaxRetries", message, StringComparison.Ordinal);

        config["HttpResilience:test:Retry:MaxRetries"] = "0"; // corrected
        ReloadIgnoringListenerFailures(config);
        using (await client.GetAsync("/"))
        {
            Assert.Equal(5, h.Stub.CallCount); // MaxRetries 0 applies at once
        }

        Assert.Empty(h.Registry.GetRejectedConfigurations());
        Assert.Single(logs.Entries, e => e.EventId.Name == "ConfigurationAccepted");
    }

    [Fact]
    public void InvalidAtStartUp_StillFailsHard()
    {
        var config = Config(("HttpResilience:test:Retry:MaxRetries", "-3"));
        using var h = new ChainHarness(section: config.GetSection("HttpResilience:test"));

        Assert.Throws<OptionsValidationException>(() => h.CreateClient());
    }

    /// <summary>
    /// Reloads as a file provider would. The options monitor's own change listener rebuilds the options and throws on an
    /// invalid configuration; with a file provider that throw lands on the file watcher, here on the caller.
    /// </summary>
    private static void ReloadIgnoringListenerFailures(IConfigurationRoot config)
    {
        try
        {
            config.Reload();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
        }
        catch (OptionsValidationException)
        {
        }
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
