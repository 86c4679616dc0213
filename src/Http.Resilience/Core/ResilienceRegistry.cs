using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Http.Resilience;

/// <summary>
/// The singleton that holds every piece of state that must outlive a handler chain. IHttpClientFactory recycles
/// handlers (every 2 minutes by default), so handlers keep nothing long-lived themselves: they look their client up here.
/// </summary>
/// <remarks>
/// Circuits and bulkheads are kept per client, and per authority where per-authority is on. The per-authority ones live in
/// an <see cref="AuthorityMap{T}"/> of their client, which evicts idle ones past
/// <see cref="CircuitBreakerOptions.MaxAuthorities"/> and <see cref="BulkheadOptions.MaxAuthorities"/>.
/// </remarks>
internal sealed class ResilienceRegistry : IHttpResilienceMonitor, IDisposable
{
    private readonly ConcurrentDictionary<string, ClientResilienceState> _clients = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CircuitStateController> _circuits = new(StringComparer.Ordinal); // client-wide ones
    private readonly ConcurrentDictionary<string, BulkheadState> _bulkheads = new(StringComparer.Ordinal); // client-wide ones
    private readonly ConcurrentDictionary<string, RateLimitState> _rateLimits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StaleResponseCache> _staleCaches = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FaultRandom> _faultRandoms = new(StringComparer.Ordinal);
    private readonly Action<OnCircuitStateChangedArguments> _raiseCircuitStateChanged;

    public ResilienceRegistry(TimeProvider timeProvider, IMeterFactory? meterFactory = null, ILoggerFactory? loggerFactory = null)
    {
        TimeProvider = timeProvider;
        _raiseCircuitStateChanged = RaiseCircuitStateChanged;
        Logger = loggerFactory?.CreateLogger(Log.CategoryName) ?? NullLogger.Instance;
        Metrics = meterFactory is null ? null : new HttpResilienceMetrics(meterFactory, this);
    }

    /// <summary>Gets the chain's logger (category <c>Http.Resilience</c>).</summary>
    public ILogger Logger { get; }

    /// <summary>Gets the chain's instruments, or <see langword="null"/> when no <see cref="IMeterFactory"/> is registered.</summary>
    public HttpResilienceMetrics? Metrics { get; }

    /// <inheritdoc />
    public event EventHandler<OnCircuitStateChangedArguments>? CircuitStateChanged;

    public TimeProvider TimeProvider { get; }

    /// <summary>Gets or sets the source of backoff and break jitter: values in [0, 1). Tests pin it; production uses <see cref="Random.Shared"/>.</summary>
    public Func<double> Jitter { get; set; } = static () => Random.Shared.NextDouble();

    /// <summary>Draws from <see cref="Jitter"/> as it is now (tests may replace it after the circuits exist).</summary>
    public double NextJitter() => Jitter();

    /// <summary>Gets or sets the source of adaptive throttling's draws: values in [0, 1).</summary>
    public Func<double> ThrottleRandom { get; set; } = static () => Random.Shared.NextDouble();

    /// <summary>
    /// Gets the client's options: the current ones, or, when a reload made them invalid, the last valid ones. Only a client
    /// that never had valid options fails (so start-up fails hard, and a bad reload breaks nothing).
    /// </summary>
    /// <remarks>
    /// A rejected configuration is logged once (as an error, with the validation message), shown by the
    /// <c>http.resilience.configuration.rejected</c> gauge and the dependency health check, and tried again when the
    /// configuration changes, or after a second (a reload that bypasses change tokens), so the next valid one applies.
    /// </remarks>
    public HttpResilienceOptions GetOptions(ClientResilienceState client, IOptionsMonitor<HttpResilienceOptions> monitor)
    {
        if (client.Rejection is { } rejection && TimeProvider.GetTimestamp() < rejection.RetryAt)
        {
            return client.LastValidOptions!;
        }

        HttpResilienceOptions options;
        try
        {
            options = monitor.Get(client.Name);
        }
        catch (OptionsValidationException ex) when (client.LastValidOptions is { } lastValid)
        {
            if (client.Reject(ex.Message, TimeProvider.GetTimestamp() + TimeProvider.TimestampFrequency))
            {
                Log.ConfigurationRejected(Logger, client.Name, ex.Message);
            }

            return lastValid;
        }

        if (!ReferenceEquals(options, client.LastValidOptions) && client.Accept(options) is not null)
        {
            Log.ConfigurationAccepted(Logger, client.Name);
        }

        return options;
    }

    /// <summary>Gets every client's long-lived state.</summary>
    public IEnumerable<ClientResilienceState> Clients => _clients.Values;

    /// <summary>Gets the clients running on their last valid options, with the configuration that was rejected.</summary>
    public IEnumerable<(string ClientName, string Message)> GetRejectedConfigurations()
    {
        foreach (var client in _clients.Values)
        {
            if (client.Rejection is { } rejection)
            {
                yield return (client.Name, rejection.Message);
            }
        }
    }

    public ClientResilienceState GetOrAdd(string clientName)
        => _clients.GetOrAdd(clientName, static name => new ClientResilienceState(name));

