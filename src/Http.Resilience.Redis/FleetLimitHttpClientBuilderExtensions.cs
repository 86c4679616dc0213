using System.Diagnostics.Metrics;
using Http.Resilience;
using Http.Resilience.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds limits shared by every replica of a service, kept in Redis, to a client that has the Http.Resilience chain.</summary>
/// <remarks>
/// <para>
/// A fleet rate limit plugs into the chain's rate-limit layer (<c>RateLimit.UseLimiter</c>), a fleet concurrency limit
/// in front of its bulkhead (<c>Bulkhead.UseLimiter</c>); both then obey the chain's rules: their waits end with the
/// request's budget, and a failure is the chain's rejection with the cause inside. The local limits stay behind them.
/// </para>
/// <para>
/// Redis is the connection the application already has (an <see cref="IConnectionMultiplexer"/> in the container), or
/// one made from <see cref="FleetLimitOptions.ConnectionString"/>. Only the limits are shared: circuit state, deadlines,
/// retries and idempotency keys stay per replica (see the README's "Running as a fleet").
/// </para>
/// <para>Options are checked here, at start-up: an invalid one throws <see cref="OptionsValidationException"/> naming the client and the field.</para>
/// </remarks>
public static class FleetLimitHttpClientBuilderExtensions
{
    /// <summary>Adds a token bucket shared by every replica under <see cref="FleetLimitOptions.Key"/>.</summary>
    /// <param name="builder">The client's builder; <c>AddHttpResilience</c> must be called for the client too.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">An option is invalid.</exception>
    public static IHttpClientBuilder AddFleetRateLimit(this IHttpClientBuilder builder, Action<FleetRateLimitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new FleetRateLimitOptions();
        configure(options);
        return AddFleetRateLimitCore(builder, options);
    }

    /// <summary>Adds a token bucket shared by every replica, with options bound from a configuration section.</summary>
    /// <param name="builder">The client's builder; <c>AddHttpResilience</c> must be called for the client too.</param>
    /// <param name="section">The section, for example <c>configuration.GetSection("HttpResilience:payment:FleetRateLimit")</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">An option is invalid or cannot be read.</exception>
    public static IHttpClientBuilder AddFleetRateLimit(this IHttpClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddFleetRateLimitCore(builder, Bind<FleetRateLimitOptions>(builder, section));
    }

    /// <summary>Adds a limit of requests in flight shared by every replica under <see cref="FleetLimitOptions.Key"/>.</summary>
    /// <param name="builder">The client's builder; <c>AddHttpResilience</c> must be called for the client too.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">An option is invalid.</exception>
    public static IHttpClientBuilder AddFleetConcurrencyLimit(this IHttpClientBuilder builder, Action<FleetConcurrencyLimitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new FleetConcurrencyLimitOptions();
        configure(options);
        return AddFleetConcurrencyLimitCore(builder, options);
    }

    /// <summary>Adds a limit of requests in flight shared by every replica, with options bound from a configuration section.</summary>
    /// <param name="builder">The client's builder; <c>AddHttpResilience</c> must be called for the client too.</param>
    /// <param name="section">The section, for example <c>configuration.GetSection("HttpResilience:payment:FleetConcurrencyLimit")</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="OptionsValidationException">An option is invalid or cannot be read.</exception>
    public static IHttpClientBuilder AddFleetConcurrencyLimit(this IHttpClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddFleetConcurrencyLimitCore(builder, Bind<FleetConcurrencyLimitOptions>(builder, section));
    }

    private static IHttpClientBuilder AddFleetRateLimitCore(IHttpClientBuilder builder, FleetRateLimitOptions options)
        => AddFleetLimit(builder, options, "FleetRateLimit", "rate", store => new FleetRateLimiter(store, options), static (o, limiter) =>
        {
            o.RateLimit.Enabled = true;
            o.RateLimit.UseLimiter(limiter);
        });

