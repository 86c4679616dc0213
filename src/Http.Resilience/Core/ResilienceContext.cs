using System.Diagnostics;

namespace Http.Resilience;

/// <summary>
/// The state of one logical request, created by <see cref="DeadlineHandler"/> and handed to every inner layer (as an
/// argument; see <see cref="ResilienceHandler"/>): the options snapshot, the budget and the caller's own token.
/// </summary>
/// <remarks>
/// Budget arithmetic: the budget starts when the request enters the chain (a monotonic timestamp from the
/// <see cref="TimeProvider"/>); <see cref="Remaining"/> is the effective deadline minus the time elapsed since, never negative.
/// The effective deadline is the smallest of <see cref="HttpResilienceOptions.Deadline"/> (or the request's own), a user-set <see cref="HttpClient.Timeout"/>
/// and the time left of an <see cref="InheritedDeadline"/> (the request being served, when deadlines propagate across hops).
/// Contexts are reused (<see cref="Rent"/>, <see cref="Return"/>): once its request is over nothing holds a context, unless
/// it was published in the request's options, and a published one is never reused.
/// </remarks>
internal sealed class ResilienceContext
{
    public static readonly HttpRequestOptionsKey<ResilienceContext> Key = new("Http.Resilience.Context");

    [ThreadStatic]
    private static ResilienceContext? t_spare;

    private long _startTimestamp;
    private HttpResponseMessage? _waitRead; // the response whose named wait _serverWait holds
    private TimeSpan? _serverWait;
    private string? _authority;
    private bool _authorityRead;
    private bool _kept;
    private TimeSpan? _requestDeadline; // the settings the request asked for (RequestOverrides), read when it entered the chain
    private bool _idempotent;
    private bool _fallbackOff;
    private bool _hedgingOff;
    private bool _responseBufferingOff;

    private ResilienceContext()
    {
        Client = null!;
        ClientName = null!;
        Options = null!;
        TimeProvider = null!;
    }

    /// <summary>Gets the long-lived state of the client (in the registry).</summary>
    public ClientResilienceState Client { get; private set; }

    public string ClientName { get; private set; }

    /// <summary>Gets the options snapshot taken when the request entered the chain: one per request, even across a reload.</summary>
    public HttpResilienceOptions Options { get; private set; }

    public TimeProvider TimeProvider { get; private set; }

    /// <summary>Gets the effective budget of this request.</summary>
    public TimeSpan Deadline { get; private set; }

    /// <summary>Gets the token the caller passed in: when it fires, the caller cancelled; anything else is ours.</summary>
    public CancellationToken CallerToken { get; private set; }

    /// <summary>
    /// Gets a value indicating whether the caller cancelled this request. Once it has, the caller's cancellation is the
    /// outcome whatever else happened: no layer retries or serves a fallback, and a response in hand is disposed.
    /// </summary>
    public bool CallerCancelled => CallerToken.IsCancellationRequested;

    /// <summary>Gets a value indicating whether the context was put in the request's options, where others may still read it.</summary>
    public bool Published { get; private set; }

    /// <summary>Starts the context of a new request: a spare one of this thread's, or a new one. The budget starts now.</summary>
    /// <param name="client">The client's long-lived state.</param>
    /// <param name="options">The client's options snapshot.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="deadline">The request's effective budget.</param>
    /// <param name="callerToken">The caller's token.</param>
    /// <param name="overrides">The settings the request asked for in place of its client's, if any.</param>
    public static ResilienceContext Rent(
        ClientResilienceState client, HttpResilienceOptions options, TimeProvider timeProvider, TimeSpan deadline, CancellationToken callerToken, RequestOverrides? overrides = null)
    {
        Debug.Assert(deadline > TimeSpan.Zero || TimeMath.IsInfinite(deadline), "Deadlines are validated.");
        var context = t_spare ?? new ResilienceContext();
        t_spare = null;
        context.Client = client;
        context.ClientName = client.Name;
        context.Options = options;
        context.TimeProvider = timeProvider;
        context.Deadline = deadline;
        context.CallerToken = callerToken;
        context.AttemptTimeout = options.AttemptTimeout;
        context.MaxRetries = options.Retry is { Enabled: true } retry ? retry.MaxRetries : 0;
        if (overrides is not null)
        {
            // Read once, as the options are: a setting changed while the request is in flight does not apply to it.
            context.AttemptTimeout = overrides.AttemptTimeout ?? context.AttemptTimeout;
            context.MaxRetries = Math.Min(context.MaxRetries, overrides.MaxRetries ?? int.MaxValue);
            context._requestDeadline = overrides.Deadline;
            context._idempotent = overrides.Idempotent;
            context._fallbackOff = overrides.FallbackOff;
            context._hedgingOff = overrides.HedgingOff || overrides.MaxRetries == 0;
            context._responseBufferingOff = overrides.ResponseBufferingOff;
        }

        context._startTimestamp = timeProvider.GetTimestamp();
        return context;
    }

