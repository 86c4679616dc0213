namespace Http.Resilience;

/// <summary>Totals of a health window.</summary>
internal readonly record struct HealthInfo(int Requests, int Failures)
{
    public double FailureRatio => Requests == 0 ? 0 : (double)Failures / Requests;
}
