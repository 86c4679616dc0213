namespace Http.Resilience.Redis;

/// <summary>What every fleet limit needs: where its state lives in Redis and what to do when Redis is down.</summary>
public abstract class FleetLimitOptions
{
    private protected FleetLimitOptions()
    {
    }

    /// <summary>Gets or sets the Redis key of the limit's state, the same on every replica that shares the limit.</summary>
    /// <value>No default: it must be set. At most 512 characters.</value>
    public string Key { get; set; } = string.Empty;

    /// <summary>Gets or sets the connection string of the Redis to use, when the application has no <c>IConnectionMultiplexer</c> registered.</summary>
    /// <value>The default value is <see langword="null"/>: the <c>IConnectionMultiplexer</c> from the container is used.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets how long a request waits for Redis before the limit counts Redis as unavailable.</summary>
    /// <value>The default value is 50 milliseconds. Must be between 1 millisecond and 10 seconds.</value>
    /// <remarks>Redis is on every request's path: its failure must cost a request tens of milliseconds, not seconds.</remarks>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets what a replica does while Redis cannot be reached.</summary>
    /// <value>The default value is <see cref="WhenStoreUnavailable.LocalShare"/>.</value>
    public WhenStoreUnavailable WhenStoreUnavailable { get; set; } = WhenStoreUnavailable.LocalShare;

    /// <summary>Gets or sets the replicas expected to share the limit: a replica's local share is the limit divided by it.</summary>
    /// <value>The default value is 1 (the whole limit). Must be between 1 and 10,000.</value>
    public int ExpectedReplicas { get; set; } = 1;

    /// <summary>Gets or sets how often a replica on its local share asks Redis again.</summary>
    /// <value>The default value is 1 second. Must be between 10 milliseconds and 1 minute.</value>
    public TimeSpan ReprobeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Adds the problems of these options to <paramref name="errors"/>, naming <paramref name="client"/>.</summary>
    internal virtual void Validate(string client, string section, List<string> errors)
    {
        void Fail(string field, string rule, object? value) => errors.Add($"HttpClient '{client}': {section} option '{field}' {rule} (was '{value ?? "null"}').");

        if (string.IsNullOrWhiteSpace(Key) || Key.Length > 512)
        {
            Fail(nameof(Key), "must be set, at most 512 characters", Key);
        }

        if (StoreTimeout < TimeSpan.FromMilliseconds(1) || StoreTimeout > TimeSpan.FromSeconds(10))
        {
            Fail(nameof(StoreTimeout), "must be between 1 millisecond and 10 seconds", StoreTimeout);
        }

        if (!Enum.IsDefined(WhenStoreUnavailable))
        {
            Fail(nameof(WhenStoreUnavailable), "must be LocalShare, FailOpen or FailClosed", WhenStoreUnavailable);
        }

        if (ExpectedReplicas is < 1 or > 10_000)
        {
            Fail(nameof(ExpectedReplicas), "must be between 1 and 10,000", ExpectedReplicas);
        }

        if (ReprobeInterval < TimeSpan.FromMilliseconds(10) || ReprobeInterval > TimeSpan.FromMinutes(1))
        {
            Fail(nameof(ReprobeInterval), "must be between 10 milliseconds and 1 minute", ReprobeInterval);
        }
    }
}
