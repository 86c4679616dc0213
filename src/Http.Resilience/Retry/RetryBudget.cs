namespace Http.Resilience;

/// <summary>The retry budget of one client (or one authority): deposits per request, withdrawals per retry, over a window.</summary>
/// <remarks>
/// Amounts are fixed-point: a retry is <see cref="Scale"/> units, a request deposits <c>Ratio * Scale</c>. The balance is
/// the <see cref="WindowedSum"/> of deposits and withdrawals over the window, plus the reserve
/// (<c>MinRetriesPerSecond * window seconds * Scale</c>). No lock: a deposit needs no clock read of its own (it uses the
/// time the request entered the chain). Concurrent updates can make the balance a retry or two off at the edge of a
/// bucket: the budget bounds load, it does not ration it to the unit.
/// </remarks>
internal sealed class RetryBudget : IReloadableState<RetryBudget, RetryBudgetOptions>
{
    private const long Scale = 1000;

    private readonly WindowedSum _balance;
    private readonly long _deposit;
    private readonly long _reserve;
    private readonly RetryBudgetOptions _shape;

    public RetryBudget(RetryBudgetOptions options, long timestampFrequency)
    {
        _shape = new RetryBudgetOptions { Ratio = options.Ratio, MinRetriesPerSecond = options.MinRetriesPerSecond, Window = options.Window };
        _balance = new WindowedSum(options.Window, timestampFrequency);
        _deposit = (long)Math.Round(options.Ratio * Scale);
        _reserve = (long)(options.MinRetriesPerSecond * options.Window.TotalSeconds * Scale);
    }

    public static RetryBudget Create(RetryBudgetOptions options, long timestampFrequency) => new(options, timestampFrequency);

    public bool Matches(RetryBudgetOptions options)
        => options.Ratio == _shape.Ratio && options.MinRetriesPerSecond == _shape.MinRetriesPerSecond && options.Window == _shape.Window;

    /// <summary>Deposits one request's share of a retry, at <paramref name="timestamp"/>.</summary>
    public void Deposit(long timestamp)
    {
        if (_deposit != 0)
        {
            _balance.Add(timestamp, _deposit);
        }
    }

    /// <summary>Withdraws one retry if the balance allows it.</summary>
    public bool TryWithdraw(long timestamp)
    {
        if (_balance.Sum(timestamp) + _reserve < Scale)
        {
            return false;
        }

        _balance.Add(timestamp, -Scale);
        return true;
    }

    /// <summary>Gets the retries the budget allows now (for tests and diagnostics).</summary>
    public double Available(long timestamp) => (_balance.Sum(timestamp) + _reserve) / (double)Scale;
}
