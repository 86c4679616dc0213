using System.Diagnostics;

namespace Http.Resilience;

/// <summary>Counts of requests and failures over a sliding time window, in constant memory.</summary>
/// <remarks>
/// The window is cut into <see cref="BucketCount"/> buckets of <c>SamplingDuration / BucketCount</c> each, kept in a ring.
/// A bucket is identified by its absolute index (<c>time / bucketLength</c>); a slot whose index is stale is reset before
/// reuse, so old counts fall out without a sweep. The totals sum the current bucket and the
/// <c>BucketCount - 1</c> before it: the window slides in steps of one bucket and covers between 90 % and 100 % of
/// <c>SamplingDuration</c>. Not thread-safe: its owner, <see cref="CircuitStateController"/>, calls it under its lock.
/// </remarks>
internal sealed class RollingHealthWindow
{
    public const int BucketCount = 10;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly long _bucketTicks;

    public RollingHealthWindow(TimeSpan samplingDuration)
    {
        Debug.Assert(samplingDuration > TimeSpan.Zero, "Sampling duration is validated.");
        SamplingDuration = samplingDuration;
        _bucketTicks = Math.Max(1, samplingDuration.Ticks / BucketCount);
        Reset();
    }

    public TimeSpan SamplingDuration { get; }

    /// <param name="now">Monotonic time since the owner's origin.</param>
    /// <param name="failure">Whether the outcome counts as a failure.</param>
    public void Record(TimeSpan now, bool failure)
    {
        var index = now.Ticks / _bucketTicks;
        ref var bucket = ref _buckets[index % BucketCount];
        if (bucket.Index != index)
        {
            bucket = new Bucket { Index = index };
        }

        bucket.Requests++;
        if (failure)
        {
            bucket.Failures++;
        }
    }

    public HealthInfo GetHealth(TimeSpan now)
    {
        var index = now.Ticks / _bucketTicks;
        int requests = 0, failures = 0;
        foreach (var bucket in _buckets)
        {
            if (bucket.Index <= index && bucket.Index > index - BucketCount)
            {
                requests += bucket.Requests;
                failures += bucket.Failures;
            }
        }

        return new HealthInfo(requests, failures);
    }

    public void Reset()
    {
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Bucket { Index = long.MinValue };
        }
    }

    private struct Bucket
    {
        public long Index;
        public int Requests;
        public int Failures;
    }
}
