using System.Net;
using System.Reflection;
using Http.Resilience.Tests.Helpers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Http.Resilience.Tests;

public class RequestOverridesTests
{
    private static ChainHarness Create(Action<HttpResilienceOptions>? configure = null)
        => new(o =>
        {
            o.Retry.BaseDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        });

    private static HttpRequestMessage Get(Action<HttpRequestMessage> set)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        set(request);
        return request;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)] // -1 ms is Timeout.InfiniteTimeSpan
    [InlineData(2 * 24 * 3600 * 1000)]
    public void SetResilienceDeadline_OutOfRange_ThrowsNamingTheArgument(int milliseconds)
    {
        using var request = new HttpRequestMessage();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => request.SetResilienceDeadline(TimeSpan.FromMilliseconds(milliseconds)));

        Assert.Equal("deadline", ex.ParamName);
        Assert.Contains("must be positive and at most 1 day", ex.Message, StringComparison.Ordinal);
        Assert.Null(RequestOverrides.Find(request)?.Deadline);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void SetResilienceAttemptTimeout_OutOfRange_ThrowsNamingTheArgument(int milliseconds)
    {
        using var request = new HttpRequestMessage();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => request.SetResilienceAttemptTimeout(TimeSpan.FromMilliseconds(milliseconds)));

        Assert.Equal("timeout", ex.ParamName);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void SetResilienceMaxRetries_OutOfRange_ThrowsNamingTheArgument(int maxRetries)
    {
        using var request = new HttpRequestMessage();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => request.SetResilienceMaxRetries(maxRetries));

        Assert.Equal("maxRetries", ex.ParamName);
        Assert.Contains("between 0 and 100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttemptTimeoutLongerThanTheRequestsDeadline_IsRejectedWhicheverIsSetSecond()
    {
        using var first = new HttpRequestMessage();
        first.SetResilienceDeadline(TimeSpan.FromSeconds(1));
        var timeout = Assert.Throws<ArgumentOutOfRangeException>(() => first.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(2)));
        Assert.Contains("must not be longer than the deadline it set ('00:00:01')", timeout.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => first.SetResilienceAttemptTimeout(Timeout.InfiniteTimeSpan));

        using var second = new HttpRequestMessage();
        second.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(2));
        var deadline = Assert.Throws<ArgumentOutOfRangeException>(() => second.SetResilienceDeadline(TimeSpan.FromSeconds(1)));
        Assert.Contains("must not be shorter than the attempt timeout it set ('00:00:02')", deadline.Message, StringComparison.Ordinal);

        second.SetResilienceDeadline(Timeout.InfiniteTimeSpan); // an infinite deadline is longer than any timeout
        Assert.Equal(Timeout.InfiniteTimeSpan, RequestOverrides.Find(second)!.Deadline);
    }

    [Fact]
    public void EveryMethod_NullRequest_ThrowsArgumentNull()
    {
        HttpRequestMessage request = null!;
        Assert.Throws<ArgumentNullException>(() => request.SetResilienceDeadline(TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentNullException>(() => request.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentNullException>(() => request.SetResilienceMaxRetries(0));
        Assert.Throws<ArgumentNullException>(request.SetResilienceIdempotent);
        Assert.Throws<ArgumentNullException>(request.DisableResilienceFallback);
        Assert.Throws<ArgumentNullException>(request.DisableResilienceHedging);
        Assert.Throws<ArgumentNullException>(request.DisableResilienceResponseBuffering);
    }

    [Fact]
    public void Find_OnARequestWithoutOptions_DoesNotCreateThem()
    {
        using var request = new HttpRequestMessage();
        var field = typeof(HttpRequestMessage).GetField("_options", BindingFlags.Instance | BindingFlags.NonPublic)!;

        Assert.Null(RequestOverrides.Find(request));
        Assert.Null(field.GetValue(request)); // reading HttpRequestMessage.Options would have made its dictionary

        request.SetResilienceMaxRetries(1);
        Assert.Equal(1, RequestOverrides.Find(request)!.MaxRetries);
    }

    [Fact]
    public async Task MaxRetries_LowersTheClientsCount_NeverRaisesIt()
    {
        using var h = Create(o => o.Retry.MaxRetries = 2);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();

        using (var lower = Get(r => r.SetResilienceMaxRetries(1)))
        using (await client.SendAsync(lower))
        {
        }

        Assert.Equal(2, h.Stub.CallCount);

        using (var higher = Get(r => r.SetResilienceMaxRetries(9)))
        using (await client.SendAsync(higher))
        {
        }

        Assert.Equal(2 + 3, h.Stub.CallCount); // the client's two retries
    }

    [Fact]
    public async Task MaxRetries_CannotTurnOnRetriesTheClientTurnedOff()
    {
        using var h = Create(o => o.Retry.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        using var request = Get(r => r.SetResilienceMaxRetries(3));

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal(1, h.Stub.CallCount);
    }

    [Fact]
    public async Task Idempotent_PostWithoutKey_IsRetried_AndTheNextPostIsNot()
    {
        using var h = Create(o => o.Idempotency.Enabled = false);
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        using var vouched = new HttpRequestMessage(HttpMethod.Post, "/search") { Content = new StringContent("q") };
        vouched.SetResilienceIdempotent();

        using (await client.SendAsync(vouched))
        {
        }

        Assert.Equal(3, h.Stub.CallCount);
        Assert.All(h.Stub.Calls, c => Assert.False(c.Headers.ContainsKey("Idempotency-Key")));

        using (await client.PostAsync("/search", new StringContent("q")))
        {
        }

        Assert.Equal(4, h.Stub.CallCount); // a POST without the mark, and without a key, is sent once
    }

    [Fact]
    public async Task Deadline_Shorter_BoundsTheRequest_AndTheErrorSaysWhose()
    {
        using var h = Create(o => o.Deadline = TimeSpan.FromSeconds(10));
        h.Stub.ThenHang();
        using var request = Get(r => r.SetResilienceDeadline(TimeSpan.FromMilliseconds(300)));

        var send = h.CreateClient().SendAsync(request);

        Assert.Equal(TimeSpan.FromMilliseconds(300), await h.Clock.NextTimerAsync()); // the attempt, clipped to the request's budget
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromMilliseconds(300));
        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(TimeSpan.FromMilliseconds(300), ex.Deadline);
        Assert.Contains("The deadline is the request's own (SetResilienceDeadline).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_LongerThanMaxRequestDeadline_FailsBeforeSending_NamingTheClientAndTheOption()
    {
        using var h = Create(o => o.Deadline = TimeSpan.FromSeconds(10));
        var client = h.CreateClient();
        using var request = Get(r => r.SetResilienceDeadline(TimeSpan.FromSeconds(60)));
        using var forever = Get(r => r.SetResilienceDeadline(Timeout.InfiniteTimeSpan));

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(request));
        await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(forever));

        Assert.Equal("request", ex.ParamName);
        Assert.Contains("HttpClient 'test'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("longer than its MaxRequestDeadline ('00:00:10')", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task Deadline_LongerUpToMaxRequestDeadline_Applies_AndHttpClientTimeoutFollowsTheMaximum()
    {
        using var h = Create(o =>
        {
            o.Deadline = TimeSpan.FromSeconds(10);
            o.MaxRequestDeadline = TimeSpan.FromSeconds(60);
        });
        h.Stub.ThenHang();
        var client = h.CreateClient();
        Assert.Equal(TimeSpan.FromSeconds(61), client.Timeout);
        using var request = Get(r =>
        {
            r.SetResilienceDeadline(TimeSpan.FromSeconds(60));
            r.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(45));
        });

        var send = client.SendAsync(request);

        Assert.Equal(TimeSpan.FromSeconds(45), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(TimeSpan.FromSeconds(15), await h.Clock.NextTimerAsync()); // the retry, clipped to the 60 s budget
        await h.Stub.WaitForCallsAsync(2);
        h.Clock.Advance(TimeSpan.FromSeconds(15));
        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Equal(TimeSpan.FromSeconds(60), ex.Deadline);
    }

    [Fact]
    public async Task AttemptTimeout_IsWhatThePropagatedDeadlineSays()
    {
        using var h = Create(o => o.DeadlinePropagation.Enabled = true);
        using var request = Get(r => r.SetResilienceAttemptTimeout(TimeSpan.FromMilliseconds(700)));

        using var response = await h.CreateClient().SendAsync(request);

        Assert.Equal("600", h.Stub.Calls[0].Headers["X-Request-Deadline-Ms"]); // the request's 700 ms less the 100 ms margin
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100.5)] // the header carries whole milliseconds: this one would say 0
    public async Task AttemptTimeout_NotAWholeMillisecondLongerThanThePropagationMargin_FailsBeforeSending(double milliseconds)
    {
        using var h = Create(o => o.DeadlinePropagation.Enabled = true);
        using var request = Get(r => r.SetResilienceAttemptTimeout(TimeSpan.FromMilliseconds(milliseconds)));

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => h.CreateClient().SendAsync(request));

        Assert.Contains("not at least 1 ms longer than its DeadlinePropagation.SafetyMargin ('00:00:00.1000000')", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Stub.CallCount);
    }

    [Fact]
    public async Task Idempotent_PostWithoutKey_IsHedged()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        using var h = Create(o =>
        {
            o.Idempotency.Enabled = false;
            o.Hedging.Enabled = true;
            o.Hedging.Delay = delay;
        });
        h.Stub.ThenHang().ThenStatus(HttpStatusCode.OK);
        using var search = new HttpRequestMessage(HttpMethod.Post, "/search") { Content = new StringContent("q") };
        search.SetResilienceIdempotent();

        var pending = h.CreateClient().SendAsync(search);
        while (await h.Clock.NextTimerAsync() != delay)
        {
        }

        h.Clock.Advance(delay);
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, h.Stub.CallCount);
        Assert.All(h.Stub.Calls, c => Assert.Equal("q"u8.ToArray(), c.Body));
    }

    [Fact]
    public async Task HttpClientTimeoutShorterThanTheRequestsDeadline_TheErrorSaysWhatToChange()
    {
        using var h = new ChainHarness(
            o =>
            {
                o.Deadline = TimeSpan.FromSeconds(20);
                o.MaxRequestDeadline = TimeSpan.FromMinutes(5);
            },
            client: b => b.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromSeconds(30))); // real time: long enough for the test
        h.Stub.ThenHang();
        using var request = Get(r =>
        {
            r.SetResilienceDeadline(TimeSpan.FromMinutes(2));
            r.SetResilienceAttemptTimeout(TimeSpan.FromMinutes(2));
        });

        var send = h.CreateClient().SendAsync(request);
        Assert.Equal(TimeSpan.FromSeconds(30), await h.Clock.NextTimerAsync());
        await h.Stub.WaitForCallsAsync(1);
        h.Clock.Advance(TimeSpan.FromSeconds(30));

        var ex = await Assert.ThrowsAsync<DeadlineExceededException>(() => send);
        Assert.Contains(
            "the client's HttpClient.Timeout ('00:00:30'), which is shorter than the request's own deadline ('00:02:00'): leave HttpClient.Timeout at its default (MaxRequestDeadline already allows the request's deadline).",
            ex.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overrides_DoNotGetPastAnOpenCircuit()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.CircuitBreaker.MinimumThroughput = 5;
        });
        h.Stub.ThenStatus(HttpStatusCode.BadGateway);
        var client = h.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            using var _ = await client.GetAsync("/");
        }

        h.Clock.Advance(TimeSpan.FromSeconds(1));
        using var request = Get(r =>
        {
            r.SetResilienceDeadline(TimeSpan.FromSeconds(1));
            r.SetResilienceAttemptTimeout(TimeSpan.FromSeconds(1));
            r.SetResilienceMaxRetries(0);
            r.SetResilienceIdempotent();
            r.DisableResilienceFallback();
            r.DisableResilienceHedging();
            r.DisableResilienceResponseBuffering();
        });

        await Assert.ThrowsAsync<CircuitOpenException>(() => client.SendAsync(request));
        Assert.Equal(5, h.Stub.CallCount);
    }

    [Fact]
    public async Task FallbackOff_TheCallerSeesTheRealResponse()
    {
        using var h = Create(o =>
        {
            o.Retry.Enabled = false;
            o.Fallback.Enabled = true;
            o.Fallback.UseResponse((_, _) => new HttpResponseMessage(HttpStatusCode.OK));
        });
        h.Stub.ThenStatus(HttpStatusCode.ServiceUnavailable);
        var client = h.CreateClient();
        using var request = Get(r => r.DisableResilienceFallback());

        using var real = await client.SendAsync(request);
        using var served = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, real.StatusCode);
        Assert.Null(real.GetFallbackInfo());
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.NotNull(served.GetFallbackInfo());
    }

    [Fact]
    public void Validation_MaxRequestDeadline_BelowDeadline_OrFiniteUnderAnInfiniteDeadline_Fails()
    {
        var validator = new HttpResilienceOptionsValidator();

        var below = validator.Validate("payments", new HttpResilienceOptions { Deadline = TimeSpan.FromSeconds(10), MaxRequestDeadline = TimeSpan.FromSeconds(5) });
        var underInfinite = validator.Validate("payments", new HttpResilienceOptions { Deadline = Timeout.InfiniteTimeSpan, AttemptTimeout = Timeout.InfiniteTimeSpan, MaxRequestDeadline = TimeSpan.FromSeconds(5) });
        var unset = validator.Validate("payments", new HttpResilienceOptions { Deadline = TimeSpan.FromSeconds(3) });

        Assert.Contains("HttpClient 'payments': HttpResilience option 'MaxRequestDeadline' must not be less than Deadline ('00:00:10') (was '00:00:05').", below.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("'MaxRequestDeadline' must be Timeout.InfiniteTimeSpan when Deadline is", underInfinite.FailureMessage, StringComparison.Ordinal);
        Assert.True(unset.Succeeded, unset.FailureMessage);
    }

    [Fact]
    public void MaxRequestDeadline_BindsFromConfiguration()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Deadline"] = "00:00:05",
            ["MaxRequestDeadline"] = "00:01:00",
        }).Build();
        using var h = new ChainHarness(section: section);

        var options = h.Services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(ChainHarness.ClientName);

        Assert.Equal(TimeSpan.FromMinutes(1), options.MaxRequestDeadline);
        Assert.Equal(TimeSpan.FromSeconds(61), h.CreateClient().Timeout);
    }
}