    /// <summary>
    /// Gives the context back once its request is over (every layer has returned). A published one is left to the
    /// garbage collector: a handler that is not ours may still hold the request, and with it the context.
    /// </summary>
    public void Return()
    {
        if (Activity is { } activity)
        {
            // The request is over: what its span says about it, read before the context is cleared.
            activity.SetTag("http.resilience.attempts", Attempts);
            var left = Remaining;
            activity.SetTag("http.resilience.time_left", TimeMath.IsInfinite(left) ? double.PositiveInfinity : left.TotalSeconds);
            Activity = null;
        }

        if (Published || _kept)
        {
            return;
        }

        Client = null!;
        ClientName = null!;
        Options = null!;
        TimeProvider = null!;
        CallerToken = default;
        Attempts = 0;
        Circuit = null;
        CircuitPermit = default;
        InnermostTask = null;
        _waitRead = null;
        _serverWait = null;
        _authority = null;
        _authorityRead = false;
        ContentReplayable = false;
        _requestDeadline = null;
        _idempotent = false;
        _fallbackOff = false;
        _hedgingOff = false;
        _responseBufferingOff = false;
        t_spare = this;
    }

    /// <summary>Puts the context in the request's options, for our layers below a handler that is not ours.</summary>
    public void Publish(HttpRequestMessage request)
    {
        Published = true;
        request.Options.Set(Key, this);
    }

    /// <summary>
    /// Keeps the context from being reused once its request is over: a layer left work running that may still read it
    /// (hedged copies being cancelled). The garbage collector has it when that work ends.
    /// </summary>
    public void KeepAfterReturn() => _kept = true;

    /// <summary>Gets or sets a value indicating whether the request's body is known to be replayable (buffered if it had to be).</summary>
    public bool ContentReplayable { get; set; }

    /// <summary>Gets or sets the span of this logical request, when someone listens to the chain's traces.</summary>
    public Activity? Activity { get; set; }

