using System.Globalization;

namespace OutageDemo;

/// <summary>The numbers of one run, measured during the slowdown.</summary>
internal sealed record RunResult(string Name, IReadOnlyCollection<Sample> Samples, int PeakInFlight, Script Script)
{
    public IEnumerable<Sample> DuringSlowdown(bool checkout) => Samples.Where(s => s.Checkout == checkout && Script.InSlowdown(s.At));

    public static double Percentile(IEnumerable<Sample> samples, double p)
    {
        var sorted = samples.Select(s => s.Latency.TotalMilliseconds).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var index = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }
}

internal static class Report
{
    public static IEnumerable<string> Table(RunResult plain, RunResult chain)
    {
        static string Ms(double value) => double.IsNaN(value) ? "-" : value >= 1000 ? $"{value / 1000:0.00} s" : $"{value:0} ms";
        static string Pct(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0 '%'", CultureInfo.InvariantCulture);
        static double Ok(IEnumerable<Sample> samples)
        {
            var list = samples.ToList();
            return list.Count == 0 ? double.NaN : 100.0 * list.Count(s => s.Ok && !s.Fallback) / list.Count;
        }

        static double Answered(IEnumerable<Sample> samples)
        {
            var list = samples.ToList();
            return list.Count == 0 ? double.NaN : 100.0 * list.Count(s => s.Ok) / list.Count;
        }

        var rows = new List<(string Label, string Plain, string Chain)>
        {
            ("requests (whole run)", plain.Samples.Count.ToString(CultureInfo.InvariantCulture), chain.Samples.Count.ToString(CultureInfo.InvariantCulture)),
            ("success rate (whole run)", Pct(Ok(plain.Samples)), Pct(Ok(chain.Samples))),
            ("answered (incl. fallback)", Pct(Answered(plain.Samples)), Pct(Answered(chain.Samples))),
            ("fallbacks served (whole run)", plain.Samples.Count(s => s.Fallback).ToString(CultureInfo.InvariantCulture), chain.Samples.Count(s => s.Fallback).ToString(CultureInfo.InvariantCulture)),
        };
        foreach (var (checkout, name) in new[] { (true, "payment"), (false, "catalog") })
        {
            rows.Add(($"{name} requests (slowdown)", plain.DuringSlowdown(checkout).Count().ToString(CultureInfo.InvariantCulture), chain.DuringSlowdown(checkout).Count().ToString(CultureInfo.InvariantCulture)));
            rows.Add(($"{name} success (slowdown)", Pct(Ok(plain.DuringSlowdown(checkout))), Pct(Ok(chain.DuringSlowdown(checkout)))));
            if (checkout)
            {
                rows.Add(("payment fallbacks (slowdown)", plain.DuringSlowdown(true).Count(s => s.Fallback).ToString(CultureInfo.InvariantCulture), chain.DuringSlowdown(true).Count(s => s.Fallback).ToString(CultureInfo.InvariantCulture)));
            }
            foreach (var (p, label) in new[] { (0.5, "p50"), (0.99, "p99"), (1.0, "max") })
            {
                rows.Add(($"{name} {label} (slowdown)", Ms(RunResult.Percentile(plain.DuringSlowdown(checkout), p)), Ms(RunResult.Percentile(chain.DuringSlowdown(checkout), p))));
            }
        }

        rows.Add(("requests in flight at peak", plain.PeakInFlight.ToString(CultureInfo.InvariantCulture), chain.PeakInFlight.ToString(CultureInfo.InvariantCulture)));
        yield return $"  {"",-28} {"plain HttpClient",18} {"with Http.Resilience",22}";
        foreach (var (label, p, c) in rows)
        {
            yield return $"  {label,-28} {p,18} {c,22}";
        }
    }
}
