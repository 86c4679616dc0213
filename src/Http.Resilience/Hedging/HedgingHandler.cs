using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Http.Resilience;

/// <summary>
/// Sends another copy of an attempt that has not answered within the hedging delay, and returns the first usable response
/// (see <see cref="HedgingOptions"/>). Sits between the retry layer and the attempt timeout: the retry layer sees one
/// attempt however many copies went out, and every copy is an attempt of its own below.
/// </summary>
/// <remarks>
/// <para>
/// The first copy is the request itself; every other copy is a new <see cref="HttpRequestMessage"/> with the same method,
/// URI, version, headers, options and content. A copy of its own, because the layers below write headers into the request
/// they send (the attempt's deadline and number, the trace context) and two copies in flight must not write into one.
/// The content object is shared: only replayable or buffered content gets here, which serializes the same bytes each
/// time and can be read by two copies at once. The winner's <see cref="HttpResponseMessage.RequestMessage"/> is set
/// back to the request the caller sent.
/// </para>
/// <para>
/// The losers are cancelled and left to finish on their own, without delaying the winner: a continuation disposes their
/// response if one still arrives, so no pooled connection stays taken. They may still read the request's context after the
/// logical request has ended, so that context is then never reused.
/// </para>
/// </remarks>
internal sealed class HedgingHandler : ResilienceHandler
{
    private static readonly Action<object?> CancelSource = static source => ((CancellationTokenSource)source!).Cancel();

    private readonly ResilienceRegistry _registry;

    public HedgingHandler(ResilienceRegistry registry)
    {
        _registry = registry;
    }

    internal override ValueTask<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        if (context.Hedging is not { } options || !context.MaySendTwice(request))
        {
            return SendNextAsync(request, context, cancellationToken);
        }

