using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Http.Resilience;

/// <summary>Binds one client's configuration section; a value that cannot be read becomes a validation failure, never a crash.</summary>
/// <remarks>
/// Before binding, every key of the section is checked against the options, so that a typo never silently falls back to a
/// default: an unknown key is reported with its configuration path and the nearest valid name, a bare number given for a
/// duration (which .NET reads as days) is reported with what to write instead, and a missing or empty section is
/// reported with its path (the overload without a section is how to ask for the defaults).
/// </remarks>
internal static class ConfigurationBinding
{
    private static readonly OptionsShape Root = OptionsShape.Of<HttpResilienceOptions>(new Dictionary<string, OptionsShape>(StringComparer.OrdinalIgnoreCase)
    {
        [nameof(HttpResilienceOptions.DeadlinePropagation)] = OptionsShape.Of<DeadlinePropagationOptions>(),
        [nameof(HttpResilienceOptions.RetryPropagation)] = OptionsShape.Of<RetryPropagationOptions>(),
        [nameof(HttpResilienceOptions.Pushback)] = OptionsShape.Of<PushbackOptions>(),
        [nameof(HttpResilienceOptions.AdaptiveThrottling)] = OptionsShape.Of<AdaptiveThrottlingOptions>(),
        [nameof(HttpResilienceOptions.Retry)] = OptionsShape.Of<RetryOptions>(new Dictionary<string, OptionsShape>(StringComparer.OrdinalIgnoreCase)
        {
            [nameof(RetryOptions.Budget)] = OptionsShape.Of<RetryBudgetOptions>(),
        }),
        [nameof(HttpResilienceOptions.Hedging)] = OptionsShape.Of<HedgingOptions>(),
        [nameof(HttpResilienceOptions.ResponseBuffering)] = OptionsShape.Of<ResponseBufferingOptions>(),
        [nameof(HttpResilienceOptions.CircuitBreaker)] = OptionsShape.Of<CircuitBreakerOptions>(),
        [nameof(HttpResilienceOptions.Bulkhead)] = OptionsShape.Of<BulkheadOptions>(),
        [nameof(HttpResilienceOptions.RateLimit)] = OptionsShape.Of<RateLimitOptions>(),
        [nameof(HttpResilienceOptions.Fallback)] = OptionsShape.Of<FallbackOptions>(),
        [nameof(HttpResilienceOptions.FaultInjection)] = OptionsShape.Of<FaultInjectionOptions>(),
        [nameof(HttpResilienceOptions.Idempotency)] = OptionsShape.Of<IdempotencyOptions>(),
    });

    public static void Bind(IConfiguration section, HttpResilienceOptions options)
    {
        var errors = new List<string>();
        if (!section.GetChildren().Any())
        {
            var path = section is IConfigurationSection { Path: var p } ? p : "(the configuration root)";
            errors.Add($"the configuration section '{path}' is missing or empty. Check its name; to run on the defaults, call AddHttpResilience() without a section.");
        }
        else
        {
            Check(section, Root, errors);
        }

        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            errors.Add(ex.Message);
        }

        if (errors.Count > 0)
        {
            (options.ConfigurationErrors ??= []).AddRange(errors);
        }
    }

    private static void Check(IConfiguration section, OptionsShape shape, List<string> errors)
    {
        foreach (var child in section.GetChildren())
        {
            if (!shape.Properties.TryGetValue(child.Key, out var type))
            {
                var suggestion = Nearest(child.Key, shape.Properties.Keys) is { } near ? $"; did you mean '{near}'?" : $". Valid keys here: {string.Join(", ", shape.Properties.Keys.Order(StringComparer.Ordinal))}.";
                errors.Add($"'{child.Path}' is not an HttpResilience option{suggestion}");
            }
            else if (shape.Sections.TryGetValue(child.Key, out var nested))
            {
                Check(child, nested, errors);
            }
            else if ((type == typeof(TimeSpan) || type == typeof(TimeSpan?)) && child.Value is { } value &&
                     long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            {
                var seconds = TimeSpan.FromSeconds(Math.Clamp(number, 0, 86_400)).ToString("c", CultureInfo.InvariantCulture);
                errors.Add($"'{child.Path}' is \"{value}\", which .NET reads as {number} day(s). Write durations as \"hh:mm:ss\" " +
                           $"(\"{seconds}\" for {number} seconds), or \"{number}.00:00:00\" if you mean days.");
            }
        }
    }

    /// <summary>The valid key closest to <paramref name="key"/> when it is close enough to be a typo, else <see langword="null"/>.</summary>
    internal static string? Nearest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>The bindable keys of one options class (its public settable properties and their types) and its sub-sections.</summary>
    private sealed class OptionsShape(Dictionary<string, Type> properties, Dictionary<string, OptionsShape> sections)
    {
        public Dictionary<string, Type> Properties { get; } = properties;

        public Dictionary<string, OptionsShape> Sections { get; } = sections;

        public static OptionsShape Of<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(Dictionary<string, OptionsShape>? sections = null)
        {
            var properties = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is { IsPublic: true })
                {
                    properties[property.Name] = property.PropertyType;
                }
            }

            return new OptionsShape(properties, sections ?? new Dictionary<string, OptionsShape>(StringComparer.OrdinalIgnoreCase));
        }
    }
}
