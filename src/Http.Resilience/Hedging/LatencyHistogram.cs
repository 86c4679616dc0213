namespace Http.Resilience;

/// <summary>
/// The recent attempt latencies of one client, in constant memory: the adaptive hedging delay is a percentile of them.
/// Also counts the client's hedge-eligible attempts and the copies sent, over the same recent stretch.
/// </summary>
/// <remarks>
/// <para>
/// Latencies are kept in microseconds in log-linear buckets: exact below 16 µs, then 16 buckets per power of two (at most
/// 6.25 % apart) up to about 38 hours, 544 counters in all. A percentile is the upper bound of the bucket it falls in, so
/// it errs on the long side: a hedge a little late rather than a little early.
/// </para>
/// <para>
/// "Recent" is by count, not by time: when <see cref="DecayAt"/> latencies have been recorded, every counter is halved,
/// so the histogram weighs the last thousand or so and a change of the dependency's latency shows within a few hundred.
/// The percentile is worked out again every <see cref="RecomputeEvery"/> latencies (every one, until enough are known),
/// not per request: reading the delay is one volatile read. Recording takes no lock; a halving that races a recording may lose that one count.
/// </para>
/// </remarks>
internal sealed class LatencyHistogram
{
    public const int DecayAt = 1024;
    public const int RecomputeEvery = 32;

    private const int SubBuckets = 16;
    private const int SubBucketBits = 4;
    private const int MaxExponent = 36; // the last power of two starts at 2^36 µs, about 19 hours
    private const int BucketCount = SubBuckets + ((MaxExponent - SubBucketBits + 1) * SubBuckets);

    private readonly long[] _counts = new long[BucketCount];
    private readonly Lock _maintenance = new();
    private long _recorded; // latencies since the last recompute, decay or not
    private long _total;
    private long _eligible; // attempts that could have been hedged
    private long _hedges; // copies sent beyond the first
    private long _percentileMicros = -1; // -1: fewer than the needed latencies so far
    private double _percentileOf = double.NaN;
    private long _lastDelayTicks = -1;

    /// <summary>Gets the number of latencies the histogram weighs now (after halvings).</summary>
    public long Count => Volatile.Read(ref _total);

    /// <summary>Gets the copies sent beyond the first per hedge-eligible attempt, over the same recent stretch.</summary>
    public double ExtraLoad
    {
        get
        {
            var eligible = Volatile.Read(ref _eligible);
            return eligible == 0 ? 0 : Volatile.Read(ref _hedges) / (double)eligible;
        }
    }

    /// <summary>Gets or sets the hedging delay last used, or <see langword="null"/> when none was known yet (for the gauge).</summary>
    public TimeSpan? LastDelay
    {
        get => Volatile.Read(ref _lastDelayTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;
        set => Volatile.Write(ref _lastDelayTicks, value?.Ticks ?? -1);
    }

    /// <summary>Counts an attempt that could have been hedged.</summary>
    public void CountEligible() => Interlocked.Increment(ref _eligible);

    /// <summary>Counts a copy sent beyond the first.</summary>
    public void CountHedge() => Interlocked.Increment(ref _hedges);

    /// <summary>Records the latency of an attempt that got a usable response.</summary>
    public void Record(TimeSpan latency, double percentile)
    {
        var micros = Math.Max(0, latency.Ticks / TimeSpan.TicksPerMicrosecond);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Increment(ref _total);
        if (Interlocked.Increment(ref _recorded) % RecomputeEvery == 0 || Volatile.Read(ref _percentileMicros) < 0 ||
            !double.Equals(Volatile.Read(ref _percentileOf), percentile))
        {
            Maintain(percentile);
        }
    }

    /// <summary>
    /// Gets the <paramref name="percentile"/> of the recent latencies, or <see langword="null"/> while fewer than
    /// <see cref="HttpResilienceDefaults.HedgingMinSamples"/> are known.
    /// </summary>
    public TimeSpan? Percentile(double percentile)
    {
        if (!double.Equals(Volatile.Read(ref _percentileOf), percentile))
        {
            Maintain(percentile); // the option was reloaded with another percentile
        }

        var micros = Volatile.Read(ref _percentileMicros);
        return micros < 0 ? null : TimeSpan.FromTicks(micros * TimeSpan.TicksPerMicrosecond);
    }

    /// <summary>Gets the bucket of a latency in microseconds.</summary>
    internal static int IndexOf(long micros)
    {
        if (micros < SubBuckets)
        {
            return (int)micros;
        }

        var exponent = Math.Min(63 - (int)long.LeadingZeroCount(micros), MaxExponent); // 4 or more here
        if (exponent == MaxExponent && micros >= 2L << MaxExponent)
        {
            return BucketCount - 1;
        }

        var sub = (int)(micros >> (exponent - SubBucketBits)) & (SubBuckets - 1);
        return SubBuckets + ((exponent - SubBucketBits) * SubBuckets) + sub;
    }

    /// <summary>Gets the upper bound, in microseconds, of a bucket's latencies.</summary>
    internal static long UpperBoundOf(int index)
    {
        if (index < SubBuckets)
        {
            return index + 1;
        }

        var exponent = ((index - SubBuckets) / SubBuckets) + SubBucketBits;
        var sub = (index - SubBuckets) % SubBuckets;
        return (long)(SubBuckets + sub + 1) << (exponent - SubBucketBits);
    }

    private void Maintain(double percentile)
    {
        if (!_maintenance.TryEnter())
        {
            return; // another thread is at it
        }

        try
        {
            if (Volatile.Read(ref _total) >= DecayAt)
            {
                Halve();
            }

            Volatile.Write(ref _percentileMicros, Compute(percentile));
            Volatile.Write(ref _percentileOf, percentile);
        }
        finally
        {
            _maintenance.Exit();
        }
    }

    private void Halve()
    {
        long total = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count != 0)
            {
                Interlocked.Add(ref _counts[i], -(count - (count / 2)));
                total += count / 2;
            }
        }

        Volatile.Write(ref _total, total);
        var eligible = Volatile.Read(ref _eligible);
        Interlocked.Add(ref _eligible, -(eligible - (eligible / 2)));
        var hedges = Volatile.Read(ref _hedges);
        Interlocked.Add(ref _hedges, -(hedges - (hedges / 2)));
    }

    private long Compute(double percentile)
    {
        long total = 0;
        foreach (var count in _counts)
        {
            total += count;
        }

        if (total < HttpResilienceDefaults.HedgingMinSamples)
        {
            return -1;
        }

        var rank = (long)Math.Ceiling(total * percentile / 100);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return UpperBoundOf(i);
            }
        }

        return UpperBoundOf(_counts.Length - 1);
    }
}
