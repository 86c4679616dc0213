using System.Collections.Concurrent;
using System.Net;
using Http.Resilience.IntegrationTests.Helpers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.IntegrationTests;

/// <summary>Hedged requests over real HTTP: Kestrel on 127.0.0.1, a real connection pool.</summary>
public class HedgingTests
{
    private const string AttemptHeader = "X-Attempt-Count";

    private static void Hedge(HttpResilienceOptions o)
    {
        o.Deadline = TimeSpan.FromSeconds(5);
        o.AttemptTimeout = TimeSpan.FromSeconds(4);
        o.Hedging.Enabled = true;
        o.Hedging.Delay = TimeSpan.FromMilliseconds(50);
        o.RetryPropagation.Enabled = true; // each copy says which it is: the server keeps the first one waiting
    }

    private static bool IsFirstCopy(HttpContext context) => context.Request.Headers[AttemptHeader] == "1";

    [Fact]
    public async Task SlowFirstCopies_TheHedgesAnswer_TheLosersAreCancelledAndTheirConnectionsFreed()
    {
        var aborted = 0;
        var allAborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Requests = 20;
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            if (!IsFirstCopy(context))
            {
                await context.Response.WriteAsync("fast");
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                await context.Response.WriteAsync("slow");
            }
            catch (OperationCanceledException)
            {
                if (Interlocked.Increment(ref aborted) == Requests)
                {
                    allAborted.TrySetResult();
                }
            }
        });

        // Two connections: a loser that kept its connection would leave the next requests waiting for one until their deadline.
        using var clients = new Clients(server.BaseAddress, Hedge, maxConnectionsPerServer: 2);
        var client = clients.Create();
        for (var i = 0; i < Requests; i++)
        {
            Assert.Equal("fast", await client.GetStringAsync("/item"));
        }

        await allAborted.Task.WaitAsync(TimeSpan.FromSeconds(15)); // every first copy was cancelled on the wire
        Assert.Equal(2 * Requests, server.Hits);
    }

    [Fact]
    public async Task LosersThatAnswerAnyway_TheirResponsesAreDisposed()
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            if (IsFirstCopy(context))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(300)); // answers after the hedge won, even though it was cancelled
                await context.Response.WriteAsync(new string('s', 10_000));
                return;
            }

            await context.Response.WriteAsync("fast");
        });

        const int Requests = 10;
        var counting = new CountingHandler(Requests * 2);
        using var clients = new Clients(server.BaseAddress, Hedge, client: b => b.ConfigurePrimaryHttpMessageHandler(() => counting));
        var client = clients.Create();
        for (var i = 0; i < Requests; i++)
        {
            using var response = await client.GetAsync("/item");
            Assert.Equal("fast", await response.Content.ReadAsStringAsync());
        }

        // Every response the primary handler produced, winners and late losers alike, was disposed: none holds a connection.
        await counting.AllDisposed.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(Requests * 2, counting.Created);
    }

    [Fact]
    public async Task PostWithAStreamBody_IsHedged_EveryCopySendsTheWholeBodyAndTheSameKey()
    {
        var bodies = new ConcurrentQueue<(string Key, byte[] Body)>();
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            bodies.Enqueue((context.Request.Headers["Idempotency-Key"].ToString(), buffer.ToArray()));
            if (IsFirstCopy(context))
            {
                await LoopbackServer.DelayAsync(context, TimeSpan.FromSeconds(30));
                return;
            }

            context.Response.StatusCode = StatusCodes.Status201Created;
        });
        using var clients = new Clients(server.BaseAddress, Hedge);
        var payload = new byte[64 * 1024];
        Random.Shared.NextBytes(payload);

        // A stream that can be read once and cannot seek, with its length known: buffered, then sent by both copies.
        var content = new StreamContent(new ReadOnceStream(payload));
        content.Headers.ContentLength = payload.Length;
        using var response = await clients.Create().PostAsync("/orders", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, bodies.Count);
        Assert.All(bodies, b => Assert.Equal(payload, b.Body));
        Assert.Single(bodies.Select(b => b.Key).Distinct());
        Assert.False(string.IsNullOrEmpty(bodies.First().Key));
    }

    [Fact]
    public async Task PostWithoutAKey_IsNeverHedged()
    {
        await using var server = await LoopbackServer.StartAsync(async (context, _) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            context.Response.StatusCode = StatusCodes.Status201Created;
        });
        using var clients = new Clients(server.BaseAddress, o =>
        {
            Hedge(o);
            o.Idempotency.Enabled = false;
        });

        using var response = await clients.Create().PostAsync("/orders", new StringContent("x"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(1, server.Hits);
    }

    /// <summary>The primary handler: ignores cancellation (as a handler that does not honour it would) and counts disposals.</summary>
    private sealed class CountingHandler(int expected) : DelegatingHandler(new SocketsHttpHandler { MaxConnectionsPerServer = 2, UseProxy = false })
    {
        private readonly TaskCompletionSource _allDisposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _created;
        private int _disposed;

        public int Created => Volatile.Read(ref _created);

        public Task AllDisposed => _allDisposed.Task;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, CancellationToken.None);
            Interlocked.Increment(ref _created);
            response.Content = new CountingContent(response.Content, () =>
            {
                if (Interlocked.Increment(ref _disposed) == expected)
                {
                    _allDisposed.TrySetResult();
                }
            });
            return response;
        }
    }

    /// <summary>Passes another content through and reports its disposal.</summary>
    private sealed class CountingContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly Action _onDispose;
        private int _disposed;

        public CountingContent(HttpContent inner, Action onDispose)
        {
            _inner = inner;
            _onDispose = onDispose;
            foreach (var header in inner.Headers.NonValidated)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream);

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _inner.Dispose();
                _onDispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A stream that can be read once, front to back, and cannot seek.</summary>
    private sealed class ReadOnceStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
