namespace Http.Resilience.Tests;

public class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(0, 0.5, 100)]
    [InlineData(1, 0.5, 200)]
    [InlineData(3, 0.5, 800)]
    [InlineData(4, 0.5, 1600)]
    [InlineData(5, 0.5, 2500)] // capped at 5 s, then jittered
    [InlineData(0, 0.0, 0)]
    public void Compute_IsJitterTimesCappedExponential(int retry, double random, int expectedMs)
        => Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryBackoff.Compute(retry, Base, Max, random));

    [Theory]
    [InlineData(30)]
    [InlineData(62)]
    [InlineData(63)]
    [InlineData(1024)]
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Compute_AnyAttemptNumber_NeverNegativeNeverAboveMaxDelay(int retry)
    {
        foreach (var random in new[] { 0.0, 1e-9, 0.5, 0.999999999, 1.0, double.NaN, -1.0 })
        {
            var delay = RetryBackoff.Compute(retry, Base, Max, random);
            Assert.InRange(delay, TimeSpan.Zero, Max);
        }
    }

    [Fact]
    public void Compute_ZeroBaseDelay_IsZero()
        => Assert.Equal(TimeSpan.Zero, RetryBackoff.Compute(5, TimeSpan.Zero, Max, 0.7));

    [Fact]
    public void Compute_SeededRandom_SpreadsOverTheWholeWindow()
    {
        var random = new Random(42);
        var below = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var delay = RetryBackoff.Compute(2, Base, Max, random.NextDouble());
            Assert.InRange(delay, TimeSpan.Zero, TimeSpan.FromMilliseconds(800));
            below += delay < TimeSpan.FromMilliseconds(400) ? 1 : 0;
        }

        Assert.InRange(below, 4_500, 5_500); // full jitter: uniform, so about half below the middle
    }
}
