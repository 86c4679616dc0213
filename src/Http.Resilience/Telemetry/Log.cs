using Microsoft.Extensions.Logging;

namespace Http.Resilience;

/// <summary>The chain's log events. Event ids are stable: dashboards and alerts key on them.</summary>
internal static partial class Log
{
    public const string CategoryName = "Http.Resilience";

    [LoggerMessage(
        EventId = 1,
        EventName = "ConnectionPoolSmallerThanBulkhead",
        Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}': the primary handler allows {MaxConnectionsPerServer} connections per server but the bulkhead admits {MaxConcurrency} requests; " +
                  "requests past the pool size will wait for a connection inside the bulkhead. Raise MaxConnectionsPerServer or lower Bulkhead.MaxConcurrency.")]
    public static partial void ConnectionPoolSmallerThanBulkhead(ILogger logger, string clientName, int maxConnectionsPerServer, int maxConcurrency);
}
