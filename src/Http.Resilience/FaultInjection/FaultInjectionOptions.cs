namespace Http.Resilience;

/// <summary>Options of the fault injection layer, for staging and tests: failures and latency on purpose.</summary>
/// <remarks>
/// Never active unless <see cref="Enabled"/> is set, which configuration alone can do (for example in
/// <c>appsettings.Staging.json</c>), with no code change. It sits innermost, just before the primary handler, so injected
/// faults meet every layer of the chain exactly as real ones would: latency counts against the attempt timeout and the
/// budget, failures are retried and counted by the circuit.
/// </remarks>
public sealed class FaultInjectionOptions
{
    /// <summary>Gets or sets a value indicating whether faults are injected.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the share of attempts that fail without reaching the dependency.</summary>
    /// <value>The default value is 0. Must be between 0 and 1.</value>
    public double FailureRate { get; set; }

    /// <summary>Gets or sets the status code of an injected failure; 0 throws a connection error instead.</summary>
    /// <value>The default value is 0 (an <see cref="HttpRequestException"/>, like a reset connection). Otherwise 100 to 599.</value>
    public int FailureStatusCode { get; set; }

    /// <summary>Gets or sets the latency added before an attempt is sent.</summary>
    /// <value>The default value is zero (none). Must be between zero and 1 day.</value>
    public TimeSpan Latency { get; set; }

    /// <summary>Gets or sets a value indicating whether the added latency is uniform random in [0, <see cref="Latency"/>] rather than fixed.</summary>
    /// <value>The default value is <see langword="false"/>: fixed.</value>
    public bool RandomLatency { get; set; }

    /// <summary>Gets or sets the share of attempts that get the added latency.</summary>
    /// <value>The default value is 1 (all). Must be between 0 and 1.</value>
    public double LatencyRate { get; set; } = HttpResilienceDefaults.FaultInjectionLatencyRate;

    /// <summary>Gets or sets a fixed seed for the random source, for repeatable runs.</summary>
    /// <value>The default value is <see langword="null"/>: a different sequence each run.</value>
    public int? Seed { get; set; }
}
