namespace Http.Resilience;

/// <summary>
/// Adds an idempotency key to POST and PATCH requests that have none, once per logical request. It sits outside the
/// retry loop, so every attempt carries the same key.
/// </summary>
internal sealed class IdempotencyKeyHandler : ResilienceHandler
{
    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Options.Idempotency is { Enabled: true } options && IdempotencyKey.IsKeyedMethod(request.Method) && !IdempotencyKey.HasKey(request, options.HeaderName))
        {
            request.Headers.Remove(options.HeaderName); // a blank value the caller set is replaced, not doubled
            request.Headers.TryAddWithoutValidation(options.HeaderName, IdempotencyKey.Create());
        }

        return SendNextAsync(request, context, cancellationToken);
    }
}
