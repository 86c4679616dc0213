using System.Diagnostics;
using System.Globalization;

namespace Http.Resilience;

/// <summary>
/// The state machine of one circuit: closed, open, half-open. It lives in the registry, so it outlives handler chains
/// and options reloads.
/// </summary>
/// <remarks>
/// <para>
/// Closed: every logical request's outcome goes into a <see cref="RollingHealthWindow"/>. After an outcome, when the window
/// holds at least <c>MinimumThroughput</c> requests and <c>failures / requests &gt;= FailureRatio</c>, the circuit opens.
/// </para>
/// <para>
/// Open: requests are rejected with the time left until the break ends. The first request after that moment
/// moves the circuit to half-open and becomes the probe; every other request is rejected while the probe is in flight.
/// The probe's success closes the circuit, clears the window and starts the <see cref="RecoveryRamp"/>; anything else
/// (failure, timeout, deadline, the caller cancelling it) opens it for another break. The break adapts: the first is
/// <c>BreakDuration</c>, each failed probe doubles the next up to <c>MaxBreakDuration</c>, and a success starts again from
/// the first; each lasts between half its length and all of it (equal jitter, so that many clients do not probe in
/// lockstep). When the response that opened the circuit names a wait (a 429 or 503 with <c>Retry-After</c> or the
/// rate-limit headers), the break lasts until that instant instead, spread over up to half as long again, within
/// <c>MaxBreakDuration</c>. With <c>MaxBreakDuration</c> equal to <c>BreakDuration</c> every break is exactly that long.
/// A probe that has not answered within a whole break (or within its own budget, if that ends sooner) is abandoned: the
/// next request becomes a new probe, and the old probe's late outcome is ignored (a generation number tells them apart).
/// So a dependency that hangs keeps the circuit shut for about one break, not for a probe's whole deadline, and the
/// circuit can never stay half-open forever. At most <see cref="MaxProbesOut"/> probes are ever out at once (a hung one
/// and the one that took over): while that many are, every request is rejected, so a broken dependency never gets more
/// than two requests from a half-open circuit.
/// </para>
/// <para>
/// Concurrency: every transition and every window update happens under one lock per circuit, so the window's totals and
/// the single-probe rule hold under any number of concurrent callers. State-change events are raised after the lock is
/// released. Outcomes of requests admitted before the circuit last opened are not counted (a generation number tells
/// them apart), so a slow request from before an outage never pollutes the window of the recovered circuit.
/// </para>
/// </remarks>
internal sealed class CircuitStateController : AuthorityState
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _timeProvider;
    private readonly long _origin;
    private readonly Action<OnCircuitStateChangedArguments>? _onStateChanged;
    private readonly Func<double> _jitter;
    private RollingHealthWindow? _window;
    private CircuitState _state = CircuitState.Closed;

    // Mirrors _state == Closed for the lock-free way in (see TryEnter); written under the lock with _state.
    private volatile bool _closed = true;
    private TimeSpan _blockedUntil;
    private TimeSpan _probeExpiresAt;
    private bool _probeInFlight;
    private int _probesOut; // probes sent and not yet completed, abandoned ones included
    private long _generation;
    private int _failedProbes; // since the circuit last closed: the exponent of the next break
    private TimeSpan _break; // the current (or last) break
    private string? _breakCause;
    private RecoveryRamp? _ramp;

    /// <summary>The most probes out at once: a hung probe and the one that took over from it.</summary>
    public const int MaxProbesOut = 2;

    /// <param name="clientName">The client's name.</param>
    /// <param name="authority">The authority of a per-authority circuit, else <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock of breaks and ramps.</param>
    /// <param name="onStateChanged">Called after each state change, outside the lock.</param>
    /// <param name="jitter">A uniform random number in [0, 1) per call: where in its jittered range a break ends.</param>
    public CircuitStateController(string clientName, string? authority, TimeProvider timeProvider, Action<OnCircuitStateChangedArguments>? onStateChanged, Func<double> jitter)
    {
        _jitter = jitter;
        ClientName = clientName;
        Authority = authority;
        _timeProvider = timeProvider;
        _origin = timeProvider.GetTimestamp();
        _onStateChanged = onStateChanged;
    }

    public string ClientName { get; }

    /// <summary>The retry budget of this circuit's authority, when circuits are per authority (see <see cref="ReloadableState.GetOrCreate"/>).</summary>
#pragma warning disable SA1401 // a field, so that ReloadableState.GetOrCreate can swap it with one compare-and-swap
    public RetryBudget? RetryBudget;
