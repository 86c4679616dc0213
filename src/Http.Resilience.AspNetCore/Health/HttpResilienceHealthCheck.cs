using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Http.Resilience.AspNetCore;

/// <summary>
/// Reports the circuits of the Http.Resilience clients, for a <c>/health/dependencies</c> endpoint.
/// </summary>
/// <remarks>
/// Reading state never calls a dependency: a health check that pinged the payment service would turn one
/// dependency's outage into the whole instance being pulled from the load balancer. Keep this check off the liveness
/// endpoint. All circuits closed: <see cref="HealthStatus.Healthy"/>. Any open or half-open: the configured status,
/// <see cref="HealthStatus.Degraded"/> by default, never <see cref="HealthStatus.Unhealthy"/> unless asked.
/// </remarks>
internal sealed class HttpResilienceHealthCheck(IHttpResilienceMonitor monitor, HealthStatus openCircuitStatus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var broken = new List<string>();
        foreach (var circuit in monitor.GetCircuitBreakers())
        {
            var key = circuit.Authority is null ? circuit.ClientName : $"{circuit.ClientName} {circuit.Authority}";
            data[key] = circuit.State.ToString();
            if (circuit.State != CircuitState.Closed)
            {
                broken.Add(key);
            }
        }

        var result = broken.Count == 0
            ? HealthCheckResult.Healthy($"{data.Count} circuit(s) closed.", data)
            : new HealthCheckResult(openCircuitStatus, $"Circuit(s) not closed: {string.Join(", ", broken)}.", data: data);
        return Task.FromResult(result);
    }
}
