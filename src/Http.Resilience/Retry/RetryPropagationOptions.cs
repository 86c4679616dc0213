namespace Http.Resilience;

/// <summary>Options of retry propagation: telling the dependency which attempt it is answering.</summary>
/// <remarks>
/// Off by default, like deadline propagation. When on, each attempt carries its attempt number (1 for the first) in
/// <see cref="AttemptHeaderName"/>, as Envoy's <c>x-envoy-attempt-count</c> does, so a dependency (and its logs) can tell
/// a retry from a first try. The other half, "don't retry what a lower layer already retried", needs no option here: a
/// response that says <c>false</c> in one of <see cref="PushbackOptions.ShouldRetryHeaders"/> is never retried, and
/// <c>Http.Resilience.AspNetCore</c>'s deadline middleware sends that signal on 5xx answers whose own outgoing calls
/// already gave up.
/// </remarks>
public sealed class RetryPropagationOptions
{
    /// <summary>Gets or sets a value indicating whether each attempt carries its attempt number.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the request header that carries the attempt number.</summary>
    /// <value>The default value is <c>X-Attempt-Count</c>.</value>
    public string AttemptHeaderName { get; set; } = HttpResilienceDefaults.AttemptHeaderName;
}