    /// <summary>Adds a decision of the chain to this request's span, if it has one.</summary>
    public void AddEvent(string name, params ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Activity is { } activity)
        {
            ResilienceActivity.AddEvent(activity, name, tags);
        }
    }

    /// <summary>Gets the most attempts this request may make (for logs).</summary>
    public int MaxAttempts => MaxRetries + 1;

    /// <summary>Gets the most retries this request may make: none when the client's retries are off, else the client's count, or the request's own when lower.</summary>
    public int MaxRetries { get; private set; }

    /// <summary>Gets the timeout of each attempt of this request: its own setting, else the client's.</summary>
    public TimeSpan AttemptTimeout { get; private set; }

    /// <summary>Gets the client's fallback options when they apply to this request (on, and not skipped by it), else <see langword="null"/>.</summary>
    public FallbackOptions? Fallback => !_fallbackOff && Options.Fallback is { Enabled: true } fallback ? fallback : null;

    /// <summary>Gets the client's hedging options when they apply to this request (on, and not turned off by it), else <see langword="null"/>.</summary>
    public HedgingOptions? Hedging => !_hedgingOff && Options.Hedging is { Enabled: true } hedging ? hedging : null;

    /// <summary>Gets the client's response buffering options when they apply to this request, else <see langword="null"/>.</summary>
    public ResponseBufferingOptions? ResponseBuffering => !_responseBufferingOff && Options.ResponseBuffering is { Enabled: true } buffering ? buffering : null;

    /// <summary>Whether <paramref name="request"/> may be sent more than once: what <see cref="OutcomeClassifier.IsRetryable(HttpRequestMessage, HttpResilienceOptions)"/> says, or the caller vouched for it.</summary>
    public bool MaySendTwice(HttpRequestMessage request) => _idempotent || OutcomeClassifier.IsRetryable(request, Options);

    /// <summary>Gets or sets the number of attempts sent so far.</summary>
    public int Attempts { get; set; }

    /// <summary>Gets or sets the circuit this request went through, if the circuit breaker is on.</summary>
    public CircuitStateController? Circuit { get; set; }

    /// <summary>Gets or sets the permit the circuit gave this request.</summary>
    public CircuitPermit CircuitPermit { get; set; }

    /// <summary>
    /// Gets or sets the task of the last handler not of ours that the chain called (normally the primary handler's). When
    /// the chain's response is that task's result, the outermost layer hands out that very task instead of a new one.
    /// </summary>
    public Task<HttpResponseMessage>? InnermostTask { get; set; }

    /// <summary>
    /// Gets a value indicating whether the circuit opened after this request got through it: the retry loop then stops
    /// and returns its last outcome. A probe never stops for this: it is what decides the circuit's state.
    /// </summary>
    public bool CircuitOpenedMeanwhile => Circuit is not null && CircuitPermit.Kind == CircuitPermitKind.Normal && Circuit.State != CircuitState.Closed;

    public TimeSpan Elapsed => TimeProvider.GetElapsedTime(_startTimestamp);

    /// <summary>Gets the timestamp (of <see cref="TimeProvider"/>) at which the request entered the chain.</summary>
    public long StartTimestamp => _startTimestamp;

    /// <summary>
    /// Gets the retry budget this request draws on: its authority's when circuits are per authority, else its client's.
    /// </summary>
    public RetryBudget GetRetryBudget(RetryBudgetOptions options)
        => Circuit is { Authority: not null } circuit
            ? ReloadableState.GetOrCreate(ref circuit.RetryBudget, options, TimeProvider)
            : ReloadableState.GetOrCreate(ref Client.RetryBudget, options, TimeProvider);

    /// <summary>Gets the budget left: infinite when there is no deadline, otherwise never negative.</summary>
    public TimeSpan Remaining => TimeMath.Remaining(Deadline, Elapsed);

    /// <summary>Gets the budget left at <paramref name="timestamp"/> (one the caller already read from <see cref="TimeProvider"/>).</summary>
    public TimeSpan RemainingAt(long timestamp) => TimeMath.Remaining(Deadline, TimeProvider.GetElapsedTime(_startTimestamp, timestamp));

    public bool IsExpired => Remaining == TimeSpan.Zero;

    /// <summary>The least budget a retry must still have after its delay to be worth sending.</summary>
    public static readonly TimeSpan MinimumRetryBudget = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Whether waiting <paramref name="delay"/> still leaves budget for a useful attempt: at least
    /// <see cref="MinimumRetryBudget"/> (or the whole attempt timeout, if shorter). A retry that could only end in
    /// <see cref="DeadlineExceededException"/> would throw away the response we already have.
    /// </summary>
    public bool HasTimeFor(TimeSpan delay)
    {
        var remaining = Remaining;
        return TimeMath.IsInfinite(remaining) || remaining - delay >= TimeMath.Min(MinimumRetryBudget, AttemptTimeout);
    }

    /// <summary>
    /// Gets the wait <paramref name="response"/> names, when it is a 429 or 503 with <c>Retry-After</c> or the rate-limit
    /// headers (see <see cref="RetryAfterParser"/>). The headers are read once per response and the result shared: the
    /// retry loop, the pushback gate and the circuit all ask about the same response, and all see the same wait.
    /// </summary>
    public bool TryGetServerWait(HttpResponseMessage response, out TimeSpan wait)
    {
        if (!ReferenceEquals(response, _waitRead))
        {
            _serverWait = response.StatusCode is System.Net.HttpStatusCode.TooManyRequests or System.Net.HttpStatusCode.ServiceUnavailable &&
                          RetryAfterParser.TryGetDelay(response, TimeProvider.GetUtcNow(), out var named)
                ? named
                : null;
            _waitRead = response;
        }

        wait = _serverWait.GetValueOrDefault();
        return _serverWait.HasValue;
    }

    /// <summary>
    /// Gets the authority (scheme, host, port) of <paramref name="request"/>, worked out once per logical request: the
    /// per-authority bulkhead, the circuit and the ramp in front of the bulkhead all key on it, and every attempt sends
    /// the same request.
    /// </summary>
    public string? AuthorityOf(HttpRequestMessage request)
    {
        if (!_authorityRead)
        {
            _authority = Authority.Of(request);
            _authorityRead = true;
        }

        return _authority;
    }

    public static ResilienceContext? Get(HttpRequestMessage request)
        => request.Options.TryGetValue(Key, out var context) ? context : null;

    public DeadlineExceededException CreateDeadlineExceeded(Exception? innerException)
        => new(
            $"The request of HttpClient '{ClientName}' did not complete within its deadline of '{Deadline}' " +
            $"(elapsed {Elapsed.TotalMilliseconds:F0} ms over {Attempts} attempt(s)).{DeadlineOrigin()}",
            Deadline,
            innerException);

    /// <summary>Says where the deadline came from when it is not the <see cref="HttpResilienceOptions.Deadline"/> option.</summary>
    private string DeadlineOrigin()
    {
        var asked = _requestDeadline is { } own ? $"the request's own deadline ('{own}')" : $"its Deadline option ('{Options.Deadline}')";
        if (Deadline == (_requestDeadline ?? Options.Deadline))
        {
            return _requestDeadline is null ? string.Empty : " The deadline is the request's own (SetResilienceDeadline).";
        }

        return Deadline == Client.HttpClientTimeout
            ? $" The deadline is the client's HttpClient.Timeout ('{Deadline}'), which is shorter than {asked}: leave HttpClient.Timeout at its default{(_requestDeadline is null ? " and set Deadline instead" : " (MaxRequestDeadline already allows the request's deadline)")}."
            : $" The deadline is the time that was left of the request being served (an inherited deadline), shorter than {asked}.";
    }
}
