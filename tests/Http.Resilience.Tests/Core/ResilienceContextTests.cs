using Http.Resilience.Tests.Helpers;

namespace Http.Resilience.Tests;

public class ResilienceContextTests
{
    private static readonly ClientResilienceState Client = new("test");

    [Fact]
    public void Return_ThenRent_ReusesTheContextWithNothingOfTheLastRequest()
    {
        var clock = new TestClock();
        using var cts = new CancellationTokenSource();
        var first = ResilienceContext.Rent(Client, new HttpResilienceOptions(), clock, TimeSpan.FromSeconds(5), cts.Token);
        first.Attempts = 3;
        first.InnermostTask = Task.FromResult(new HttpResponseMessage());
        clock.Advance(TimeSpan.FromSeconds(4));
        first.Return();

        var second = ResilienceContext.Rent(Client, new HttpResilienceOptions(), clock, TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.Same(first, second); // same thread: the spare is reused
        Assert.Equal(0, second.Attempts);
        Assert.Null(second.InnermostTask);
        Assert.Null(second.Circuit);
        Assert.Equal(default, second.CircuitPermit);
        Assert.False(second.CallerToken.CanBeCanceled);
        Assert.Equal(TimeSpan.FromSeconds(2), second.Remaining); // the budget starts at Rent, not at the first request's start
        second.Return();
    }

    [Fact]
    public void Return_PublishedContext_IsNeverReused()
    {
        var clock = new TestClock();
        var published = ResilienceContext.Rent(Client, new HttpResilienceOptions(), clock, TimeSpan.FromSeconds(5), CancellationToken.None);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/");
        published.Publish(request);
        published.Return();

        var next = ResilienceContext.Rent(Client, new HttpResilienceOptions(), clock, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.NotSame(published, next);
        Assert.Same(published, ResilienceContext.Get(request));
        Assert.Equal("test", ResilienceContext.Get(request)!.ClientName); // what a handler below still reads is intact
        next.Return();
    }
}
