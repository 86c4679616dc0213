using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Http.Resilience.AspNetCore;

/// <summary>
/// Reports the circuits of the Http.Resilience clients, for a <c>/health/dependencies</c> endpoint.
/// </summary>
/// <remarks>
/// Reading state never calls a dependency: a health check that pinged the payment service would turn one
/// dependency's outage into the whole instance being pulled from the load balancer. Keep this check off the liveness
/// endpoint. All circuits closed: <see cref="HealthStatus.Healthy"/>. Any open or half-open: the configured status,
/// <see cref="HealthStatus.Degraded"/> by default, never <see cref="HealthStatus.Unhealthy"/> unless asked. A client whose
/// reloaded configuration was rejected (it runs on its last valid options) is <see cref="HealthStatus.Degraded"/> too, with
/// the validation message in the data, so a bad deployment of settings is seen before it matters.
/// </remarks>
internal sealed class HttpResilienceHealthCheck(ResilienceRegistry monitor, HealthStatus openCircuitStatus) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var broken = new List<string>();
        foreach (var circuit in monitor.GetCircuitBreakers())
        {
            var key = circuit.Authority is null ? circuit.ClientName : $"{circuit.ClientName} {circuit.Authority}";
            var state = circuit.State;
            data[key] = Describe(circuit, state);
            if (state != CircuitState.Closed)
            {
                broken.Add(key);
            }
        }

        var rejected = new List<string>();
        foreach (var (client, message) in monitor.GetRejectedConfigurations())
        {
            data[$"{client} configuration"] = $"rejected, running on the last valid options: {message}";
            rejected.Add(client);
        }

        if (broken.Count > 0)
        {
            var also = rejected.Count == 0 ? string.Empty : $" Configuration rejected: {string.Join(", ", rejected)}.";
            return Task.FromResult(new HealthCheckResult(openCircuitStatus, $"Circuit(s) not closed: {string.Join(", ", broken)}.{also}", data: data));
        }

        var result = rejected.Count == 0
            ? HealthCheckResult.Healthy($"{data.Count} circuit(s) closed.", data)
            : HealthCheckResult.Degraded($"Configuration rejected, running on the last valid options: {string.Join(", ", rejected)}.", data: data);
        return Task.FromResult(result);
    }

    /// <summary>The state, with the current break (how long, why, when the next probe goes) or the ramp after a close.</summary>
    private static string Describe(CircuitBreakerSnapshot circuit, CircuitState state)
    {
        if (state != CircuitState.Closed && circuit.BreakDuration is { } length)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"{state}: break of {length.TotalSeconds:0.0} s ({circuit.BreakReason}), next probe in {(circuit.RetryAfter ?? TimeSpan.Zero).TotalSeconds:0.0} s");
        }

        if (state == CircuitState.Closed && circuit.RampLimit is { } limit)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{state}: ramping up after recovery, {limit} request(s) in flight allowed");
        }

        return state.ToString();
    }
}
