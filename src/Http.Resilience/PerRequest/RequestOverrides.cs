using System.Globalization;
using System.Runtime.CompilerServices;

namespace Http.Resilience;

/// <summary>
/// The settings one request asked for (see <see cref="HttpRequestMessageResilienceExtensions"/>), kept in its
/// <see cref="HttpRequestMessage.Options"/>. Each is validated when it is set; the chain reads them once, when the request
/// enters it.
/// </summary>
internal sealed class RequestOverrides
{
    public static readonly HttpRequestOptionsKey<RequestOverrides> Key = new("Http.Resilience.RequestOverrides");

    // Reading HttpRequestMessage.Options creates its dictionary (about a hundred bytes) when the request has none, and most
    // requests have none: the field behind it is read instead, and the property only when the field is not there.
    private static readonly bool FieldReadable = CanReadField();

    /// <summary>Gets or sets this request's budget, in place of the client's <see cref="HttpResilienceOptions.Deadline"/>.</summary>
    public TimeSpan? Deadline { get; set; }

    /// <summary>Gets or sets this request's attempt timeout, in place of the client's <see cref="HttpResilienceOptions.AttemptTimeout"/>.</summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>Gets or sets the most retries this request may make; the client's <see cref="RetryOptions.MaxRetries"/> caps it.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>Gets or sets a value indicating whether the caller vouches that the request may be sent more than once.</summary>
    public bool Idempotent { get; set; }

    /// <summary>Gets or sets a value indicating whether the request skips the fallback.</summary>
    public bool FallbackOff { get; set; }

    /// <summary>Gets or sets a value indicating whether the request is never hedged.</summary>
    public bool HedgingOff { get; set; }

    /// <summary>Gets or sets a value indicating whether the request's response is left unread for the caller to stream.</summary>
    public bool ResponseBufferingOff { get; set; }

    /// <summary>Gets the settings <paramref name="request"/> carries, or <see langword="null"/>, without creating its options.</summary>
    public static RequestOverrides? Find(HttpRequestMessage request)
    {
        var options = FieldReadable ? OptionsField(request) : request.Options;
        return options is not null && options.TryGetValue(Key, out var overrides) ? overrides : null;
    }

    /// <summary>
    /// Checks the settings against the client they are sent through: the rules that depend on the client's options, which
    /// the methods that set them could not know.
    /// </summary>
    /// <param name="clientName">The client's name, for the message.</param>
    /// <param name="options">The client's options.</param>
    /// <exception cref="ArgumentException">A setting the client cannot give this request. Nothing has been sent.</exception>
    public void CheckFor(string clientName, HttpResilienceOptions options)
    {
        if (Deadline is { } deadline && TimeMath.IsLonger(deadline, options.MaxRequestDeadline))
        {
            // HttpClient.Timeout was set from MaxRequestDeadline: past it, the HttpClient would cancel the request as a plain
            // TaskCanceledException.
            throw Rejected(clientName, $"a deadline of '{deadline}', longer than its MaxRequestDeadline ('{options.MaxRequestDeadline}')", "Raise MaxRequestDeadline in the client's options to allow it (HttpClient.Timeout is set from it)");
        }

        if (AttemptTimeout is { } timeout && !TimeMath.IsInfinite(timeout) && options.DeadlinePropagation is { Enabled: true, SafetyMargin: var margin } &&
            !DeadlinePropagationOptions.LeavesTime(timeout, margin))
        {
            // Each attempt would tell the dependency it has the timeout minus the margin: nothing, so no attempt would go out.
            throw Rejected(clientName, $"an attempt timeout of '{timeout}', not at least 1 ms longer than its DeadlinePropagation.SafetyMargin ('{margin}')", "Ask for a longer attempt timeout");
        }
    }

    /// <summary>Gets the settings of <paramref name="request"/>, adding them to its options the first time.</summary>
    public static RequestOverrides GetOrAdd(HttpRequestMessage request)
    {
        if (!request.Options.TryGetValue(Key, out var overrides))
        {
            overrides = new RequestOverrides();
            request.Options.Set(Key, overrides);
        }

        return overrides;
    }

    private static ArgumentException Rejected(string clientName, string what, string remedy)
        => new(string.Create(CultureInfo.InvariantCulture, $"The request asks HttpClient '{clientName}' for {what}. {remedy}. Nothing was sent; send a new request."), "request");

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsField(HttpRequestMessage request);

    private static bool CanReadField()
    {
        try
        {
            using var probe = new HttpRequestMessage();
            var options = probe.Options;
            return ReferenceEquals(OptionsField(probe), options);
        }
        catch (MissingFieldException)
        {
            return false; // a runtime that names the field otherwise: read the property, at its cost
        }
    }
}
