namespace Http.Resilience.Redis;

/// <summary>Options of a token bucket shared by every replica under one Redis key (see <c>AddFleetRateLimit</c>).</summary>
/// <remarks>
/// Every request takes a token from the bucket in one Lua script that reads the Redis server's clock, so the replicas'
/// clocks never matter. A request that finds no token waits, within its budget, for the time the script names (in
/// milliseconds), and asks again. The chain's rate-limit layer holds it to the budget and to <c>RateLimit.MaxQueue</c>.
/// </remarks>
public sealed class FleetRateLimitOptions : FleetLimitOptions
{
    /// <summary>Gets or sets the tokens added to the bucket each second, for the whole fleet.</summary>
    /// <value>The default value is 100. Must be between 1 and 1,000,000.</value>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Gets or sets the size of the bucket: the largest burst the fleet may send at once.</summary>
    /// <value>The default value is 20. Must be between 1 and 1,000,000.</value>
    public int Burst { get; set; } = 20;

    /// <inheritdoc />
    internal override void Validate(string client, string section, List<string> errors)
    {
        base.Validate(client, section, errors);
        if (PermitsPerSecond is < 1 or > 1_000_000)
        {
            errors.Add($"HttpClient '{client}': {section} option '{nameof(PermitsPerSecond)}' must be between 1 and 1,000,000 (was '{PermitsPerSecond}').");
        }

        if (Burst is < 1 or > 1_000_000)
        {
            errors.Add($"HttpClient '{client}': {section} option '{nameof(Burst)}' must be between 1 and 1,000,000 (was '{Burst}').");
        }
    }
}
