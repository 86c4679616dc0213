using System.Net.Http.Json;

namespace Http.Resilience;

/// <summary>Makes sure a request body can be sent again, or says that it cannot.</summary>
/// <remarks>
/// Byte-array content (string, form) and memory content serialize the same bytes every time, and JSON content
/// serializes its value again. Anything else (a stream, a push-style content) is buffered when its length is known and
/// within the limit, so a retry sends the same bytes; otherwise the request is sent once and not retried. This is what
/// keeps a retry from failing with "the stream was already consumed".
/// </remarks>
internal static class RequestContentReplay
{
    public static bool IsReplayable(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent or ReadOnlyMemoryContent or JsonContent => true,
        MultipartContent multipart => AllReplayable(multipart),
        _ => false,
    };

    /// <summary>Returns <see langword="true"/> when the content can be sent again (buffering it if needed and allowed).</summary>
    public static async ValueTask<bool> TryMakeReplayableAsync(HttpContent? content, long maxBufferBytes, CancellationToken cancellationToken)
    {
        if (IsReplayable(content))
        {
            return true;
        }

        var length = content!.Headers.ContentLength;
        if (length is null || length > maxBufferBytes || maxBufferBytes <= 0)
        {
            return false;
        }

        await content.LoadIntoBufferAsync(maxBufferBytes, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Makes the request's body replayable when it can be (see <see cref="TryMakeReplayableAsync(HttpContent?, long, CancellationToken)"/>),
    /// within the budget left, and notes it in the context so that a layer below knows the body may be sent again.
    /// </summary>
    /// <exception cref="DeadlineExceededException">The budget ran out while the body was read.</exception>
    public static async ValueTask<bool> TryMakeReplayableAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        using var buffering = LinkedTimeout.Start(context.Remaining, context.TimeProvider, cancellationToken);
        try
        {
            context.ContentReplayable = await TryMakeReplayableAsync(request.Content, context.Options.Retry.MaxRequestBufferBytes, buffering.Token).ConfigureAwait(false);
            return context.ContentReplayable;
        }
        catch (OperationCanceledException ex) when (buffering.Fired && !context.CallerCancelled)
        {
            throw context.CreateDeadlineExceeded(new TimeoutException("The budget ran out while the request body was buffered to be sent again.", ex));
        }
    }

    private static bool AllReplayable(MultipartContent multipart)
    {
        foreach (var part in multipart)
        {
            if (!IsReplayable(part))
            {
                return false;
            }
        }

        return true;
    }
}
