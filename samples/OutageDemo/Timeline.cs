using System.Collections.Concurrent;
using Http.Resilience;
using Microsoft.Extensions.Logging;

namespace OutageDemo;

/// <summary>
/// Collects the chain's real events (its log events and circuit state changes) with the script's time, for the
/// timeline printed after the run, in the style of "What a Real Outage Looks Like" in the article "Failure Is Not an Option".
/// </summary>
internal sealed class Timeline(Script script) : ILoggerProvider
{
    private readonly ConcurrentQueue<(TimeSpan At, string Kind, string Text)> _events = new();

    public void Add(string kind, string text) => _events.Enqueue((script.Now, kind, text));

    public void OnCircuit(object? sender, OnCircuitStateChangedArguments e)
    {
        var text = e.State switch
        {
            CircuitState.Open when e.PreviousState == CircuitState.HalfOpen => $"CIRCUIT RE-OPENS for {e.BreakDuration?.TotalSeconds:0.#}s ({e.Reason}).",
            CircuitState.Open => $"CIRCUIT OPENS: {e.FailureCount} of {e.RequestCount} checkouts failed. Next ones fail fast.",
            CircuitState.HalfOpen => "HALF-OPEN: circuit lets 1 test request through.",
            _ => "CIRCUIT CLOSES. Normal operation resumes.",
        };
        Add("circuit", text);
    }

    public ILogger CreateLogger(string categoryName) => categoryName == "Http.Resilience" ? new Logger(this) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    /// <summary>The timeline: script milestones and circuit changes one by one; timeouts, rejections and fallbacks from their first occurrence, counted per phase.</summary>
    public IEnumerable<string> Render()
    {
        var lines = new List<(TimeSpan At, string Text)>
        {
            (TimeSpan.Zero, "Everything normal. Payment API responds in ~200ms."),
            (script.SlowFrom, "Payment API slows to 5s."),
            (script.SlowUntil, "Payment API recovers (~200ms again)."),
        };
        foreach (var group in _events.Where(e => e.Kind != "circuit").GroupBy(e => (Phase: Phase(e.At), e.Kind)))
        {
            var first = group.Min(e => e.At);
            var count = group.Count();
            var during = $"{count} {(count == 1 ? "time" : "times")} {group.Key.Phase}";
            var text = group.Key.Kind switch
            {
                "timeout" => $"TIMEOUT: payment attempts cut at 1s, workers freed ({during}).",
                "deadline" => $"DEADLINE: checkouts ended inside their 2.5s budget, retries included ({during}).",
                "bulkhead" => group.Key.Phase == "before the slowdown"
                    ? $"BULKHEAD: the start-up burst (every user at once) filled payment's 10 permits; the overflow was rejected at once ({during})."
                    : $"BULKHEAD: payment at its bulkhead limit, more rejected at once; catalog keeps its workers ({during}).",
                "fallback" => $"FALLBACK: \"order pending\" served instead of an error ({during}).",
                _ => $"{group.Key.Kind} ({during})",
            };
            lines.Add((first, text));
        }

        lines.AddRange(_events.Where(e => e.Kind == "circuit").Select(e => (e.At, e.Text)));
        return lines.OrderBy(l => l.At).Select(l => $"  T+{l.At.TotalSeconds,5:0.0}s  {l.Text}");
    }

    private string Phase(TimeSpan at) => at < script.SlowFrom ? "before the slowdown" : at < script.SlowUntil ? "during the slowdown" : "after recovery";

    private sealed class Logger(Timeline owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var kind = eventId.Name switch
            {
                "AttemptTimedOut" => "timeout",
                "DeadlineExceeded" => "deadline",
                "BulkheadRejected" => "bulkhead",
                "FallbackServed" => "fallback",
                _ => null,
            };
            // The timeline tells the payment story: events of other clients (the catalog's) are left out.
            if (kind is not null && state is IReadOnlyList<KeyValuePair<string, object?>> fields &&
                fields.Any(f => f.Key == "ClientName" && (f.Value as string) == "payment"))
            {
                owner.Add(kind, string.Empty);
            }
        }
    }
}
