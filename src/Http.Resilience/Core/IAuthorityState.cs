namespace Http.Resilience;

/// <summary>State kept per authority that the <see cref="AuthorityMap{T}"/> may evict once it is idle.</summary>
internal interface IAuthorityState
{
    /// <summary>Notes a use: the entry survives the next sweep. Cheap enough for every request (a read, rarely a write).</summary>
    void MarkUsed();

    /// <summary>Clears the use mark and returns whether it was set.</summary>
    bool ClearUsed();

    /// <summary>Decides whether the state may be forgotten now (and marks it so, where a late user must notice).</summary>
    /// <returns><see langword="false"/> when it must stay (an open or half-open circuit, a bulkhead with requests in flight).</returns>
    bool TryRetire();
}
