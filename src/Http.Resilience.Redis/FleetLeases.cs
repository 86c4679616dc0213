using System.Threading.RateLimiting;

namespace Http.Resilience.Redis;

/// <summary>The leases fleet limits hand out when they answer without a permit of Redis.</summary>
internal static class FleetLeases
{
    public static readonly RateLimitLease Granted = new Simple(acquired: true, retryAfter: null);

    /// <summary>Not decided yet: the limit answers only asynchronously (it asks Redis), so a caller must wait for it.</summary>
    public static readonly RateLimitLease AskAsynchronously = new Simple(acquired: false, retryAfter: null);

    public static RateLimitLease Refused(TimeSpan retryAfter) => new Simple(acquired: false, retryAfter);

    private sealed class Simple(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = wait;
                return true;
            }

            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            // Nothing to give back; and the shared instances must survive any number of disposals.
        }
    }
}
