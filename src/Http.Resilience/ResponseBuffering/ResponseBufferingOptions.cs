namespace Http.Resilience;

/// <summary>Options of response buffering: reading each attempt's body inside the attempt, so a slow or broken body is retried.</summary>
/// <remarks>
/// <para>
/// <c>GetAsync</c>, <c>GetStringAsync</c> and <c>GetFromJsonAsync</c> read the body after the chain has returned, where
/// neither the attempt timeout nor the retries reach: a body that stalls halfway waits for the deadline's backstop, and
/// one that breaks off fails the call. With buffering on, each attempt reads the body into memory before it counts as
/// answered. A body that stalls is then an attempt timeout, and a body cut short is a network failure: both are retried
/// within the budget like any other, and a hedged copy can overtake them.
/// </para>
/// <para>
/// A body longer than <see cref="MaxBytes"/> (by its <c>Content-Length</c>, or once that many bytes have been read) is
/// left streaming: the caller reads it as before, outside the attempt, the bytes already read first. Responses to HEAD,
/// 1xx, 204 and 304 have no body and are not read, and neither are event streams (<c>text/event-stream</c>), which end
/// only when the server ends them.
/// </para>
/// </remarks>
public sealed class ResponseBufferingOptions
{
    /// <summary>Gets or sets a value indicating whether each attempt reads the response body before it returns.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the largest body, in bytes, read into memory inside the attempt.</summary>
    /// <value>The default value is 1 MiB (1,048,576). Must be at least 1 and less than <see cref="Array.MaxLength"/>.</value>
    public long MaxBytes { get; set; } = HttpResilienceDefaults.ResponseBufferingMaxBytes;
}