    public CircuitStateController GetOrAddCircuit(string clientName, string? authority)
        => authority is null
            ? _circuits.GetOrAdd(clientName, static (name, registry) => new CircuitStateController(name, null, registry.TimeProvider, registry._raiseCircuitStateChanged, registry.NextJitter), this)
            : GetOrAddCircuit(GetOrAdd(clientName), authority);

    /// <summary>The client's circuit (or one authority's): the client-wide one is kept on the client, not looked up per request.</summary>
    public CircuitStateController GetOrAddCircuit(ClientResilienceState client, string? authority, int maxAuthorities = HttpResilienceDefaults.MaxAuthorities)
        => authority is null
            ? client.Circuit ??= GetOrAddCircuit(client.Name, null)
            : client.AuthorityCircuits.GetOrAdd(
                authority,
                maxAuthorities,
                static (authority, state) => new CircuitStateController(state.Client.Name, authority, state.Registry.TimeProvider, state.Registry._raiseCircuitStateChanged, state.Registry.NextJitter),
                (Client: client, Registry: this));

    /// <summary>The client's bulkhead (or one authority's): the client-wide one is kept on the client, not looked up per request.</summary>
    public BulkheadState GetOrAddBulkhead(ClientResilienceState client, string? authority, BulkheadOptions options)
        => authority is null
            ? client.Bulkhead ??= GetOrAddBulkhead(client.Name, null, options)
            : client.AuthorityBulkheads.GetOrAdd(
                authority,
                options.MaxAuthorities,
                static (authority, state) => new BulkheadState(state.Client.Name, authority, state.Options),
                (Client: client, Options: options));

    public BulkheadState GetOrAddBulkhead(string clientName, string? authority, BulkheadOptions options)
        => authority is null
            ? _bulkheads.GetOrAdd(clientName, static (name, options) => new BulkheadState(name, null, options), options)
            : GetOrAddBulkhead(GetOrAdd(clientName), authority, options);

    public RateLimitState GetOrAddRateLimit(string clientName)
        => _rateLimits.GetOrAdd(clientName, static _ => new RateLimitState());

    public StaleResponseCache GetOrAddStaleCache(string clientName)
        => _staleCaches.GetOrAdd(clientName, static _ => new StaleResponseCache());

    /// <summary>The client's fault-injection random source; a changed seed (on reload) starts a new sequence.</summary>
    public FaultRandom GetOrAddFaultRandom(string clientName, int? seed)
    {
        var current = _faultRandoms.GetOrAdd(clientName, static (_, seed) => new FaultRandom(seed), seed);
        if (current.Seed == seed)
        {
            return current;
        }

        var fresh = new FaultRandom(seed);
        return _faultRandoms.TryUpdate(clientName, fresh, current) ? fresh : _faultRandoms[clientName];
    }

    /// <inheritdoc />
    public IReadOnlyList<CircuitBreakerSnapshot> GetCircuitBreakers()
    {
        var result = new List<CircuitBreakerSnapshot>(_circuits.Count);
        foreach (var circuit in _circuits.Values)
        {
            result.Add(Snapshot(circuit));
        }

        foreach (var client in _clients.Values)
        {
            foreach (var circuit in client.AuthorityCircuits.Values)
            {
                result.Add(Snapshot(circuit));
            }
        }

        return result;

        static CircuitBreakerSnapshot Snapshot(CircuitStateController circuit)
        {
            var health = circuit.GetHealth();
            var current = circuit.Break;
            return new CircuitBreakerSnapshot(circuit.ClientName, circuit.Authority, circuit.State, circuit.RetryAfter, health.Requests, health.Failures)
            {
                BreakDuration = current?.Length,
                BreakReason = current?.Cause,
                RampLimit = circuit.Ramp?.CurrentLimit,
            };
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<BulkheadSnapshot> GetBulkheads()
    {
        var result = new List<BulkheadSnapshot>(_bulkheads.Count);
        foreach (var bulkhead in _bulkheads.Values)
        {
            result.Add(bulkhead.GetSnapshot());
        }

        foreach (var client in _clients.Values)
        {
            foreach (var bulkhead in client.AuthorityBulkheads.Values)
            {
                result.Add(bulkhead.GetSnapshot());
            }
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var rateLimit in _rateLimits.Values)
        {
            rateLimit.Dispose();
        }
    }

    private void RaiseCircuitStateChanged(OnCircuitStateChangedArguments args)
    {
        var authority = Log.FormatAuthority(args.Authority);
        switch (args.State)
        {
            case CircuitState.Open:
                Metrics?.RecordCircuitTrip(args.ClientName, args.Authority);
                Log.CircuitOpened(Logger, args.ClientName, authority, args.BreakDuration, TimeProvider.GetUtcNow() + args.BreakDuration, args.FailureCount, args.RequestCount, args.FailureRatio, args.Reason);
                break;
            case CircuitState.HalfOpen:
                Log.CircuitHalfOpened(Logger, args.ClientName, authority, args.Reason);
                break;
            default:
                Log.CircuitClosed(Logger, args.ClientName, authority, args.Reason);
                break;
        }

        var handlers = CircuitStateChanged;
        if (handlers is null)
        {
            return;
        }

        foreach (EventHandler<OnCircuitStateChangedArguments> handler in handlers.GetInvocationList())
        {
            try
            {
                handler(this, args);
            }
            catch (Exception)
            {
                // A subscriber's bug must not break the request that happened to change the state.
            }
        }
    }
}
