using Microsoft.Extensions.Logging;

namespace Http.Resilience.IntegrationTests.Helpers;

/// <summary>
/// A logger provider that completes <see cref="Expired"/> when IHttpClientFactory logs that a client's handler expired
/// (event HandlerExpired): from then on, the next CreateClient builds a new handler chain. Lets a test wait for handler
/// rotation as an event, not for a guessed duration.
/// </summary>
internal sealed class HandlerExpiryListener : ILoggerProvider, ILogger
{
    public TaskCompletionSource Expired { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name == "HandlerExpired")
        {
            Expired.TrySetResult();
        }
    }

    public void Dispose()
    {
    }
}