        return RequestContentReplay.IsReplayable(request.Content) || context.ContentReplayable
            ? SendHedgedAsync(request, context, options, cancellationToken)
            : BufferThenSendAsync(request, context, options, cancellationToken);
    }

    /// <summary>A body that is not replayable as it is gets buffered (within the limit and the budget), or is sent once, unhedged.</summary>
    private async ValueTask<HttpResponseMessage> BufferThenSendAsync(HttpRequestMessage request, ResilienceContext context, HedgingOptions options, CancellationToken cancellationToken)
    {
        return await RequestContentReplay.TryMakeReplayableAsync(request, context, cancellationToken).ConfigureAwait(false)
            ? await SendHedgedAsync(request, context, options, cancellationToken).ConfigureAwait(false)
            : await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // its state machine is reused, not allocated per request
    private async ValueTask<HttpResponseMessage> SendHedgedAsync(HttpRequestMessage request, ResilienceContext context, HedgingOptions options, CancellationToken cancellationToken)
    {
        var latencies = context.Client.HedgingLatencies;
        latencies.CountEligible();
        var delay = options.Delay ?? (latencies.Percentile(options.Percentile) is { } percentile ? (percentile > options.MinDelay ? percentile : options.MinDelay) : null);
        if (latencies.LastDelay != delay)
        {
            latencies.LastDelay = delay; // written only when it changes: every request of the client reads this line
        }
        if (delay is not { } hedgeAfter)
        {
            // Too few latencies known for the adaptive delay: one attempt, timed, so that they become known.
            var started = context.TimeProvider.GetTimestamp();
            var single = await SendNextAsync(request, context, cancellationToken).ConfigureAwait(false);
            if (!OutcomeClassifier.ClassifyForRetry(single, request, context.Options).IsRetryable)
            {
                latencies.Record(context.TimeProvider.GetElapsedTime(started), options.Percentile);
            }

            return single;
        }

        // Content-Length is worked out and stored on its first read: read it now, before two copies can read it at once.
        _ = request.Content?.Headers.ContentLength;

        var first = Start(request, context, cancellationToken);
        if (first.Pending.IsCompleted)
        {
            // Answered at once (a cache, an in-memory handler): no copy could have been needed, and none of the race is set up.
            TimeoutSourcePool.Return(first.Source, TimeProvider.System);
            var answer = await first.Pending.ConfigureAwait(false);
            if (!OutcomeClassifier.ClassifyForRetry(answer, request, context.Options).IsRetryable)
            {
                latencies.Record(context.TimeProvider.GetElapsedTime(first.Started), options.Percentile);
            }

            return answer;
        }

        var copies = new List<Copy>(1 + options.MaxHedgedAttempts) { new(request, first, cancellationToken) };
        var hedgesLeft = options.MaxHedgedAttempts;
        HttpResponseMessage? discarded = null; // the last failed response while other copies were still in flight
        Task? hedgeDue = null;
        ITimer? timer = null;
        var settled = false; // the outcome is decided: what is still in flight has been abandoned
        try
        {
            while (true)
            {
                Task finished;
                if (copies.Find(c => !c.Finished && c.Task.IsCompleted) is { } answered)
                {
                    finished = answered.Task; // no timer and no wait for a copy that has already answered (often the first)
                }
                else
                {
                    if (hedgeDue is null && hedgesLeft > 0)
                    {
                        (hedgeDue, timer) = StartTimer(hedgeAfter, context.TimeProvider);
                    }

                    finished = await Task.WhenAny(Pending(copies, hedgeDue)).ConfigureAwait(false);
                }

                if (ReferenceEquals(finished, hedgeDue))
                {
                    timer?.Dispose();
                    (hedgeDue, timer) = (null, null);
                    if (MayHedge(context))
                    {
                        hedgesLeft--;
                        context.Attempts++;
                        var hedge = CopyOf(request);
                        copies.Add(new Copy(hedge, Start(hedge, context, cancellationToken), cancellationToken));
                        latencies.CountHedge();
                        _registry.Metrics?.RecordHedge(context.ClientName);
                        Log.HedgeSent(_registry.Logger, context.ClientName, context.Attempts, hedgeAfter.TotalMilliseconds, options.Delay is null ? "adaptive" : "fixed");
                        if (context.Activity is not null)
                        {
                            context.AddEvent("hedge_sent", ResilienceActivity.Tag("http.resilience.attempt", context.Attempts), ResilienceActivity.Tag("http.resilience.delay_ms", hedgeAfter.TotalMilliseconds));
                        }
                    }
                    else
                    {
                        hedgesLeft = 0; // once refused, refused for the rest of this attempt: the reasons do not pass in milliseconds
                    }

                    continue;
                }

                var copy = copies.Find(c => ReferenceEquals(c.Task, finished))!;
                copy.Finish(disposeSource: true);
                HttpResponseMessage? response = null;
                ExceptionDispatchInfo? failure = null;
                try
                {
                    response = await copy.Task.ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failure = ExceptionDispatchInfo.Capture(ex);
                }

                var outcome = response is null
                    ? OutcomeClassifier.Classify(failure!.SourceException, context)
                    : OutcomeClassifier.ClassifyForRetry(response, request, context.Options);
                var othersInFlight = copies.Exists(c => !c.Finished);
                if (outcome.IsRetryable && othersInFlight)
                {
                    // A failed copy while another may still answer: drop it and wait for the other.
                    discarded?.Dispose();
                    discarded = response;
                    continue;
                }

                if (response is not null && !outcome.IsRetryable)
                {
                    latencies.Record(context.TimeProvider.GetElapsedTime(copy.Started), options.Percentile);
                    if (!ReferenceEquals(copy.Request, request))
                    {
                        response.RequestMessage = request;
                        _registry.Metrics?.RecordHedgeWon(context.ClientName);
                    }
                }

                settled = true;
                if (othersInFlight)
                {
                    Abandon(copies, context);
                }

                if (!ReferenceEquals(discarded, response))
                {
                    discarded?.Dispose();
                }

                if (response is null)
                {
                    failure!.Throw();
                }

                return response;
            }
        }
        catch when (!settled)
        {
            // Something failed while copies were in flight (sending a further copy, say): none may be left running unwatched.
            Abandon(copies, context);
            discarded?.Dispose();
            throw;
        }
        finally
        {
            timer?.Dispose();
        }
    }

    /// <summary>Whether another copy may go out now: budget left, circuit closed, no pushback, and a retry in the retry budget.</summary>
    private bool MayHedge(ResilienceContext context)
    {
        if (context.CallerCancelled || !context.HasTimeFor(TimeSpan.Zero) || context.CircuitOpenedMeanwhile)
        {
            return false;
        }

        var now = context.TimeProvider.GetTimestamp();
        if (context.Options.Pushback.KeepWithinQuota && context.Client.GetPushback(context.TimeProvider.TimestampFrequency).SheddingProbability(now) > 0)
        {
            return false; // the dependency is turning this client away: a copy would only take another place in its quota
        }

        if (context.Options.Retry.Budget is { Enabled: true } budget && !context.GetRetryBudget(budget).TryWithdraw(now))
        {
            _registry.Metrics?.RecordRetryBudgetExhausted(context.ClientName);
            Log.HedgeBudgetExhausted(_registry.Logger, context.ClientName, context.Attempts);
            return false;
        }

        return true;
    }

    /// <summary>Sends one copy on a token of its own: cancelled by hand when it loses, or given back to the pool.</summary>
    private Sent Start(HttpRequestMessage request, ResilienceContext context, CancellationToken cancellationToken)
    {
        var source = TimeoutSourcePool.RentUnarmed(TimeProvider.System); // never armed
        var started = context.TimeProvider.GetTimestamp();
        try
        {
            cancellationToken.ThrowIfCancellationRequested(); // linked to it only once the copy turns out to wait (see Copy)
            return new Sent(source, SendNextAsync(request, context, source.Token), started);
        }
        catch (Exception ex)
        {
            // The caller just left, or a layer below refused synchronously (no budget left to send): this copy's outcome.
            return new Sent(source, ValueTask.FromException<HttpResponseMessage>(ex), started);
        }
    }

    private static (Task Due, ITimer? Timer) StartTimer(TimeSpan after, TimeProvider timeProvider)
    {
        if (after <= TimeSpan.Zero)
        {
            return (Task.CompletedTask, null);
        }

        var due = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var timer = timeProvider.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), due, after, Timeout.InfiniteTimeSpan);
        return (due.Task, timer);
    }

    private static Task[] Pending(List<Copy> copies, Task? hedgeDue)
    {
        var count = hedgeDue is null ? 0 : 1;
        foreach (var copy in copies)
        {
            count += copy.Finished ? 0 : 1;
        }

        var pending = new Task[count];
        var i = 0;
        foreach (var copy in copies)
        {
            if (!copy.Finished)
            {
                pending[i++] = copy.Task;
            }
        }

        if (hedgeDue is not null)
        {
            pending[i] = hedgeDue;
        }

        return pending;
    }

    /// <summary>Cancels the copies still in flight and lets them finish on their own; whatever they return is disposed.</summary>
    private static void Abandon(List<Copy> copies, ResilienceContext context)
    {
        context.KeepAfterReturn(); // they may still read it
        foreach (var copy in copies)
        {
            if (!copy.Finished)
            {
                _ = copy.Source.CancelAsync(); // its callbacks (the connection's abort) run on the pool, not before the winner returns
                copy.Task.ContinueWith(
                    static (task, state) =>
                    {
                        ((Copy)state!).Finish(disposeSource: false); // it is being cancelled, maybe on another thread right now
                        if (task.IsCompletedSuccessfully)
                        {
                            task.Result.Dispose();
                        }
                        else
                        {
                            _ = task.Exception; // observed: a cancelled loser is expected
                        }
                    },
                    copy,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    /// <summary>A copy of the request for another attempt in parallel: its own headers and options, the same content.</summary>
    internal static HttpRequestMessage CopyOf(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
            Content = request.Content,
        };

        // NonValidated: read as they are, without parsing, which also makes reading them safe while the first copy is in flight.
        foreach (var header in request.Headers.NonValidated)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        IDictionary<string, object?> options = copy.Options;
        foreach (var option in request.Options)
        {
            options[option.Key] = option.Value;
        }

        return copy;
    }

    /// <summary>A copy just sent: its token's source, its pending answer, when it went out.</summary>
    private readonly record struct Sent(CancellationTokenSource Source, ValueTask<HttpResponseMessage> Pending, long Started);

    /// <summary>One copy in flight: its request, its own cancellation (linked to the caller's) and its task.</summary>
    private sealed class Copy
    {
        private CancellationTokenRegistration _link;
        private int _finished;

        public Copy(HttpRequestMessage request, Sent sent, CancellationToken cancellationToken)
        {
            Request = request;
            Source = sent.Source;
            Started = sent.Started;
            Task = sent.Pending.AsTask();
            _link = cancellationToken.UnsafeRegister(CancelSource, Source); // the caller's cancellation reaches every copy
        }

        public HttpRequestMessage Request { get; }

        public CancellationTokenSource Source { get; }

        public Task<HttpResponseMessage> Task { get; }

        public long Started { get; }

        public bool Finished => Volatile.Read(ref _finished) != 0;

        /// <summary>Unlinks from the caller's token (which waits for a cancellation it is running) and, if asked, gives the source back; once.</summary>
        /// <param name="disposeSource">
        /// <see langword="false"/> for a copy being cancelled: its source has no timer, so the garbage collector can have it.
        /// </param>
        public void Finish(bool disposeSource)
        {
            if (Interlocked.Exchange(ref _finished, 1) == 0)
            {
                _link.Dispose();
                if (disposeSource)
                {
                    TimeoutSourcePool.Return(Source, TimeProvider.System);
                }
            }
        }
    }
}