    private static IHttpClientBuilder AddFleetConcurrencyLimitCore(IHttpClientBuilder builder, FleetConcurrencyLimitOptions options)
        => AddFleetLimit(builder, options, "FleetConcurrencyLimit", "concurrency", store => new FleetConcurrencyLimiter(store, options), static (o, limiter) =>
        {
            o.Bulkhead.Enabled = true;
            o.Bulkhead.UseLimiter(limiter);
        });

    /// <summary>
    /// Checks the options, registers the client's limiter (made on first use, with its store) and plugs it into the
    /// client's chain after every other configuration of it.
    /// </summary>
    private static IHttpClientBuilder AddFleetLimit<TLimiter>(
        IHttpClientBuilder builder, FleetLimitOptions options, string section, string limit, Func<FleetStore, TLimiter> create, Action<HttpResilienceOptions, TLimiter> plug)
        where TLimiter : FleetLimiter
    {
        ArgumentNullException.ThrowIfNull(builder);
        Validate(builder.Name, section, options);
        var name = builder.Name;
        var key = new LimiterKey(name, limit);
        builder.Services.AddKeyedSingleton(key, (sp, _) => create(Store(sp, name, limit, options)));
        builder.Services.AddOptions<HttpResilienceOptions>(name).PostConfigure<IServiceProvider>((o, sp) => plug(o, sp.GetRequiredKeyedService<TLimiter>(key)));
        return builder;
    }

    private static FleetStore Store(IServiceProvider services, string client, string limit, FleetLimitOptions options)
    {
        if (options.ConnectionString is null && services.GetService<IConnectionMultiplexer>() is null)
        {
            // A mistake in the set-up, not an outage: fail on the client's first use rather than run on the local share for ever.
            throw new InvalidOperationException(
                $"HttpClient '{client}' has a fleet {limit} limit but no Redis connection: register an IConnectionMultiplexer in the container, or set the limit's ConnectionString.");
        }

        var timeProvider = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("Http.Resilience.Redis") ?? NullLogger.Instance;
        var telemetry = new FleetTelemetry(client, limit, options, logger, services.GetService<IMeterFactory>());
        return new FleetStore(() => ConnectAsync(services, options), options, timeProvider, telemetry);
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(IServiceProvider services, FleetLimitOptions options)
    {
        if (options.ConnectionString is { } connectionString)
        {
            // A connection of the limit's own: made in the background, so start-up and requests never block on Redis, and
            // a command while it is down fails at once instead of waiting in the backlog.
            var configuration = ConfigurationOptions.Parse(connectionString);
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            return await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }

        return services.GetRequiredService<IConnectionMultiplexer>(); // checked when the limit was made
    }

    private static T Bind<T>(IHttpClientBuilder builder, IConfiguration section)
        where T : FleetLimitOptions, new()
    {
        var options = new T();
        try
        {
            section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw new OptionsValidationException(builder.Name, typeof(T), [$"HttpClient '{builder.Name}': {ex.Message}"]);
        }

        return options;
    }

    private static void Validate(string client, string section, FleetLimitOptions options)
    {
        var errors = new List<string>();
        options.Validate(client, section, errors);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(client, options.GetType(), errors);
        }
    }

    /// <summary>Gets the fleet rate limiter of <paramref name="client"/> (for tests and diagnostics).</summary>
    internal static FleetRateLimiter RateLimiterOf(IServiceProvider services, string client)
        => services.GetRequiredKeyedService<FleetRateLimiter>(new LimiterKey(client, "rate"));

    /// <summary>Gets the fleet concurrency limiter of <paramref name="client"/> (for tests and diagnostics).</summary>
    internal static FleetConcurrencyLimiter ConcurrencyLimiterOf(IServiceProvider services, string client)
        => services.GetRequiredKeyedService<FleetConcurrencyLimiter>(new LimiterKey(client, "concurrency"));

    /// <summary>The key of one client's fleet limiter in the container.</summary>
    private sealed record LimiterKey(string Client, string Limit);
}
