namespace Http.Resilience.AspNetCore;

/// <summary>Endpoint metadata: the server-side deadline of one endpoint. Only <c>WithDeadline</c> makes it.</summary>
/// <param name="Deadline">The most time a request to this endpoint may take.</param>
internal sealed record EndpointDeadline(TimeSpan Deadline);
