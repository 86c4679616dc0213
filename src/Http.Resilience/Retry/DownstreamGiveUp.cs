namespace Http.Resilience;

/// <summary>
/// Marks, for the request being served, that one of its outgoing calls gave up: it retried to exhaustion, its retry budget
/// was empty, its circuit was open, or the dependency said not to retry. A layer above must then not retry the same
/// failure again.
/// </summary>
/// <remarks>
/// <c>Http.Resilience.AspNetCore</c>'s deadline middleware begins a marker per incoming request; when the app answers that
/// request with a 5xx and the marker is set, the answer carries <c>X-Should-Retry: false</c>, so the caller's chain does
/// not multiply the retries already made further down (A retrying B three times, each retrying C three times, is nine
/// requests at C for one user request). Outside a served request, marking does nothing.
/// </remarks>
internal static class DownstreamGiveUp
{
    private static readonly AsyncLocal<Marker?> Current = new();

    /// <summary>Begins a marker for the current async flow (the request being served); dispose it to end it.</summary>
    public static Marker Begin()
    {
        var marker = new Marker(Current.Value);
        Current.Value = marker;
        return marker;
    }

    /// <summary>Notes that an outgoing call of the request being served gave up.</summary>
    public static void Note()
    {
        if (Current.Value is { } marker)
        {
            marker.Set();
        }
    }

    internal sealed class Marker(Marker? previous) : IDisposable
    {
        /// <summary>Gets a value indicating whether an outgoing call gave up.</summary>
        public bool GaveUp { get; private set; }

        public void Dispose() => Current.Value = previous;

        internal void Set() => GaveUp = true;
    }
}
