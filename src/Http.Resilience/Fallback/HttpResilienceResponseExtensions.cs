namespace Http.Resilience;

/// <summary>Lets a caller tell a fallback response from a real one.</summary>
public static class HttpResilienceResponseExtensions
{
    internal static readonly HttpRequestOptionsKey<FallbackInfo> FallbackKey = new("Http.Resilience.Fallback");

    /// <summary>Gets what fallback this response is, or <see langword="null"/> when it came from the dependency.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The fallback's description, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="response"/> is <see langword="null"/>.</exception>
    public static FallbackInfo? GetFallbackInfo(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(FallbackKey, out var info) ? info : null;
    }
}
