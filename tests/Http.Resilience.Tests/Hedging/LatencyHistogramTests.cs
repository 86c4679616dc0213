namespace Http.Resilience.Tests;

public class LatencyHistogramTests
{
    [Fact]
    public void Buckets_CoverEveryLatencyInOrder_WithinSixPercent()
    {
        var previous = -1;
        foreach (var micros in Enumerable.Range(0, 4000).Select(i => (long)Math.Pow(1.01, i)).Distinct())
        {
            var index = LatencyHistogram.IndexOf(micros);
            Assert.True(index >= previous, $"{micros} µs went to bucket {index}, before {previous}");
            previous = index;
            var upper = LatencyHistogram.UpperBoundOf(index);
            if (micros < 1L << 37)
            {
                Assert.True(upper > micros, $"{micros} µs is not below its bucket's upper bound {upper}");
                Assert.True(upper <= (micros * 1.0625) + 1, $"{micros} µs has an upper bound {upper} more than 6.25 % above it");
            }
        }

        Assert.Equal(LatencyHistogram.IndexOf(long.MaxValue), LatencyHistogram.IndexOf(1L << 40)); // the last bucket holds the rest
    }

    [Fact]
    public void Percentile_NoneUntilEnoughLatencies()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < HttpResilienceDefaults.HedgingMinSamples - 1; i++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(5), 95);
        }

        Assert.Null(histogram.Percentile(95));
        histogram.Record(TimeSpan.FromMilliseconds(5), 95);
        Assert.InRange(histogram.Percentile(95)!.Value.TotalMilliseconds, 5, 5.32);
    }

    [Theory]
    [InlineData(50, 50)]
    [InlineData(95, 95)]
    [InlineData(99, 99)]
    public void Percentile_OfOneToAThousandMilliseconds(double percentile, double expectedMs)
    {
        var histogram = new LatencyHistogram();
        foreach (var ms in Enumerable.Range(1, 1000).OrderBy(_ => Random.Shared.Next()))
        {
            histogram.Record(TimeSpan.FromMilliseconds(ms), percentile); // 1 ms .. 1 s, shuffled
        }

        var value = histogram.Percentile(percentile)!.Value.TotalMilliseconds;
        Assert.InRange(value, expectedMs * 10, expectedMs * 10 * 1.0625 + 0.001);
    }

    [Fact]
    public void OldLatenciesFade_TheHistogramFollowsAChange()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 5000; i++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(5), 95);
        }

        Assert.InRange(histogram.Count, LatencyHistogram.DecayAt / 2, LatencyHistogram.DecayAt);

        // The dependency slows to 200 ms: within a thousand latencies the 95th percentile is the new one.
        for (var i = 0; i < 1000; i++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(200), 95);
        }

        Assert.InRange(histogram.Percentile(95)!.Value.TotalMilliseconds, 200, 212.5);
    }

    [Fact]
    public void ExtraLoad_IsCopiesPerEligibleAttempt()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 200; i++)
        {
            histogram.CountEligible();
            if (i % 20 == 0)
            {
                histogram.CountHedge();
            }
        }

        Assert.Equal(0.05, histogram.ExtraLoad, 3);
    }
}
