namespace Http.Resilience;

/// <summary>A thread-safe random source that can be seeded (the shared one cannot).</summary>
internal sealed class FaultRandom(int? seed)
{
    private readonly Random _random = seed is { } s ? new Random(s) : new Random();

    public int? Seed { get; } = seed;

    public double NextDouble()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
