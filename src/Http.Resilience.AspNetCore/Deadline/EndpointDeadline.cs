namespace Http.Resilience.AspNetCore;

/// <summary>Endpoint metadata: the server-side deadline of one endpoint. Add it with <c>WithDeadline</c>.</summary>
/// <param name="Deadline">The most time a request to this endpoint may take.</param>
public sealed record EndpointDeadline(TimeSpan Deadline);
