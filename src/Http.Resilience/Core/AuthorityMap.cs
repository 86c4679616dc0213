using System.Collections.Concurrent;

namespace Http.Resilience;

/// <summary>The per-authority circuits or bulkheads of one client, bounded in number.</summary>
/// <remarks>
/// <para>
/// A client that calls many hosts (a webhook sender, say) would otherwise keep state for every host it ever reached.
/// The map keeps at most about <c>maxAuthorities</c> entries: once it holds a quarter more than that, the request that
/// adds one sweeps it (a "second chance" sweep: an entry used since the last sweep has its mark cleared and stays; one
/// that was not is retired and removed). Entries that must stay are never removed: an open or half-open circuit (the
/// dependency is known broken: forgetting it would send it traffic again) and a bulkhead with requests in flight or queued
/// (forgetting it would let a second bulkhead admit past the limit). A sweep runs at most once per quarter of the cap of
/// additions, so its cost is spread thin; a request to a known authority pays only a dictionary lookup and a mark.
/// </para>
/// <para>
/// A request that looked its state up just as it was evicted reports to the evicted one: for a circuit, that loses one
/// sample of a closed, idle circuit; a bulkhead checks, and the request takes a permit of the current one instead.
/// </para>
/// </remarks>
internal sealed class AuthorityMap<T>
    where T : AuthorityState
{
    private readonly ConcurrentDictionary<string, T> _entries = new(StringComparer.Ordinal);
    private readonly Lock _sweepLock = new();
    private int _count;
    private int _sweepAt;

    public int Count => Volatile.Read(ref _count);

    public IEnumerable<T> Values => _entries.Values;

    public T GetOrAdd<TArg>(string authority, int maxAuthorities, Func<string, TArg, T> create, TArg argument)
    {
        if (_entries.TryGetValue(authority, out var existing))
        {
            existing.MarkUsed();
            return existing;
        }

        var created = create(authority, argument);
        created.MarkUsed(); // a new entry survives one sweep: its first request may still be in flight
        var winner = _entries.GetOrAdd(authority, created);
        if (!ReferenceEquals(winner, created))
        {
            winner.MarkUsed();
            return winner;
        }

        var count = Interlocked.Increment(ref _count);
        if (count > Threshold(maxAuthorities) && count > Volatile.Read(ref _sweepAt))
        {
            Sweep(maxAuthorities);
        }

        return created;
    }

    private static int Threshold(int maxAuthorities) => maxAuthorities + Slack(maxAuthorities);

    private static int Slack(int maxAuthorities) => Math.Max(maxAuthorities / 4, 1);

    private void Sweep(int maxAuthorities)
    {
        if (!_sweepLock.TryEnter())
        {
            return; // another request is sweeping
        }

        try
        {
            foreach (var (authority, state) in _entries)
            {
                if (state.ClearUsed() || !state.TryRetire())
                {
                    continue;
                }

                if (_entries.TryRemove(new KeyValuePair<string, T>(authority, state)))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            // When what stays is still over the cap (all of it used, or unevictable), the next sweep waits for another
            // quarter of the cap of additions: sweeping on every addition would cost a pass over the map per request.
            Volatile.Write(ref _sweepAt, Count + Slack(maxAuthorities));
        }
        finally
        {
            _sweepLock.Exit();
        }
    }
}
