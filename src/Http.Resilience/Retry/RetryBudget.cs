using System.Diagnostics;

namespace Http.Resilience;

/// <summary>The retry budget of one client (or one authority): deposits per request, withdrawals per retry, over a window.</summary>
/// <remarks>
/// <para>
/// Amounts are fixed-point: a retry is <see cref="Scale"/> units, a request deposits <c>Ratio * Scale</c>. The window is
/// ten buckets of a tenth of it each, kept in two arrays (constant memory): a bucket is reset when time moves on to a new
/// tenth, and the balance is the sum of the buckets of the last window plus the reserve
/// (<c>MinRetriesPerSecond * window seconds * Scale</c>).
/// </para>
/// <para>
/// No lock: a deposit is one compare (is the bucket current?) and one interlocked add, and needs no clock read of its own
/// (it uses the time the request entered the chain). Concurrent updates can make the balance a retry or two off at the
/// edge of a bucket, the same approximation as Finagle's windowed budget: the budget bounds load, it does not ration it
/// to the unit.
/// </para>
/// </remarks>
internal sealed class RetryBudget
{
    private const long Scale = 1000;
    private const int Buckets = 10;

    private readonly long[] _sums = new long[Buckets];
    private readonly long[] _epochs = new long[Buckets];
    private readonly long _bucketTicks;
    private readonly long _deposit;
    private readonly long _reserve;
    private readonly RetryBudgetOptions _shape;

    public RetryBudget(RetryBudgetOptions options, long timestampFrequency)
    {
        _shape = new RetryBudgetOptions { Ratio = options.Ratio, MinRetriesPerSecond = options.MinRetriesPerSecond, Window = options.Window };
        _bucketTicks = Math.Max(1, (long)(options.Window.TotalSeconds * timestampFrequency / Buckets));
        _deposit = (long)Math.Round(options.Ratio * Scale);
        _reserve = (long)(options.MinRetriesPerSecond * options.Window.TotalSeconds * Scale);
        Array.Fill(_epochs, long.MinValue);
    }

    /// <summary>Gets the budget of <paramref name="slot"/>, made anew when the options changed (a reload).</summary>
    public static RetryBudget GetOrCreate(ref RetryBudget? slot, RetryBudgetOptions options, TimeProvider timeProvider)
    {
        var budget = Volatile.Read(ref slot);
        if (budget is not null && budget.Matches(options))
        {
            return budget;
        }

        var fresh = new RetryBudget(options, timeProvider.TimestampFrequency);
        Interlocked.CompareExchange(ref slot, fresh, budget);
        return Volatile.Read(ref slot)!;
    }

    public bool Matches(RetryBudgetOptions options)
        => options.Ratio == _shape.Ratio && options.MinRetriesPerSecond == _shape.MinRetriesPerSecond && options.Window == _shape.Window;

    /// <summary>Deposits one request's share of a retry, at <paramref name="timestamp"/>.</summary>
    public void Deposit(long timestamp)
    {
        if (_deposit != 0)
        {
            Add(timestamp / _bucketTicks, _deposit);
        }
    }

    /// <summary>Withdraws one retry if the balance allows it.</summary>
    public bool TryWithdraw(long timestamp)
    {
        var bucket = timestamp / _bucketTicks;
        if (Balance(bucket) < Scale)
        {
            return false;
        }

        Add(bucket, -Scale);
        return true;
    }

    /// <summary>Gets the retries the budget allows now (for tests and diagnostics).</summary>
    public double Available(long timestamp) => Balance(timestamp / _bucketTicks) / (double)Scale;

    private long Balance(long bucket)
    {
        var sum = _reserve;
        for (var i = 0; i < Buckets; i++)
        {
            var epoch = Volatile.Read(ref _epochs[i]);
            if (epoch <= bucket && bucket - epoch < Buckets)
            {
                sum += Volatile.Read(ref _sums[i]);
            }
        }

        return sum;
    }

    private void Add(long bucket, long amount)
    {
        var slot = (int)(bucket % Buckets);
        var epoch = Volatile.Read(ref _epochs[slot]);
        if (epoch != bucket)
        {
            if (epoch > bucket)
            {
                return; // a stale timestamp, older than the bucket already there: too old to count
            }

            if (Interlocked.CompareExchange(ref _epochs[slot], bucket, epoch) == epoch)
            {
                Interlocked.Exchange(ref _sums[slot], 0); // this tenth of the window starts empty
            }
        }

        Interlocked.Add(ref _sums[slot], amount);
        Debug.Assert(Volatile.Read(ref _epochs[slot]) >= bucket, "Buckets only move forward.");
    }
}
