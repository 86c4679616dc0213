using System.Net;

namespace Http.Resilience;

/// <summary>Reads a response's body into memory inside the attempt (see <see cref="ResponseBufferingOptions"/>).</summary>
internal static class ResponseBody
{
    private const int FirstChunk = 16 * 1024;

    /// <summary>
    /// Whether the response may carry a body worth reading: not a HEAD's, a 1xx (an upgraded connection is a stream, not
    /// a body), a 204 or 304, nor an event stream (server-sent events end only when the server ends them).
    /// </summary>
    public static bool MayHaveBody(HttpResponseMessage response)
        => response.Content is { } content &&
           content.Headers.ContentLength != 0 &&
           (int)response.StatusCode >= 200 &&
           response.StatusCode is not (HttpStatusCode.NoContent or HttpStatusCode.NotModified) &&
           response.RequestMessage?.Method != HttpMethod.Head &&
           !string.Equals(content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the body into memory when it is at most <paramref name="maxBytes"/> long. A longer one is left streaming,
    /// the bytes already read in front of the rest. A body that breaks off throws (a network failure); one that stalls
    /// waits until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public static async ValueTask BufferAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        var content = response.Content;
        if (content.Headers.ContentLength is { } length)
        {
            if (length <= maxBytes)
            {
                await content.LoadIntoBufferAsync(maxBytes, cancellationToken).ConfigureAwait(false);
            }

            return; // longer than the cap: left streaming, untouched
        }

        // No length given (chunked): read until the end or the cap, whichever comes first.
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[(int)Math.Min(FirstChunk, maxBytes + 1)];
        var read = 0;
        while (true)
        {
            if (read == buffer.Length)
            {
                if (read > maxBytes)
                {
                    // Over the cap: the caller streams it, the bytes read so far first.
                    response.Content = WithHeadersOf(content, new StreamContent(new PrefixedStream(buffer, read, stream)));
                    return;
                }

                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
            }

            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        response.Content = WithHeadersOf(content, new ByteArrayContent(buffer, 0, read));
        content.Dispose(); // read to its end: the connection goes back to the pool
    }

    private static HttpContent WithHeadersOf(HttpContent original, HttpContent replacement)
    {
        foreach (var header in original.Headers.NonValidated)
        {
            replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return replacement;
    }

    /// <summary>A read-only stream of bytes already read, then the rest of the stream they came from.</summary>
    private sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream rest) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefixLength)
            {
                var n = Math.Min(buffer.Length, prefixLength - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return rest.Read(buffer);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < prefixLength)
            {
                return new ValueTask<int>(Read(buffer.Span));
            }

            return rest.ReadAsync(buffer, cancellationToken);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
