using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.Redis;

/// <summary>What one fleet limit reports: when its replica is on its outage policy, and why.</summary>
/// <remarks>
/// Instruments are on the chain's meter (<c>Http.Resilience</c>), so the one <c>AddMeter</c> line covers them:
/// <c>http.resilience.fleet.store_unavailable</c> (1 while this replica cannot reach Redis for the limit and follows
/// its outage policy, else 0) and <c>http.resilience.fleet.store_failures</c> (calls to Redis that failed or timed out).
/// </remarks>
internal sealed partial class FleetTelemetry
{
    private readonly string _client;
    private readonly string _limit;
    private readonly WhenStoreUnavailable _policy;
    private readonly TimeSpan _reprobe;
    private readonly ILogger _logger;
    private readonly Counter<long>? _failures;
    private readonly KeyValuePair<string, object?>[] _tags;
    private int _unavailable;

    public FleetTelemetry(string client, string limit, FleetLimitOptions options, ILogger logger, IMeterFactory? meterFactory)
    {
        _client = client;
        _limit = limit;
        _policy = options.WhenStoreUnavailable;
        _reprobe = options.ReprobeInterval;
        _logger = logger;
        _tags = [new("http.resilience.client.name", client), new("http.resilience.fleet.limit", limit)];
        if (meterFactory is not null)
        {
            var meter = meterFactory.Create("Http.Resilience");
            _failures = meter.CreateCounter<long>("http.resilience.fleet.store_failures", "{call}", "Calls to Redis for a fleet limit that failed or did not answer within the store timeout.");
            meter.CreateObservableGauge(
                "http.resilience.fleet.store_unavailable",
                () => new Measurement<int>(Volatile.Read(ref _unavailable), _tags),
                "{state}",
                "1 while this replica cannot reach Redis for a fleet limit and follows its outage policy (its local share by default), else 0.");
        }
    }

    public void StoreFailed(Exception exception, bool wasAvailable)
    {
        _failures?.Add(1, _tags);
        if (wasAvailable)
        {
            Volatile.Write(ref _unavailable, 1);
            StoreUnavailable(_logger, _client, _limit, exception.GetType().Name, exception.Message, Describe(_policy), _reprobe.TotalMilliseconds);
        }
    }

    public void StoreAvailable()
    {
        Volatile.Write(ref _unavailable, 0);
        StoreBack(_logger, _client, _limit);
    }

    public void HousekeepingFailed(Exception exception) => HousekeepingFailed(_logger, _client, _limit, exception.GetType().Name, exception.Message);

    private static string Describe(WhenStoreUnavailable policy) => policy switch
    {
        WhenStoreUnavailable.FailOpen => "lets every request through (fail open)",
        WhenStoreUnavailable.FailClosed => "rejects every request (fail closed)",
        _ => "keeps to its local share of the limit",
    };

    [LoggerMessage(EventId = 101, EventName = "FleetStoreUnavailable", Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}': the fleet {Limit} limit cannot reach Redis ({ExceptionType}: {Reason}); until it can, this replica {Policy}, and asks Redis again every {ReprobeMs:0} ms.")]
    private static partial void StoreUnavailable(ILogger logger, string clientName, string limit, string exceptionType, string reason, string policy, double reprobeMs);

    [LoggerMessage(EventId = 102, EventName = "FleetStoreAvailable", Level = LogLevel.Information,
        Message = "HttpClient '{ClientName}': the fleet {Limit} limit reaches Redis again; this replica is back on the shared limit.")]
    private static partial void StoreBack(ILogger logger, string clientName, string limit);

    [LoggerMessage(EventId = 103, EventName = "FleetHousekeepingFailed", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': releasing or renewing leases of the fleet {Limit} limit failed ({ExceptionType}: {Reason}); a lease not released expires with its time to live.")]
    private static partial void HousekeepingFailed(ILogger logger, string clientName, string limit, string exceptionType, string reason);
}
