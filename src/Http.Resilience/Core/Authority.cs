namespace Http.Resilience;

internal static class Authority
{
    /// <summary>The key of a per-authority circuit or bulkhead: scheme, host and port, the port always written.</summary>
    public static string? Of(HttpRequestMessage request)
        => request.RequestUri is { IsAbsoluteUri: true } uri ? $"{uri.Scheme}://{uri.IdnHost}:{uri.Port}" : null;
}
