using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;

namespace Http.Resilience;

/// <summary>Serves a stale or default response when the chain failed (see <see cref="FallbackOptions"/>).</summary>
/// <remarks>
/// It sits just inside <see cref="DeadlineHandler"/>: it needs the request's options snapshot, which the deadline handler
/// takes, and it must see every failure of the layers below (rate limit, bulkhead, circuit, retry, timeouts, the budget).
/// </remarks>
internal sealed class FallbackHandler : ResilienceHandler
{
    public const string HeaderName = "X-Resilience-Fallback";

    private readonly ResilienceRegistry _registry;

    public FallbackHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
        => context.Fallback is { } options
            ? SendWithFallbackAsync(request, context, options, cancellationToken)
            : SendNextAsync(request, context, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendWithFallbackAsync(HttpRequestMessage request, ResilienceContext context, FallbackOptions options, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var reason = context.CallerCancelled ? null : OutcomeClassifier.Classify(ex, context).FallbackReason;
            if (reason is null || Serve(request, context, options, new FallbackArguments(reason.Value, ex, null)) is not { } fallback)
            {
                throw;
            }

            return fallback;
        }

        if (context.CallerCancelled)
        {
            return response; // never a fallback for the caller's own cancellation: the outermost layer turns this into it
        }

        if (OutcomeClassifier.Classify(response).FallbackReason is { } serverError)
        {
            var fallback = Serve(request, context, options, new FallbackArguments(serverError, null, (int)response.StatusCode));
            if (fallback is not null)
            {
                response.Dispose();
                return fallback;
            }
        }
        else if (response.StatusCode == HttpStatusCode.OK && options.StaleIfError && request.Method == HttpMethod.Get)
        {
            await KeepAsync(request, response, context, options, cancellationToken).ConfigureAwait(false);
        }

        return response;
    }

    private HttpResponseMessage? Serve(HttpRequestMessage request, ResilienceContext context, FallbackOptions options, FallbackArguments failure)
    {
        if (options.StaleIfError && request.Method == HttpMethod.Get && request.RequestUri is { } uri &&
            _registry.GetOrAddStaleCache(context.ClientName).Get(uri.AbsoluteUri) is { } entry)
        {
            var age = context.TimeProvider.GetElapsedTime(entry.StoredAt);
            if (age <= options.MaxStaleness)
            {
                var stale = FromEntry(request, entry);
                stale.Headers.TryAddWithoutValidation(HeaderName, string.Create(CultureInfo.InvariantCulture, $"stale; age={(long)age.TotalSeconds}"));
                return Mark(request, stale, context, new FallbackInfo(FallbackKind.Stale, failure.Reason, age));
            }
        }

        if (options.GetResponder() is { } respond && respond(request, failure) is { } response)
        {
            response.RequestMessage = request;
            response.Headers.TryAddWithoutValidation(HeaderName, "default");
            return Mark(request, response, context, new FallbackInfo(FallbackKind.Default, failure.Reason, null));
        }

        return null;
    }

    private HttpResponseMessage Mark(HttpRequestMessage request, HttpResponseMessage response, ResilienceContext context, FallbackInfo info)
    {
        request.Options.Set(HttpResilienceResponseExtensions.FallbackKey, info);
        if (info.Reason == FallbackReason.DeadlineExceeded)
        {
            _registry.Metrics?.RecordDeadlineExceeded(context.ClientName); // the caller will not see the exception: count it here
        }

        var kind = info.Kind == FallbackKind.Stale ? "stale" : "default";
        _registry.Metrics?.RecordFallback(context.ClientName, kind);
        var age = info.Age is { } a ? string.Create(CultureInfo.InvariantCulture, $" (age {a.TotalSeconds:F0} s)") : string.Empty;
        Log.FallbackServed(_registry.Logger, context.ClientName, kind, info.Reason.ToString(), age);
        if (context.Activity is not null)
        {
            context.AddEvent("fallback_served", ResilienceActivity.Tag("http.resilience.fallback.kind", kind), ResilienceActivity.Tag("http.resilience.reason", info.Reason.ToString()));
        }
        return response;
    }

    /// <summary>Keeps a good GET response for later, when it is small enough and allowed to be stored.</summary>
    private async Task KeepAsync(HttpRequestMessage request, HttpResponseMessage response, ResilienceContext context, FallbackOptions options, CancellationToken cancellationToken)
    {
        // Only a body of known, bounded length is read ahead: reading an unbounded stream here would change what the caller gets.
        if (request.RequestUri is not { } uri || response.Content.Headers.ContentLength is not { } length || length > options.MaxEntryBytes ||
            !IsShareable(request, response))
        {
            return;
        }

        byte[] body;
        using var reading = LinkedTimeout.Start(context.Remaining, context.TimeProvider, cancellationToken); // the budget bounds the read
        try
        {
            await response.Content.LoadIntoBufferAsync(options.MaxEntryBytes, reading.Token).ConfigureAwait(false);
            body = await response.Content.ReadAsByteArrayAsync(reading.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return; // the body could not be read: nothing to keep, and the caller meets the same failure reading it
        }

        _registry.GetOrAddStaleCache(context.ClientName).Store(
            new StaleResponseCache.Entry(uri.AbsoluteUri, context.TimeProvider.GetTimestamp(), response.Version, Copy(response.Headers), Copy(response.Content.Headers), body),
            options);
    }

    /// <summary>
    /// A response may be served later to any caller of this client only if it is nobody's in particular: the request
    /// carried no credentials or cookies, and the response is not private, sets no cookie and does not vary by request
    /// header. Anything else is never kept (one user's data must never reach another).
    /// </summary>
    private static bool IsShareable(HttpRequestMessage request, HttpResponseMessage response)
        => request.Headers.Authorization is null &&
           !request.Headers.Contains("Cookie") &&
           response.Headers.CacheControl is not ({ NoStore: true } or { Private: true }) &&
           !response.Headers.Contains("Set-Cookie") &&
           response.Headers.Vary.Count == 0;

    private static KeyValuePair<string, string[]>[] Copy(HttpHeaders headers)
    {
        var copy = new List<KeyValuePair<string, string[]>>();
        foreach (var header in headers.NonValidated)
        {
            copy.Add(new(header.Key, [.. header.Value]));
        }

        return [.. copy];
    }

    private static HttpResponseMessage FromEntry(HttpRequestMessage request, StaleResponseCache.Entry entry)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = request, Version = entry.Version, Content = new ByteArrayContent(entry.Body) };
        foreach (var header in entry.Headers)
        {
            response.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var header in entry.ContentHeaders)
        {
            response.Content.Headers.Remove(header.Key);
            response.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return response;
    }
}
