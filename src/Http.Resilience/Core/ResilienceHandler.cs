namespace Http.Resilience;

/// <summary>
/// The base of every layer of the chain. From one layer of ours to the next, a request travels as a direct call that
/// carries the <see cref="ResilienceContext"/> as an argument and returns a <see cref="ValueTask{TResult}"/>: a layer that
/// completes synchronously allocates no task, and no layer looks anything up in the request's options.
/// </summary>
/// <remarks>
/// A handler that is not ours may still sit between two of our layers (one added with <c>AddHttpMessageHandler</c> in
/// between, or a test's). Only then does the context travel in <see cref="HttpRequestMessage.Options"/>, where the next
/// layer of ours finds it when the foreign handler calls it through <see cref="DelegatingHandler.SendAsync"/>.
/// </remarks>
internal abstract class ResilienceHandler : DelegatingHandler
{
    // Whether one of our layers sits somewhere below the next handler (0: not yet known, 1: yes, 2: no). The chain is
    // fixed once the first request went through it, so this is worked out once.
    private int _layerBelow;

    /// <summary>Entered from a handler that is not ours: the context is the one in the request's options.</summary>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ResilienceContext.Get(request) is { } context
            ? SendCoreAsync(request, context, cancellationToken).AsTask()
            : base.SendAsync(request, cancellationToken);
    }

    /// <remarks>The synchronous <see cref="HttpClient.Send(HttpRequestMessage)"/> goes through the layer too, blocking on it.</remarks>
    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        => SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    /// <summary>This layer's work for one request of the chain.</summary>
    internal abstract ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken);

    /// <summary>Sends the request on to the next handler: directly when it is one of ours, through its task otherwise.</summary>
    protected ValueTask<HttpResponseMessage> SendNextAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (InnerHandler is ResilienceHandler next)
        {
            return next.SendCoreAsync(request, context, cancellationToken);
        }

        if (HasLayerBelow())
        {
            context.Publish(request);
        }

        var task = base.SendAsync(request, cancellationToken);
        context.InnermostTask = task;
        return new ValueTask<HttpResponseMessage>(task);
    }

    private bool HasLayerBelow()
    {
        var known = Volatile.Read(ref _layerBelow);
        if (known == 0)
        {
            known = 2;
            for (var handler = InnerHandler; handler is DelegatingHandler delegating; handler = delegating.InnerHandler)
            {
                if (handler is ResilienceHandler)
                {
                    known = 1;
                    break;
                }
            }

            Volatile.Write(ref _layerBelow, known);
        }

        return known == 1;
    }
}
