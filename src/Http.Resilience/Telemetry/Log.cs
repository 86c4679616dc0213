using Microsoft.Extensions.Logging;

namespace Http.Resilience;

/// <summary>The chain's log events. Event ids are stable: dashboards and alerts key on them.</summary>
/// <remarks>
/// Warnings and errors only where an operator should act; per-attempt detail at Debug. No request or response bodies and
/// no header values are ever logged.
/// </remarks>
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

    [LoggerMessage(EventId = 2, EventName = "AttemptTimedOut", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': attempt {Attempt} of {MaxAttempts} timed out after {ElapsedMs:F0} ms.")]
    public static partial void AttemptTimedOut(ILogger logger, string clientName, int attempt, int maxAttempts, double elapsedMs);

    [LoggerMessage(EventId = 3, EventName = "RetryScheduled", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': attempt {Attempt} ended {Outcome}; retrying in {DelayMs:F0} ms ({BudgetLeftMs:F0} ms of budget left).")]
    public static partial void RetryScheduled(ILogger logger, string clientName, int attempt, string outcome, double delayMs, double budgetLeftMs);

    [LoggerMessage(EventId = 4, EventName = "CircuitOpened", Level = LogLevel.Error,
        Message = "HttpClient '{ClientName}'{Authority}: circuit OPENED for {BreakDuration} (next probe at {NextProbeAt:O}) after {FailureCount} failures in {RequestCount} requests (ratio {FailureRatio:0.00}): {Reason}.")]
    public static partial void CircuitOpened(ILogger logger, string clientName, string authority, TimeSpan? breakDuration, DateTimeOffset? nextProbeAt, int failureCount, int requestCount, double failureRatio, string reason);

    [LoggerMessage(EventId = 5, EventName = "CircuitHalfOpened", Level = LogLevel.Information,
        Message = "HttpClient '{ClientName}'{Authority}: circuit HALF-OPEN, letting one probe through: {Reason}.")]
    public static partial void CircuitHalfOpened(ILogger logger, string clientName, string authority, string reason);

    [LoggerMessage(EventId = 6, EventName = "CircuitClosed", Level = LogLevel.Information,
        Message = "HttpClient '{ClientName}'{Authority}: circuit CLOSED (recovered): {Reason}.")]
    public static partial void CircuitClosed(ILogger logger, string clientName, string authority, string reason);

    [LoggerMessage(EventId = 7, EventName = "BulkheadRejected", Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}'{Authority}: bulkhead full, request rejected (limit {Limit}, active {Active}, queued {Queued}).")]
    public static partial void BulkheadRejected(ILogger logger, string clientName, string authority, int limit, int active, int queued);

    [LoggerMessage(EventId = 8, EventName = "FallbackServed", Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}': served a {Kind} fallback because {Reason}{Age}.")]
    public static partial void FallbackServed(ILogger logger, string clientName, string kind, string reason, string age);

    [LoggerMessage(EventId = 9, EventName = "DeadlineExceeded", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': deadline of {Deadline} spent after {Attempts} attempt(s).")]
    public static partial void DeadlineExceeded(ILogger logger, string clientName, TimeSpan deadline, int attempts);

    [LoggerMessage(EventId = 10, EventName = "FaultInjected", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': fault injection added {Fault}.")]
    public static partial void FaultInjected(ILogger logger, string clientName, string fault);

    [LoggerMessage(EventId = 11, EventName = "RateLimitRejected", Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}': outbound rate limit rejected a request: {Reason}.")]
    public static partial void RateLimitRejected(ILogger logger, string clientName, string reason);

    [LoggerMessage(EventId = 12, EventName = "RequestBodyNotReplayable", Level = LogLevel.Information,
        Message = "HttpClient '{ClientName}': a {Method} request's body cannot be sent twice (a stream of unknown length, or one over " +
                  "Retry.MaxRequestBufferBytes), so it is sent once and never retried. Use a buffered content (ByteArrayContent, " +
                  "StringContent, JsonContent) or a stream with a known length to make it retryable. Reported once per client.")]
    public static partial void RequestBodyNotReplayable(ILogger logger, string clientName, string method);

    [LoggerMessage(EventId = 13, EventName = "ConfigurationRejected", Level = LogLevel.Error,
        Message = "HttpClient '{ClientName}': the reloaded HttpResilience configuration is invalid and was not applied; the last valid " +
                  "options stay in force until a valid one is loaded.\n{ValidationMessage}")]
    public static partial void ConfigurationRejected(ILogger logger, string clientName, string validationMessage);

    [LoggerMessage(EventId = 14, EventName = "ConfigurationAccepted", Level = LogLevel.Information,
        Message = "HttpClient '{ClientName}': the HttpResilience configuration is valid again and applies from now on.")]
    public static partial void ConfigurationAccepted(ILogger logger, string clientName);

    [LoggerMessage(EventId = 15, EventName = "RetryBudgetExhausted", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': retry budget empty; attempt {Attempt} was not retried and its outcome is returned.")]
    public static partial void RetryBudgetExhausted(ILogger logger, string clientName, int attempt);

    [LoggerMessage(EventId = 16, EventName = "AdaptiveThrottleRejected", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': adaptive throttling rejected a request locally (probability {Probability:0.00}).")]
    public static partial void AdaptiveThrottleRejected(ILogger logger, string clientName, double probability);

    [LoggerMessage(EventId = 17, EventName = "HedgeSent", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': no answer after the {DelaySource} hedging delay of {DelayMs:0.0} ms; copy {Attempt} of the request sent in parallel.")]
    public static partial void HedgeSent(ILogger logger, string clientName, int attempt, double delayMs, string delaySource);

    [LoggerMessage(EventId = 18, EventName = "HedgeBudgetExhausted", Level = LogLevel.Debug,
        Message = "HttpClient '{ClientName}': retry budget empty; attempt {Attempt} was not hedged and its answer is awaited alone.")]
    public static partial void HedgeBudgetExhausted(ILogger logger, string clientName, int attempt);

    [LoggerMessage(EventId = 19, EventName = "SharedLimitRejected", Level = LogLevel.Warning,
        Message = "HttpClient '{ClientName}'{Authority}: the shared concurrency limit ({Limiter}) in front of the bulkhead {What}; the request was rejected.")]
    public static partial void SharedLimitRejected(ILogger logger, string clientName, string authority, string limiter, string what);

    public static string FormatAuthority(string? authority) => authority is null ? string.Empty : $" ({authority})";
}
