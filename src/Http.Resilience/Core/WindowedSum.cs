using System.Diagnostics;

namespace Http.Resilience;

/// <summary>A sum over a sliding window of time, in constant memory and without a lock.</summary>
/// <remarks>
/// The window is ten buckets of a tenth of it each, kept in two arrays: a bucket is reset when time moves on to a new
/// tenth, and the sum is that of the buckets of the last window. An add is one compare (is the bucket current?) and one
/// interlocked add. Concurrent adds at the edge of a bucket can be lost or counted a tenth of a window long: the sum is
/// for bounding load, not for accounting to the unit (Finagle's windowed adder makes the same trade).
/// </remarks>
internal sealed class WindowedSum
{
    private const int Buckets = 10;

    private readonly long[] _sums = new long[Buckets];
    private readonly long[] _epochs = new long[Buckets];
    private readonly long _bucketTicks;

    /// <param name="window">The window's length.</param>
    /// <param name="timestampFrequency">The timestamp ticks per second of the clock whose timestamps are passed in.</param>
    public WindowedSum(TimeSpan window, long timestampFrequency)
    {
        _bucketTicks = Math.Max(1, (long)(window.TotalSeconds * timestampFrequency / Buckets));
        Array.Fill(_epochs, long.MinValue);
    }

    public void Add(long timestamp, long amount)
    {
        var bucket = timestamp / _bucketTicks;
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

    public long Sum(long timestamp)
    {
        var bucket = timestamp / _bucketTicks;
        var sum = 0L;
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
}
