using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Http.Resilience.Benchmarks;

/// <summary>
/// Which objects the happy path allocates: the runtime's allocation-tick events (one per ~100 KB allocated, naming the
/// type that crossed the mark) sampled over many GETs, bare client against the whole chain. A profile by type, so an
/// optimisation starts from what is allocated, not from a suspect.
/// </summary>
internal static class AllocationTypes
{
    public static IEnumerable<string> Run(int requests = 300_000)
    {
        foreach (var (name, configure) in new (string, Action<HttpResilienceOptions>?)[] { ("bare HttpClient", null), ("whole chain, defaults", _ => { }) })
        {
            var services = new ServiceCollection();
            var builder = services.AddHttpClient("c", c => c.BaseAddress = new Uri("http://127.0.0.1/"))
                .ConfigurePrimaryHttpMessageHandler(() => new InMemoryHandler(_ => HttpStatusCode.OK));
            if (configure is not null)
            {
                builder.AddHttpResilience(configure);
            }

            using var provider = services.BuildServiceProvider();
            var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("c");
            for (var i = 0; i < 2_000; i++)
            {
                client.GetAsync("x").GetAwaiter().GetResult().Dispose(); // warm up
            }

            using var sampler = new Sampler();
            for (var i = 0; i < requests; i++)
            {
                client.GetAsync("x").GetAwaiter().GetResult().Dispose();
            }

            Thread.Sleep(2_000); // the events arrive asynchronously
            var total = sampler.Bytes.Values.Sum();
            yield return $"## {name}: {sampler.Bytes.Count} types, {sampler.Samples} samples";
            foreach (var (type, bytes) in sampler.Bytes.OrderByDescending(p => p.Value).Take(25))
            {
                yield return $"| {type} | {100.0 * bytes / total:0.0} % |";
            }
        }
    }

    private sealed class Sampler : EventListener
    {
        public ConcurrentDictionary<string, long> Bytes { get; } = new();

        public int Samples;

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1); // GC keyword: AllocationTick
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is null)
            {
                return;
            }

            var type = eventData.Payload![eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
            var amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
            var amount = amountIndex >= 0 ? Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
            Bytes.AddOrUpdate(type, amount, (_, b) => b + amount);
            Interlocked.Increment(ref Samples);
        }
    }
}