#pragma warning restore SA1401

    public string? Authority { get; }

    /// <summary>Gets the state as a health check should see it: open turns half-open once the break is over.</summary>
    public CircuitState State
    {
        get
        {
            lock (_lock)
            {
                return _state == CircuitState.Open && Now >= _blockedUntil ? CircuitState.HalfOpen : _state;
            }
        }
    }

    /// <summary>Gets the time until a probe is allowed, when the circuit is open; else <see langword="null"/>.</summary>
    public TimeSpan? RetryAfter
    {
        get
        {
            lock (_lock)
            {
                return _state == CircuitState.Open && _blockedUntil > Now ? _blockedUntil - Now : null;
            }
        }
    }

    /// <summary>Gets the ramp after the last close, or <see langword="null"/> before the first; see <see cref="RecoveryRamp.IsActive"/>.</summary>
    public RecoveryRamp? Ramp => Volatile.Read(ref _ramp);

    /// <summary>Gets the current break, while the circuit is open or half-open: its length, why it is that long, and the time until the next probe.</summary>
    public (TimeSpan Length, string Cause, TimeSpan NextProbeIn)? Break
    {
        get
        {
            lock (_lock)
            {
                if (_state == CircuitState.Closed || _breakCause is null)
                {
                    return null;
                }

                var left = _blockedUntil - Now;
                return (_break, _breakCause, left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
        }
    }

    private TimeSpan Now => _timeProvider.GetElapsedTime(_origin);

    /// <param name="options">The options of the request asking.</param>
    /// <param name="probeLease">How long this request may hold the probe, if it becomes the probe, before the next request
    /// may take over: its own budget (the circuit takes the smaller of it and the break).</param>
    public CircuitPermit TryEnter(CircuitBreakerOptions options, TimeSpan probeLease)
        => TryEnter(options, static lease => lease, probeLease);

    /// <param name="options">The options of the request asking.</param>
    /// <param name="probeLease">Works out the probe lease from <paramref name="state"/>, only when this request becomes the probe.</param>
    /// <param name="state">What <paramref name="probeLease"/> needs.</param>
    public CircuitPermit TryEnter<TState>(CircuitBreakerOptions options, Func<TState, TimeSpan> probeLease, TState state)
    {
        // The common case takes no lock and reads no clock. The generation is read before the flag: generations only
        // grow, so the permit carries the current closed period's generation or an older one, never a later one (a
        // half-open probe's, say), and Complete only counts permits of the current closed generation.
        var generation = Volatile.Read(ref _generation);
        if (_closed)
        {
            return new(CircuitPermitKind.Normal, generation, null);
        }

        OnCircuitStateChangedArguments? change = null;
        CircuitPermit permit;
        lock (_lock)
        {
            if (_state == CircuitState.Closed)
            {
                return new(CircuitPermitKind.Normal, _generation, null);
            }

            var now = Now;
            switch (_state)
            {
                case CircuitState.Open when now < _blockedUntil:
                    permit = new(CircuitPermitKind.Rejected, _generation, _blockedUntil - now);
                    break;
                case CircuitState.Open:
                    change = Transition_NeedsLock(CircuitState.HalfOpen, "the break duration is over; letting one probe through", now, null);
                    permit = StartProbe_NeedsLock(options, now, probeLease(state));
                    break;
                default: // half-open
                    if (_probeInFlight && (now < _probeExpiresAt || _probesOut >= MaxProbesOut))
                    {
                        permit = new(CircuitPermitKind.Rejected, _generation, null);
                    }
                    else
                    {
                        permit = StartProbe_NeedsLock(options, now, probeLease(state)); // the previous probe did not answer in time: take over
                    }

                    break;
            }
        }

        Raise(change);
        return permit;
    }

    /// <summary>Records how the request that held <paramref name="permit"/> ended.</summary>
    /// <param name="permit">What the request got on its way in.</param>
    /// <param name="outcome">How it ended.</param>
    /// <param name="options">The options of the request.</param>
    /// <param name="serverWait">The wait its response named (a 429 or 503 with <c>Retry-After</c> or the rate-limit headers), if any.</param>
    public void Complete(CircuitPermit permit, CircuitOutcome outcome, CircuitBreakerOptions options, TimeSpan? serverWait = null)
    {
        Debug.Assert(permit.Kind != CircuitPermitKind.Rejected, "Rejected requests hold nothing to give back.");
        OnCircuitStateChangedArguments? change = null;
        lock (_lock)
        {
            var now = Now;
            if (permit.Kind == CircuitPermitKind.Probe)
            {
                _probesOut--;
                Debug.Assert(_probesOut >= 0, "Every probe completes once.");
                if (permit.Generation != _generation || _state != CircuitState.HalfOpen)
                {
                    return; // an abandoned probe: a newer one owns the circuit
                }

                _probeInFlight = false;
                if (outcome == CircuitOutcome.Success)
                {
                    Window_NeedsLock(options).Reset();
                    _failedProbes = 0;
                    if (options.RampUp > TimeSpan.Zero)
                    {
                        var ramp = _ramp ?? Interlocked.CompareExchange(ref _ramp, new RecoveryRamp(_timeProvider), null) ?? _ramp!;
                        ramp.Start(_timeProvider.GetTimestamp());
                    }

                    change = Transition_NeedsLock(CircuitState.Closed, "the probe succeeded", now, null);
                }
                else
                {
                    var reason = outcome == CircuitOutcome.Failure ? "the probe failed" : "the probe did not complete (cancelled or unjudged)";
                    _failedProbes++;
                    change = Open_NeedsLock(options, now, reason, serverWait);
                }
            }
            else if (_state == CircuitState.Closed && outcome != CircuitOutcome.Ignored && permit.Generation == _generation)
            {
                var window = Window_NeedsLock(options);
                window.Record(now, outcome == CircuitOutcome.Failure);
                if (outcome == CircuitOutcome.Failure)
                {
                    var health = window.GetHealth(now);
                    if (health.Requests >= options.MinimumThroughput && health.FailureRatio >= options.FailureRatio)
                    {
                        var reason = string.Create(
                            CultureInfo.InvariantCulture,
                            $"failure ratio {health.FailureRatio:0.00} >= {options.FailureRatio:0.00} over {health.Requests} requests in {options.SamplingDuration}");
                        change = Open_NeedsLock(options, now, reason, serverWait);
                    }
                }
            }
        }

        Raise(change);
    }

    /// <summary>A closed circuit may be forgotten; an open or half-open one knows the dependency is broken and must stay.</summary>
    public override bool TryRetire() => _closed;

    /// <summary>Gets the window's current totals (for snapshots and tests).</summary>
    public HealthInfo GetHealth()
    {
        lock (_lock)
        {
            return _window?.GetHealth(Now) ?? default;
        }
    }

    private CircuitPermit StartProbe_NeedsLock(CircuitBreakerOptions options, TimeSpan now, TimeSpan lease)
    {
        _generation++;
        _probeInFlight = true;
        _probesOut++;
        var hold = _break > options.BreakDuration ? _break : options.BreakDuration; // a zero break the server named still gets one lease
        _probeExpiresAt = now + TimeMath.Min(hold, lease);
        return new(CircuitPermitKind.Probe, _generation, null);
    }

    private OnCircuitStateChangedArguments Open_NeedsLock(CircuitBreakerOptions options, TimeSpan now, string reason, TimeSpan? serverWait)
    {
        _break = NextBreak_NeedsLock(options, serverWait, out _breakCause);
        _blockedUntil = now + _break;
        _probeInFlight = false;
        _generation++;
        return Transition_NeedsLock(CircuitState.Open, $"{reason}; {_breakCause}", now, _break);
    }

    /// <summary>
    /// The next break: until the instant the server named, when it named one; else the first break doubled for each probe
    /// that failed since the circuit last closed. Both within <c>MaxBreakDuration</c>, both jittered.
    /// </summary>
    private TimeSpan NextBreak_NeedsLock(CircuitBreakerOptions options, TimeSpan? serverWait, out string cause)
    {
        var first = options.BreakDuration;
        var max = options.MaxBreakDuration < first ? first : options.MaxBreakDuration; // validated; a direct caller may not be
        if (serverWait is { } wait)
        {
            // Never before the instant the server named (unless that is past the longest break), spread over up to half
            // as long again, so the clients it answered do not all come back at that instant.
            var named = wait < max ? wait : max;
            var spread = TimeSpan.FromTicks((long)(Math.Min(named.Ticks / 2, (max - named).Ticks) * _jitter()));
            cause = string.Create(CultureInfo.InvariantCulture, $"the server named a wait of {wait.TotalSeconds:0.###} s");
            return named + spread;
        }

        var doubled = Math.Min(max.Ticks, first.Ticks * Math.Pow(2, Math.Min(_failedProbes, 62)));
        var length = TimeSpan.FromTicks((long)doubled);
        cause = _failedProbes == 0
            ? "first break"
            : string.Create(CultureInfo.InvariantCulture, $"break doubled after {_failedProbes} failed probe(s)");
        if (max == first)
        {
            return first; // a fixed break, as asked
        }

        // Equal jitter: half of the break is fixed, the other half random.
        return TimeSpan.FromTicks((length.Ticks / 2) + (long)(length.Ticks / 2 * _jitter()));
    }

    private OnCircuitStateChangedArguments Transition_NeedsLock(CircuitState to, string reason, TimeSpan now, TimeSpan? breakDuration)
    {
        var from = _state;
        _state = to;
        _closed = to == CircuitState.Closed;
        var health = _window?.GetHealth(now) ?? default;
        return new OnCircuitStateChangedArguments(ClientName, Authority, from, to, reason, health.Requests, health.Failures, breakDuration);
    }

    /// <summary>The window for the current options: a reload that changes the sampling duration starts a fresh one.</summary>
    private RollingHealthWindow Window_NeedsLock(CircuitBreakerOptions options)
    {
        if (_window is null || _window.SamplingDuration != options.SamplingDuration)
        {
            _window = new RollingHealthWindow(options.SamplingDuration);
        }

        return _window;
    }

    private void Raise(OnCircuitStateChangedArguments? change)
    {
        if (change is { } args && _onStateChanged is { } handler)
        {
            handler(args);
        }
    }
}
