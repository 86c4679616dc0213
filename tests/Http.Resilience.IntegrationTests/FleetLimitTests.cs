using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Http.Resilience.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// Limits shared by a fleet, on a real redis-server of the test's own (started, killed, frozen and restarted by PID).
/// Each replica is a service provider with its own Redis connection and its own chain, as separate processes would have.
/// </summary>
public class FleetLimitTests
{
    private const string Name = "provider";

    /// <summary>
    /// The store timeout of the tests whose Redis is up. With the default 50 ms, a loaded 2-core machine sometimes answers
    /// later; the replica then goes on its local share while the others stay on the shared limit, which may exceed the
    /// limit (the outage policy at work, covered by the outage tests). These tests are about the limit while Redis answers.
    /// </summary>
    private static readonly TimeSpan HealthyStoreTimeout = TimeSpan.FromSeconds(1);

    private sealed class Replica : IAsyncDisposable
    {
        private readonly ServiceProvider _provider;

        public Replica(Uri server, Action<HttpResilienceOptions> chain, Action<IHttpClientBuilder> fleet)
        {
            var services = new ServiceCollection();
            var builder = services.AddHttpClient(Name, c => c.BaseAddress = server)
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseProxy = false })
                .AddHttpResilience(chain);
            fleet(builder);
            _provider = services.BuildServiceProvider();
            Client = _provider.GetRequiredService<IHttpClientFactory>().CreateClient(Name);
        }

        public HttpClient Client { get; }

        public IServiceProvider Services => _provider;

        public ValueTask DisposeAsync() => _provider.DisposeAsync();
    }

    private static void Chain(HttpResilienceOptions o)
    {
        o.Deadline = TimeSpan.FromSeconds(2);
        o.Retry.Enabled = false;
        o.CircuitBreaker.Enabled = false;
    }

    /// <summary>Sends from every loop of every replica until <paramref name="duration"/> is over; returns what each replica got back.</summary>
    private static async Task<ConcurrentDictionary<string, int>[]> LoadAsync(Replica[] replicas, int loops, TimeSpan duration)
    {
        var outcomes = replicas.Select(_ => new ConcurrentDictionary<string, int>()).ToArray();
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(replicas.SelectMany((replica, r) => Enumerable.Range(0, loops).Select(async _ =>
        {
            while (watch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                string outcome;
                try
                {
                    using var response = await replica.Client.GetAsync("/pay");
                    outcome = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (HttpResilienceException ex)
                {
                    outcome = ex.GetType().Name;
                }

                Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(1), "a request outlived its deadline");
                outcomes[r].AddOrUpdate(outcome, 1, (_, n) => n + 1);
            }
        })));
        return outcomes;
    }

    [Fact]
    public async Task RateLimit_FourReplicas_TheProviderSeesAtMostTheQuotaPlusTheBurst()
    {
        await using var redis = await RedisServer.StartAsync();
        var arrivals = new ConcurrentQueue<long>();
        await using var server = await LoopbackServer.StartAsync((context, _) =>
        {
            arrivals.Enqueue(Stopwatch.GetTimestamp());
            return Task.CompletedTask;
        });
        var replicas = Enumerable.Range(0, 4).Select(_ => new Replica(server.BaseAddress, Chain, b => b.AddFleetRateLimit(o =>
        {
            o.ConnectionString = redis.ConnectionString;
            o.Key = "fleet:payment:rate";
            o.StoreTimeout = HealthyStoreTimeout;
            o.PermitsPerSecond = 100;
            o.Burst = 20;
            o.ExpectedReplicas = 4;
        }))).ToArray();

        var started = Stopwatch.GetTimestamp();
        var outcomes = await LoadAsync(replicas, loops: 8, TimeSpan.FromSeconds(3));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        // Against the clock of the provider: in any one second, at most the quota plus the burst (and a little slack
        // for requests counted at the edge of a second on a loaded machine).
        var times = arrivals.Select(t => Stopwatch.GetElapsedTime(started, t).TotalSeconds).Order().ToArray();
        var worstSecond = times.Select((t, i) => times.Skip(i).TakeWhile(u => u < t + 1).Count()).DefaultIfEmpty(0).Max();
        Assert.InRange(worstSecond, 1, 100 + 20 + 12);
        Assert.InRange(times.Length, (int)(100 * seconds * 0.6), (int)((100 * seconds) + 20 + 12)); // the quota was used, not exceeded

        // Every replica got a fair part of it.
        var served = outcomes.Select(o => o.GetValueOrDefault("200")).ToArray();
        Assert.All(served, s => Assert.True(s >= served.Average() * 0.5, $"served per replica: {string.Join(", ", served)}"));
    }

    [Fact]
    public async Task ConcurrencyLimit_FourReplicas_NeverMoreInFlightThanTheCap_FairShares()
    {
        await using var redis = await RedisServer.StartAsync();
        var inFlight = 0;
        var peak = 0;
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
            {
            }

            await Task.Delay(20);
            Interlocked.Decrement(ref inFlight);
        });
        var replicas = Enumerable.Range(0, 4).Select(_ => new Replica(server.BaseAddress, Chain, b => b.AddFleetConcurrencyLimit(o =>
        {
            o.ConnectionString = redis.ConnectionString;
            o.Key = "fleet:payment:concurrency";
            o.StoreTimeout = HealthyStoreTimeout;
            o.MaxConcurrency = 8;
            o.ExpectedReplicas = 4;
        }))).ToArray();

        var outcomes = await LoadAsync(replicas, loops: 6, TimeSpan.FromSeconds(3));
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        Assert.InRange(peak, 1, 8);
        var served = outcomes.Select(o => o.GetValueOrDefault("200")).ToArray();
        Assert.All(served, s => Assert.True(s >= served.Average() * 0.5, $"served per replica: {string.Join(", ", served)}"));
        Assert.True(served.Sum() > 300, $"served in all: {served.Sum()}"); // 8 at a time, about 20 ms each, for 3 s
    }

    [Fact]
    public async Task ConcurrencyLimit_AReplicaDiesHoldingEveryPermit_TheOthersGetPermitsWithinTheLeaseTtl()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await LoopbackServer.StartAsync((_, _) => Task.CompletedTask);
        void Fleet(IHttpClientBuilder b) => b.AddFleetConcurrencyLimit(o =>
        {
            o.ConnectionString = redis.ConnectionString;
            o.Key = "fleet:crash";
            o.StoreTimeout = HealthyStoreTimeout;
            o.MaxConcurrency = 4;
            o.LeaseTtl = TimeSpan.FromSeconds(1);
        });

        // The replica that dies takes every permit of the fleet, then stops: no release, no renewal (as kill -9 would).
        var dying = new Replica(server.BaseAddress, Chain, Fleet);
        var shared = FleetLimitHttpClientBuilderExtensions.ConcurrencyLimiterOf(dying.Services, Name);
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await shared.AcquireAsync(1)).IsAcquired);
        }

        var acquired = Stopwatch.StartNew();
        Assert.Equal(4, shared.Held); // the fleet's every permit, in Redis
        shared.StopRenewingAsIfCrashed();

        await using var survivor = new Replica(server.BaseAddress, o =>
        {
            Chain(o);
            o.Deadline = TimeSpan.FromSeconds(5);
        }, Fleet);
        using var response = await survivor.Client.GetAsync("/pay");

        // Served once the dead replica's leases expired: not before their 1 s time to live, and not a minute later.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(acquired.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(4));
    }

    private static Replica RateLimited(RedisServer redis, Uri server, WhenStoreUnavailable policy, string key)
        => new(server, o =>
        {
            Chain(o);
            o.Deadline = TimeSpan.FromSeconds(1);
        }, b => b.AddFleetRateLimit(o =>
        {
            o.ConnectionString = redis.ConnectionString;
            o.Key = key;
            o.PermitsPerSecond = 100;
            o.Burst = 20;
            o.ExpectedReplicas = 4; // a local share of 25 a second, burst 5
            o.WhenStoreUnavailable = policy;
        }));

    [Fact]
    public async Task RedisKilled_EachReplicaKeepsToItsLocalShare_AndReturnsToTheSharedLimitWhenRedisIsBack()
    {
        await using var redis = await RedisServer.StartAsync();
        var hits = 0;
        await using var server = await LoopbackServer.StartAsync((_, _) =>
        {
            Interlocked.Increment(ref hits);
            return Task.CompletedTask;
        });
        await using var replica = RateLimited(redis, server.BaseAddress, WhenStoreUnavailable.LocalShare, "fleet:outage:local");
        var limiter = FleetLimitHttpClientBuilderExtensions.RateLimiterOf(replica.Services, Name);
        using (var warm = await replica.Client.GetAsync("/pay"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        redis.Kill();
        Volatile.Write(ref hits, 0);
        var outcomes = await LoadAsync([replica], loops: 4, TimeSpan.FromSeconds(2));

        Assert.True(limiter.IsStoreUnavailable);
        Assert.InRange(Volatile.Read(ref hits), 25, (25 * 2) + 5 + 10); // its share of 100/s over four replicas, for 2 s
        Assert.Equal(Volatile.Read(ref hits), outcomes[0].GetValueOrDefault("200"));

        await redis.RestartAsync();
        var back = Stopwatch.StartNew();
        while (limiter.IsStoreUnavailable && back.Elapsed < TimeSpan.FromSeconds(10))
        {
            using var response = await replica.Client.GetAsync("/pay"); // one request a re-probe interval asks Redis again
        }

        Assert.False(limiter.IsStoreUnavailable);
    }

    [Fact]
    public async Task RedisFrozen_EveryRequestEndsWithinItsDeadline_NeverAsTheCallersCancellation()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await LoopbackServer.StartAsync((_, _) => Task.CompletedTask);
        await using var replica = RateLimited(redis, server.BaseAddress, WhenStoreUnavailable.LocalShare, "fleet:outage:frozen");
        using (var warm = await replica.Client.GetAsync("/pay"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        redis.Freeze();
        try
        {
            // LoadAsync fails the test for a request that outlives its deadline; a TaskCanceledException would escape it.
            var outcomes = await LoadAsync([replica], loops: 4, TimeSpan.FromSeconds(2));
            Assert.True(outcomes[0].GetValueOrDefault("200") > 0);
            // Served, or refused within the deadline: the chain's own outcomes, never a cancellation.
            Assert.True(outcomes[0].Keys.All(k => k is "200" or nameof(RateLimitRejectedException) or nameof(DeadlineExceededException)), string.Join(", ", outcomes[0].Keys));
        }
        finally
        {
            redis.Thaw();
        }
    }

    [Theory]
    [InlineData(WhenStoreUnavailable.FailClosed)]
    [InlineData(WhenStoreUnavailable.FailOpen)]
    public async Task RedisKilled_FailClosedRejects_FailOpenLetsThrough_AtOnce(WhenStoreUnavailable policy)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var server = await LoopbackServer.StartAsync((_, _) => Task.CompletedTask);
        await using var replica = RateLimited(redis, server.BaseAddress, policy, $"fleet:outage:{policy}");
        using (var warm = await replica.Client.GetAsync("/pay"))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode); // connected: Redis now dies under a running replica
        }

        redis.Kill();

        var outcomes = await LoadAsync([replica], loops: 2, TimeSpan.FromMilliseconds(500));

        if (policy == WhenStoreUnavailable.FailClosed)
        {
            Assert.Equal([nameof(RateLimitRejectedException)], outcomes[0].Keys);
            var ex = await Assert.ThrowsAsync<RateLimitRejectedException>(() => replica.Client.GetAsync("/pay"));
            Assert.Contains("fails closed", ex.InnerException?.Message ?? ex.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(["200"], outcomes[0].Keys);
            Assert.True(outcomes[0]["200"] > 40, $"served {outcomes[0]["200"]}"); // unlimited: more than a local share could (5 + 12 in half a second)
        }
    }

    [Fact]
    public void InvalidOptions_FailAtStartUp_NamingTheClientAndTheField()
    {
        var services = new ServiceCollection();
        var builder = services.AddHttpClient(Name).AddHttpResilience();

        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => builder.AddFleetRateLimit(o => o.PermitsPerSecond = 0));

        Assert.Contains("HttpClient 'provider'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Key' must be set", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'PermitsPerSecond' must be between 1 and 1,000,000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoRedisConnection_FailsOnTheFirstCreateClient_SayingWhatToDo()
    {
        var services = new ServiceCollection();
        services.AddHttpClient(Name).AddHttpResilience().AddFleetConcurrencyLimit(o => o.Key = "fleet:x");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient(Name));

        Assert.Contains("register an IConnectionMultiplexer in the container, or set the limit's ConnectionString", ex.Message, StringComparison.Ordinal);
    }
}
