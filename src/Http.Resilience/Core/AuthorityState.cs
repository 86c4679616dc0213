namespace Http.Resilience;

/// <summary>State kept per authority that the <see cref="AuthorityMap{T}"/> may evict once it is idle.</summary>
internal abstract class AuthorityState
{
    private bool _used; // a plain flag: a race only delays an eviction by one sweep

    /// <summary>Notes a use: the entry survives the next sweep. Cheap enough for every request (a read, rarely a write).</summary>
    public void MarkUsed()
    {
        if (!_used)
        {
            _used = true;
        }
    }

    /// <summary>Clears the use mark and returns whether it was set.</summary>
    public bool ClearUsed()
    {
        var used = _used;
        _used = false;
        return used;
    }

    /// <summary>Decides whether the state may be forgotten now (and marks it so, where a late user must notice).</summary>
    /// <returns><see langword="false"/> when it must stay (an open or half-open circuit, a bulkhead with requests in flight).</returns>
    public abstract bool TryRetire();
}
