namespace Http.Resilience;

/// <summary>The occupancy of one bulkhead at one moment.</summary>
/// <param name="ClientName">The name of the client.</param>
/// <param name="Authority">The authority (scheme, host, port) of a per-authority bulkhead, else <see langword="null"/>.</param>
/// <param name="MaxConcurrency">The configured limit.</param>
/// <param name="Active">The requests holding a permit now.</param>
/// <param name="Queued">The requests waiting for a permit now.</param>
/// <param name="Rejected">The requests rejected since the bulkhead was created.</param>
public readonly record struct BulkheadSnapshot(string ClientName, string? Authority, int MaxConcurrency, int Active, int Queued, long Rejected);
