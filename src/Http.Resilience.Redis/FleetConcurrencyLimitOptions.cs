namespace Http.Resilience.Redis;

/// <summary>Options of a concurrency limit shared by every replica under one Redis key (see <c>AddFleetConcurrencyLimit</c>).</summary>
/// <remarks>
/// A request in flight holds a lease in a sorted set, scored by when it expires on the Redis server's clock. A live
/// replica renews its leases every third of <see cref="LeaseTtl"/> and removes each when its request ends; a replica that
/// crashes stops renewing, and its leases expire within <see cref="LeaseTtl"/>, freeing their permits for the others.
/// A request that finds no permit asks again after a short, jittered pause until one frees or its wait ends, so equal
/// replicas get comparable shares. The local bulkhead stays behind it as a backstop.
/// </remarks>
public sealed class FleetConcurrencyLimitOptions : FleetLimitOptions
{
    /// <summary>Gets or sets the most requests in flight across the fleet.</summary>
    /// <value>The default value is 40. Must be between 1 and 1,000,000.</value>
    public int MaxConcurrency { get; set; } = 40;

    /// <summary>Gets or sets how long a lease lives without renewal: how soon a crashed replica's permits are free again.</summary>
    /// <value>The default value is 10 seconds. Must be between 300 milliseconds and 10 minutes.</value>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    internal override void Validate(string client, string section, List<string> errors)
    {
        base.Validate(client, section, errors);
        if (MaxConcurrency is < 1 or > 1_000_000)
        {
            errors.Add($"HttpClient '{client}': {section} option '{nameof(MaxConcurrency)}' must be between 1 and 1,000,000 (was '{MaxConcurrency}').");
        }

        if (LeaseTtl < TimeSpan.FromMilliseconds(300) || LeaseTtl > TimeSpan.FromMinutes(10))
        {
            errors.Add($"HttpClient '{client}': {section} option '{nameof(LeaseTtl)}' must be between 300 milliseconds and 10 minutes (was '{LeaseTtl}').");
        }
    }
}
