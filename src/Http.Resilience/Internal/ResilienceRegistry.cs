using System.Collections.Concurrent;

namespace Http.Resilience;

/// <summary>
/// The singleton that holds every piece of state that must outlive a handler chain. IHttpClientFactory recycles
/// handlers (every 2 minutes by default), so handlers keep nothing long-lived themselves: they look their client up here.
/// </summary>
internal sealed class ResilienceRegistry
{
    private readonly ConcurrentDictionary<string, ClientResilienceState> _clients = new(StringComparer.Ordinal);

    /// <summary>Gets or sets the source of backoff jitter: values in [0, 1). Tests pin it; production uses <see cref="Random.Shared"/>.</summary>
    public Func<double> Jitter { get; set; } = static () => Random.Shared.NextDouble();

    public ClientResilienceState GetOrAdd(string clientName)
        => _clients.GetOrAdd(clientName, static name => new ClientResilienceState(name));

    public bool TryGet(string clientName, out ClientResilienceState? state) => _clients.TryGetValue(clientName, out state);
}

/// <summary>Long-lived state of one named client. Later layers (circuits, bulkheads) keep theirs here too.</summary>
internal sealed class ClientResilienceState
{
    private long _httpClientTimeoutTicks = Timeout.InfiniteTimeSpan.Ticks;

    public ClientResilienceState(string name)
    {
        Name = name;
    }

    public string Name { get; }

    /// <summary>
    /// Gets or sets the <see cref="HttpClient.Timeout"/> the user configured for this client, or infinite when they left
    /// the default. The chain owns timeouts, so it moves that value into the deadline (see <see cref="HttpResilienceOptions.Deadline"/>).
    /// </summary>
    public TimeSpan HttpClientTimeout
    {
        get => TimeSpan.FromTicks(Volatile.Read(ref _httpClientTimeoutTicks));
        set => Volatile.Write(ref _httpClientTimeoutTicks, value.Ticks);
    }
}
