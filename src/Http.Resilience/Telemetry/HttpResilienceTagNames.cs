namespace Http.Resilience;

/// <summary>Tag (attribute) names on the chain's instruments; OpenTelemetry names where one exists.</summary>
internal static class HttpResilienceTagNames
{
    public const string ClientName = "http.resilience.client.name";
    public const string Authority = "http.resilience.authority";
    public const string Outcome = "http.resilience.outcome";
    public const string Attempt = "http.resilience.attempt";
    public const string Result = "http.resilience.result";
    public const string FallbackKind = "http.resilience.fallback.kind";
    public const string StatusCode = "http.response.status_code";
    public const string ErrorType = "error.type";
}
