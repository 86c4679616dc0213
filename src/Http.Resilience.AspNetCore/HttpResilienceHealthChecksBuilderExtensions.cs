using Http.Resilience;
using Http.Resilience.AspNetCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the dependency health check of the Http.Resilience clients.</summary>
public static class HttpResilienceHealthChecksBuilderExtensions
{
    /// <summary>The tag the check carries, to map it to its own endpoint: <c>/health/dependencies</c>, apart from liveness.</summary>
    public const string DependenciesTag = "dependencies";

    /// <summary>Adds a health check that reports every circuit's state, without calling any dependency.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="openCircuitStatus">The status when a circuit is open or half-open; <see cref="HealthStatus.Degraded"/> by default.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// The check is tagged <see cref="DependenciesTag"/>. Map it on its own endpoint with
    /// <c>app.MapHealthChecks("/health/dependencies", new() { Predicate = c =&gt; c.Tags.Contains("dependencies") })</c>, and keep
    /// it off liveness (<c>Predicate = _ =&gt; false</c> on <c>/health</c>), because a liveness probe that fails when a dependency is down gets healthy instances restarted for someone else's outage.
    /// </remarks>
    public static IHealthChecksBuilder AddHttpResilienceCircuits(this IHealthChecksBuilder builder, string name = "http-resilience-circuits", HealthStatus openCircuitStatus = HealthStatus.Degraded)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new HttpResilienceHealthCheck(sp.GetRequiredService<ResilienceRegistry>(), openCircuitStatus),
            failureStatus: openCircuitStatus,
            tags: [DependenciesTag]));
    }
}
