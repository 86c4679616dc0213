using System.Diagnostics;

namespace Http.Resilience;

/// <summary>
/// The chain's traces: one span per logical request on the <c>Http.Resilience</c> <see cref="ActivitySource"/>, the
/// parent of every attempt's <c>HttpClient</c> span, with the chain's decisions as span events.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is done, and nothing allocated, unless someone listens to the source (<c>AddSource("Http.Resilience")</c>).
/// The span is <see cref="ActivityKind.Internal"/>, named after the client (<c>Http.Resilience {client}</c>: a name of
/// low cardinality), with <c>http.resilience.client.name</c>, <c>http.request.method</c>, <c>server.address</c> and
/// <c>http.resilience.deadline</c> (seconds) at the start and <c>http.resilience.attempts</c>,
/// <c>http.resilience.time_left</c> (seconds), <c>http.resilience.outcome</c> (success, http_error, deadline, timeout,
/// network_error, circuit_open, bulkhead_rejected, rate_limited, throttled, cancelled, error),
/// <c>http.response.status_code</c> and <c>error.type</c> at the end. Its status is Error when the logical request failed: an exception other than the
/// caller's cancellation, or a final response of 500 or more.
/// </para>
/// <para>
/// Each attempt's span (<c>System.Net.Http</c>'s) gets <c>http.request.resend_count</c> (1 for the first retry or hedge,
/// as OpenTelemetry's HTTP conventions say), set as it starts by a listener that only reads and never samples.
/// </para>
/// </remarks>
internal static class ResilienceActivity
{
    public const string SourceName = "Http.Resilience";

    /// <summary>The custom property of our span that holds the number of the attempt being sent (1 for the first).</summary>
    private const string AttemptProperty = "Http.Resilience.Attempt";

    public static readonly ActivitySource Source = new(SourceName, typeof(ResilienceActivity).Assembly.GetName().Version?.ToString());

    private static readonly Lock ResendListenerGate = new();
    private static ActivityListener? _resendListener;

    /// <summary>Starts the span of a logical request, or returns <see langword="null"/> when nobody samples it.</summary>
    public static Activity? Start(HttpRequestMessage request, string clientName, TimeSpan deadline)
    {
        var activity = Source.StartActivity($"Http.Resilience {clientName}", ActivityKind.Internal);
        if (activity is null)
        {
            return null;
        }

        StartResendListener();
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("http.resilience.client.name", clientName);
            activity.SetTag("http.request.method", request.Method.Method);
            if (request.RequestUri is { IsAbsoluteUri: true } uri)
            {
                activity.SetTag("server.address", uri.Host);
            }

            activity.SetTag("http.resilience.deadline", TimeMath.IsInfinite(deadline) ? double.PositiveInfinity : deadline.TotalSeconds);
        }

        return activity;
    }

    /// <summary>Gets a value indicating whether the resend-count listener is on (for tests).</summary>
    internal static bool IsResendListenerRunning => Volatile.Read(ref _resendListener) is not null;

    /// <summary>A tag of a span event.</summary>
    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);

    /// <summary>Notes the number of the attempt about to be sent, for its span's resend count.</summary>
    public static void NoteAttempt(Activity activity, int attempt) => activity.SetCustomProperty(AttemptProperty, attempt);

    /// <summary>Adds a decision of the chain to the request's span.</summary>
    public static void AddEvent(Activity activity, string name, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var collection = new ActivityTagsCollection();
        foreach (var tag in tags)
        {
            collection.Add(tag.Key, tag.Value);
        }

        activity.AddEvent(new ActivityEvent(name, tags: collection));
    }

    /// <summary>Ends the span with the logical request's response.</summary>
    public static void Stop(Activity activity, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        activity.SetTag("http.response.status_code", status);
        activity.SetTag("http.resilience.outcome", OutcomeClassifier.Classify(response).AttemptMetricName);
        if (status >= 500)
        {
            activity.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Error);
        }

        activity.Stop();
    }

    /// <summary>Ends the span with the logical request's failure.</summary>
    public static void Stop(Activity activity, Exception exception, bool callerCancelled)
    {
        activity.SetTag("http.resilience.outcome", OutcomeClassifier.Classify(exception, callerCancelled).Cause switch
        {
            OutcomeCause.CallerCancelled => "cancelled",
            OutcomeCause.Deadline or OutcomeCause.InnerCancelled => "deadline",
            OutcomeCause.AttemptTimeout or OutcomeCause.OtherTimeout => "timeout",
            OutcomeCause.CircuitOpen => "circuit_open",
            OutcomeCause.BulkheadRejected => "bulkhead_rejected",
            OutcomeCause.RateLimited => "rate_limited",
            OutcomeCause.Throttled => "throttled",
            OutcomeCause.NetworkError => "network_error",
            _ => "error",
        });
        activity.SetTag("error.type", exception.GetType().FullName);
        if (!callerCancelled)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        }

        activity.Stop();
    }

    /// <summary>
    /// Stops the resend-count listener once nobody listens to our source any more (called on requests that are not
    /// traced: one volatile read while there is none). A listener left on <c>System.Net.Http</c> would keep HttpClient on
    /// its diagnostics path for every request of the process, long after tracing was turned off.
    /// </summary>
    public static void StopResendListenerIfIdle()
    {
        if (Volatile.Read(ref _resendListener) is null || Source.HasListeners())
        {
            return;
        }

        lock (ResendListenerGate)
        {
            if (_resendListener is { } listener && !Source.HasListeners())
            {
                Volatile.Write(ref _resendListener, null);
                listener.Dispose();
            }
        }
    }

    /// <summary>
    /// Listens to <c>System.Net.Http</c>'s spans only to tag an attempt's span with its resend count when its parent is
    /// ours. It samples nothing (its answer is <see cref="ActivitySamplingResult.None"/>), so it never makes a span exist
    /// that the application's own listeners did not ask for. Started when our source is listened to, stopped by
    /// <see cref="StopResendListenerIfIdle"/> once it is not.
    /// </summary>
    private static void StartResendListener()
    {
        if (Volatile.Read(ref _resendListener) is not null)
        {
            return;
        }

        lock (ResendListenerGate)
        {
            if (_resendListener is null)
            {
                var started = CreateResendListener();
                ActivitySource.AddActivityListener(started);
                Volatile.Write(ref _resendListener, started);
            }
        }
    }

    private static ActivityListener CreateResendListener()
    {
        return new ActivityListener
        {
            ShouldListenTo = static source => source.Name == "System.Net.Http",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.None,
            ActivityStarted = static attempt =>
            {
                if (attempt.Parent is { } parent && parent.Source == Source && parent.GetCustomProperty(AttemptProperty) is int number && number > 1)
                {
                    attempt.SetTag("http.request.resend_count", number - 1);
                }
            },
        };
    }
}
