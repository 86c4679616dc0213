namespace Http.Resilience;

/// <summary>The last good GET response per URL of one client, bounded in entries and bytes (least recently used go first).</summary>
/// <remarks>Lives in the registry, so it outlives handler rotation. All access is under one lock; entries are immutable.</remarks>
internal sealed class StaleResponseCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _byUrl = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _lru = new();
    private long _bytes;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byUrl.Count;
            }
        }
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public void Store(Entry entry, FallbackOptions options)
    {
        lock (_lock)
        {
            if (_byUrl.Remove(entry.Url, out var old))
            {
                _lru.Remove(old);
                _bytes -= old.Value.Body.Length;
            }

            _byUrl[entry.Url] = _lru.AddFirst(entry);
            _bytes += entry.Body.Length;
            while (_lru.Count > 0 && (_byUrl.Count > options.MaxEntries || _bytes > options.MaxBytes))
            {
                var last = _lru.Last!;
                _lru.RemoveLast();
                _byUrl.Remove(last.Value.Url);
                _bytes -= last.Value.Body.Length;
            }
        }
    }

    public Entry? Get(string url)
    {
        lock (_lock)
        {
            if (!_byUrl.TryGetValue(url, out var node))
            {
                return null;
            }

            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value;
        }
    }

    internal sealed record Entry(
        string Url,
        long StoredAt,
        Version Version,
        KeyValuePair<string, string[]>[] Headers,
        KeyValuePair<string, string[]>[] ContentHeaders,
        byte[] Body);
}
