using System.Threading.RateLimiting;

namespace Http.Resilience.Tests.Helpers;

/// <summary>
/// A limiter plugged in with <c>UseLimiter</c>, as a distributed one would be: it may throw (its store is down), refuse
/// with metadata under any name, or leave a wait hanging and ignore its token (stuck behind a dead connection).
/// </summary>
internal sealed class ScriptedLimiter : RateLimiter
{
    private readonly List<TestLease> _leases = [];

    /// <summary>Gets or sets what <see cref="RateLimiter.AttemptAcquire"/> does: a lease, or throwing.</summary>
    public Func<RateLimitLease> OnAttempt { get; set; } = static () => new TestLease(acquired: true);

    /// <summary>Gets or sets what <see cref="RateLimiter.AcquireAsync"/> does. By default it never answers and ignores its token.</summary>
    public Func<CancellationToken, ValueTask<RateLimitLease>> OnAcquire { get; set; }

    /// <summary>Completes a wait left hanging by the default <see cref="OnAcquire"/>.</summary>
    public TaskCompletionSource<RateLimitLease> Pending { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScriptedLimiter()
    {
        OnAcquire = _ => new ValueTask<RateLimitLease>(Pending.Task);
    }

    /// <summary>Gets every acquired lease this limiter handed out through the script's helpers.</summary>
    public IReadOnlyList<TestLease> Leases
    {
        get
        {
            lock (_leases)
            {
                return [.. _leases];
            }
        }
    }

    public override TimeSpan? IdleDuration => null;

    /// <summary>A lease that counts as handed out (so a test can see it given back).</summary>
    public TestLease Grant()
    {
        var lease = new TestLease(acquired: true);
        lock (_leases)
        {
            _leases.Add(lease);
        }

        return lease;
    }

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => OnAttempt();

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) => OnAcquire(cancellationToken);
}

/// <summary>A lease with any metadata, that remembers being disposed.</summary>
internal sealed class TestLease(bool acquired, params (string Name, object? Value)[] metadata) : RateLimitLease
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool IsAcquired => acquired;

    public override IEnumerable<string> MetadataNames => metadata.Select(m => m.Name);

    /// <summary>Gets a task that completes when the lease is disposed.</summary>
    public Task Disposed => _disposed.Task;

    public bool IsDisposed => _disposed.Task.IsCompleted;

    public override bool TryGetMetadata(string metadataName, out object? metadata1)
    {
        foreach (var (name, value) in metadata)
        {
            if (name == metadataName)
            {
                metadata1 = value;
                return true;
            }
        }

        metadata1 = null;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed.TrySetResult();
        base.Dispose(disposing);
    }
}
