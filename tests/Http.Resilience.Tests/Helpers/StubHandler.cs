using System.Collections.Concurrent;
using System.Net;

namespace Http.Resilience.Tests.Helpers;

/// <summary>A primary handler that plays scripted outcomes in order (the last one repeats) and records every call.</summary>
internal sealed class StubHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>> _script = new();
    private Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> _last = static (_, _) => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
    private readonly List<TaskCompletionSource> _callSignals = [];
    private readonly object _gate = new();

    public List<RecordedCall> Calls { get; } = [];

    public List<HttpResponseMessage> Responses { get; } = [];

    public int CallCount
    {
        get
        {
            lock (_gate)
            {
                return Calls.Count;
            }
        }
    }

    public StubHandler Then(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> step)
    {
        _script.Enqueue(step);
        _last = step;
        return this;
    }

    public StubHandler ThenStatus(HttpStatusCode status, Action<HttpResponseMessage>? configure = null)
        => Then((_, _) =>
        {
            var response = new HttpResponseMessage(status) { Content = new TrackingContent() };
            configure?.Invoke(response);
            return Task.FromResult(response);
        });

    /// <summary>An attempt that never answers: it ends only when its token fires.</summary>
    public StubHandler ThenHang()
        => Then(static async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        });

    public StubHandler ThenThrow(Exception exception) => Then((_, _) => Task.FromException<HttpResponseMessage>(exception));

    /// <summary>Completes when the handler has been called <paramref name="count"/> times; fails the test after 10 s of real time.</summary>
    public Task WaitForCallsAsync(int count)
    {
        lock (_gate)
        {
            while (_callSignals.Count < count)
            {
                _callSignals.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            return _callSignals[count - 1].Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var step = _script.TryDequeue(out var next) ? next : _last;
        TaskCompletionSource signal;
        lock (_gate)
        {
            Calls.Add(new RecordedCall(request.Method, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase), body));
            while (_callSignals.Count < Calls.Count)
            {
                _callSignals.Add(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }

            signal = _callSignals[Calls.Count - 1];
        }

        var task = step(request, cancellationToken);
        signal.TrySetResult();
        var response = await task;
        lock (_gate)
        {
            Responses.Add(response);
        }

        return response;
    }
}

internal sealed record RecordedCall(HttpMethod Method, IReadOnlyDictionary<string, string> Headers, byte[]? Body);

/// <summary>Content that remembers whether it was disposed, to prove discarded responses are released.</summary>
internal sealed class TrackingContent : HttpContent
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDisposed { get; private set; }

    /// <summary>Gets a task that completes when the content is disposed (on whatever thread disposes it).</summary>
    public Task Disposed => _disposed.Task;

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => Task.CompletedTask;

    protected override void SerializeToStream(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        _disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
