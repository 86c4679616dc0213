using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Http.Resilience.AspNetCore;

/// <summary>
/// Reads the caller's time left, makes it the request's deadline, and makes every Http.Resilience call made while
/// handling the request start with no more than that.
/// </summary>
/// <remarks>
/// The deadline is the smaller of the header's value and the endpoint's (or the default) server-side deadline.
/// A spent deadline answers 504 at once, without running the endpoint (so without calling anything downstream).
/// Otherwise <see cref="HttpContext.RequestAborted"/> is linked to the deadline, so work past it is cancelled, and a
/// request that runs out answers 504 if nothing was written yet. A malformed header is ignored, never an error.
/// It also sends the "don't retry" signal (<see cref="IncomingDeadlineOptions.ShouldRetryHeaderName"/>) on 5xx answers
/// whose own outgoing calls already gave up.
/// </remarks>
internal sealed partial class DeadlineMiddleware(RequestDelegate next, IncomingDeadlineOptions options, TimeProvider timeProvider, ILogger<DeadlineMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (string.IsNullOrEmpty(options.ShouldRetryHeaderName))
        {
            await InvokeWithDeadlineAsync(context).ConfigureAwait(false);
            return;
        }

        // Retry at one layer only: when this request's own outgoing calls already gave up and the app answers 5xx, the
        // caller is told not to retry, so retries do not multiply from hop to hop.
        using var giveUp = DownstreamGiveUp.Begin();
        context.Response.OnStarting(
            static state =>
            {
                var (http, marker, header) = ((HttpContext, DownstreamGiveUp.Marker, string))state;
                if (http.Response.StatusCode >= StatusCodes.Status500InternalServerError && marker.GaveUp)
                {
                    http.Response.Headers[header] = "false";
                }

                return Task.CompletedTask;
            },
            (context, giveUp, options.ShouldRetryHeaderName));
        await InvokeWithDeadlineAsync(context).ConfigureAwait(false);
    }

    private async Task InvokeWithDeadlineAsync(HttpContext context)
    {
        var deadline = Resolve(context);
        if (deadline is not { } budget)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (budget <= TimeSpan.Zero)
        {
            LogDeadlineSpent(logger, context.Request.Path, 0, "none: it arrived spent");
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            return;
        }

        var aborted = context.RequestAborted;
        using var expiry = new CancellationTokenSource(budget, timeProvider);
        using var link = CancellationTokenSource.CreateLinkedTokenSource(aborted, expiry.Token);
        using var scope = InheritedDeadline.Begin(budget, timeProvider);
        context.RequestAborted = link.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (expiry.IsCancellationRequested && !aborted.IsCancellationRequested && !context.Response.HasStarted &&
                                   ex is DeadlineExceededException or OperationCanceledException)
        {
            // Only when this request's own deadline is what ran out; any other failure stays what it is.
            LogDeadlineSpent(logger, context.Request.Path, budget.TotalMilliseconds, ex.GetType().Name);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            context.RequestAborted = aborted;
        }
    }

    private TimeSpan? Resolve(HttpContext context)
    {
        TimeSpan? fromHeader = null;
        if (context.Request.Headers.TryGetValue(options.HeaderName, out var values) &&
            long.TryParse(values.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) &&
            milliseconds <= (long)TimeSpan.FromDays(1).TotalMilliseconds)
        {
            fromHeader = TimeSpan.FromMilliseconds(milliseconds);
        }

        var own = context.GetEndpoint()?.Metadata.GetMetadata<EndpointDeadline>()?.Deadline ?? options.DefaultDeadline;
        return (fromHeader, own) switch
        {
            ({ } a, { } b) => a < b ? a : b,
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => null,
        };
    }

    [LoggerMessage(EventId = 20, EventName = "IncomingDeadlineSpent", Level = LogLevel.Debug,
        Message = "Request to {Path} answered 504: its deadline of {DeadlineMs:F0} ms was spent ({Cause}).")]
    private static partial void LogDeadlineSpent(ILogger logger, PathString path, double deadlineMs, string cause);
}
