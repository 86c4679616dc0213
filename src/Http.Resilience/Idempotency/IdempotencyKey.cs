namespace Http.Resilience;

internal static class IdempotencyKey
{
    /// <summary>Methods that are not idempotent by RFC 9110 but become safe to retry with a key.</summary>
    public static bool IsKeyedMethod(HttpMethod method) => method == HttpMethod.Post || method == HttpMethod.Patch;

    /// <summary>A fresh key: a random (version 4) UUID, as the IETF draft and Stripe recommend.</summary>
    public static string Create() => Guid.NewGuid().ToString("D");

    /// <summary>Whether the request carries a non-blank value of the key header. Never throws on odd caller values.</summary>
    public static bool HasKey(HttpRequestMessage request, string headerName)
    {
        if (!request.Headers.NonValidated.TryGetValues(headerName, out var values))
        {
            return false;
        }

        foreach (var value in values)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                return true;
            }
        }

        return false;
    }
}
