using Http.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Http.Resilience chain to a named or typed <see cref="HttpClient"/>.</summary>
/// <remarks>
/// <para>
/// The chain, outermost to innermost: deadline, fallback (optional), idempotency key, rate limit (optional), adaptive
/// throttling (optional), bulkhead, circuit breaker, retry, hedging (optional), attempt timeout, fault injection
/// (optional), then the primary handler. Options are named after the client and read per request from
/// <see cref="IOptionsMonitor{TOptions}"/>; they are validated at host start (<c>ValidateOnStart</c>) and at the latest on
/// the first <c>CreateClient</c> of the client, and a corrected configuration recovers on reload.
/// </para>
/// <para>
/// The chain owns timeouts. A <see cref="HttpClient.Timeout"/> the user configured for the client (anything but the
/// 100 second default, through <c>ConfigureHttpClient</c> or the typed client's configuration) is not ignored: it becomes
/// the client's deadline when shorter than <see cref="HttpResilienceOptions.Deadline"/>. <c>CreateClient</c> then sets
/// <see cref="HttpClient.Timeout"/> to that effective deadline plus one second (infinite when the deadline is), so the
/// 100 second default never cuts a longer deadline short, the chain's own deadline always fires first, and reading the
/// body after the chain has returned stays bounded.
/// </para>
/// <para>Time comes from the <see cref="TimeProvider"/> registered in the container, or <see cref="TimeProvider.System"/>.</para>
/// </remarks>
public static class HttpResilienceHttpClientBuilderExtensions
{
    /// <summary>Adds the resilience chain with the default options.</summary>
    /// <param name="builder">The client builder.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The chain was already added to this client.</exception>
    public static IHttpClientBuilder AddHttpResilience(this IHttpClientBuilder builder)
        => AddHttpResilienceCore(builder, section: null, configure: null);

    /// <summary>Adds the resilience chain with options set in code.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Sets the options; runs on every (re)load of the options.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="configure"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The chain was already added to this client.</exception>
    /// <remarks>Invalid options surface as <see cref="OptionsValidationException"/> at start-up or on the first <c>CreateClient</c>.</remarks>
    public static IHttpClientBuilder AddHttpResilience(this IHttpClientBuilder builder, Action<HttpResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddHttpResilienceCore(builder, section: null, configure);
    }

    /// <summary>Adds the resilience chain with options bound from a configuration section, reloaded when it changes.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="section">The client's section, for example <c>configuration.GetSection("HttpResilience:payment")</c>.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="section"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The chain was already added to this client.</exception>
    /// <remarks>
    /// Unknown keys and values that cannot be converted are validation failures. Invalid options surface as
    /// <see cref="OptionsValidationException"/> at start-up or on the first <c>CreateClient</c>.
    /// </remarks>
    public static IHttpClientBuilder AddHttpResilience(this IHttpClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddHttpResilienceCore(builder, section, configure: null);
    }

    /// <summary>Adds the resilience chain with options bound from a configuration section, then adjusted in code.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="section">The client's section, for example <c>configuration.GetSection("HttpResilience:payment")</c>.</param>
    /// <param name="configure">Adjusts the bound options; runs after binding on every (re)load.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The chain was already added to this client.</exception>
    /// <remarks>Invalid options surface as <see cref="OptionsValidationException"/> at start-up or on the first <c>CreateClient</c>.</remarks>
    public static IHttpClientBuilder AddHttpResilience(this IHttpClientBuilder builder, IConfiguration section, Action<HttpResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(configure);
        return AddHttpResilienceCore(builder, section, configure);
    }

    private static IHttpClientBuilder AddHttpResilienceCore(IHttpClientBuilder builder, IConfiguration? section, Action<HttpResilienceOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var name = builder.Name;
        var services = builder.Services;

        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(HttpResilienceMarker) && descriptor.ImplementationInstance is HttpResilienceMarker marker && marker.ClientName == name)
            {
                throw new InvalidOperationException($"AddHttpResilience was already called for HttpClient '{name}'; configure its options in one call.");
            }
        }

        services.AddSingleton(new HttpResilienceMarker(name));
        services.AddMetrics();
        services.TryAddSingleton(sp => new ResilienceRegistry(
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<IHttpResilienceMonitor>(sp => sp.GetRequiredService<ResilienceRegistry>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HttpResilienceOptions>, HttpResilienceOptionsValidator>());

        var options = services.AddOptions<HttpResilienceOptions>(name);
        if (section is not null)
        {
            options.Configure(o => ConfigurationBinding.Bind(section, o));
            services.AddSingleton<IOptionsChangeTokenSource<HttpResilienceOptions>>(new ConfigurationChangeTokenSource<HttpResilienceOptions>(name, section));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();

        // Post-configure: runs after every ConfigureHttpClient, so it sees the Timeout the user set.
        services.AddTransient<IPostConfigureOptions<HttpClientFactoryOptions>>(sp =>
            new PostConfigureOptions<HttpClientFactoryOptions>(name, factoryOptions =>
            {
                factoryOptions.HttpClientActions.Add(client => OnClientCreated(sp, name, section, client));
                factoryOptions.HttpMessageHandlerBuilderActions.Add(handlerBuilder =>
                {
                    CheckForSecondResilienceLayer(name, handlerBuilder.AdditionalHandlers);
                    CheckConnectionPool(sp, name, handlerBuilder.PrimaryHandler);
                });
            }));

        // Outermost first. Handlers hold no long-lived state (IHttpClientFactory recycles them): it lives in the registry.
        builder.AddHttpMessageHandler(sp => new DeadlineHandler(name, sp.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>(), sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new FallbackHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static () => new IdempotencyKeyHandler());
        builder.AddHttpMessageHandler(static sp => new RateLimitHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new AdaptiveThrottlingHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new BulkheadHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new CircuitBreakerHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new RetryHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new HedgingHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new AttemptTimeoutHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static sp => new FaultInjectionHandler(sp.GetRequiredService<ResilienceRegistry>()));
        return builder;
    }

    private static void OnClientCreated(IServiceProvider services, string name, IConfiguration? section, HttpClient client)
    {
        // Surface invalid options on the first CreateClient (throws OptionsValidationException), not on the first request.
        // After a bad reload, the client keeps its last valid options instead (see ResilienceRegistry.GetOptions).
        var registry = services.GetRequiredService<ResilienceRegistry>();
        var options = registry.GetOptions(registry.GetOrAdd(name), services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>());

        // Per-client circuits and bulkheads exist from the first CreateClient, so health checks see them before traffic.
        if (options.CircuitBreaker is { Enabled: true, PerAuthority: false })
        {
            registry.GetOrAddCircuit(name, authority: null);
        }

        if (options.Bulkhead is { Enabled: true, PerAuthority: false } bulkhead)
        {
            registry.GetOrAddBulkhead(name, authority: null, bulkhead);
        }

        var state = registry.GetOrAdd(name);
        if (section is not null && state.TryClaimConfigurationWatch())
        {
            // A rejected configuration is tried again as soon as the configuration changes, not only after its retry delay.
            ChangeToken.OnChange(section.GetReloadToken, state.RetryConfigurationNow);
        }

        state.HttpClientTimeout = client.Timeout == HttpResilienceDefaults.HttpClientDefaultTimeout ? Timeout.InfiniteTimeSpan : client.Timeout;

        // HttpClient.Timeout stays as a backstop for reading the body after the chain has returned: the longest effective
        // deadline a request may have plus a grace period, so inside the chain the deadline always fires first (as
        // DeadlineExceededException).
        var deadline = TimeMath.Min(options.MaxRequestDeadline, state.HttpClientTimeout);
        client.Timeout = TimeMath.IsInfinite(deadline) ? Timeout.InfiniteTimeSpan : deadline + HttpResilienceDefaults.HttpClientTimeoutGrace;
    }

    /// <summary>
    /// Fails when the client also has another resilience layer: Microsoft.Extensions.Http.Resilience's handler
    /// (<c>AddStandardResilienceHandler</c>, <c>AddResilienceHandler</c>, <c>AddStandardHedgingHandler</c>) or a Polly v7
    /// <c>AddPolicyHandler</c>. Stacked, their retries multiply and their timeouts race, silently: a 0.4 s 503 becomes a
    /// 5 s deadline after four attempts. A code mistake, so it fails when the handler is built, with what to do.
    /// </summary>
    private static void CheckForSecondResilienceLayer(string name, IList<DelegatingHandler> handlers)
    {
        foreach (var handler in handlers)
        {
            var type = handler.GetType().FullName;
            if (type is "Microsoft.Extensions.Http.Resilience.ResilienceHandler" or "Microsoft.Extensions.Http.PolicyHttpMessageHandler")
            {
                var what = type.EndsWith("PolicyHttpMessageHandler", StringComparison.Ordinal)
                    ? "a Polly policy handler (AddPolicyHandler or AddTransientHttpErrorPolicy)"
                    : "Microsoft.Extensions.Http.Resilience's handler (AddStandardResilienceHandler, AddResilienceHandler or AddStandardHedgingHandler)";
                throw new InvalidOperationException(
                    $"HttpClient '{name}' has two resilience layers: AddHttpResilience and {what}. Stacked, their retries multiply (every " +
                    "attempt of one is retried by the other), their timeouts race, and their circuits count different things, with " +
                    "no error to show for it. Keep one: remove the other call. The README's migration guide maps the other " +
                    "layer's options to HttpResilienceOptions.");
            }
        }
    }

    /// <summary>A connection pool smaller than the bulkhead moves the queue from the bulkhead into the pool, where no deadline bounds it.</summary>
    /// <remarks>
    /// A warning, not a validation failure: this runs while IHttpClientFactory builds a handler, and the factory caches
    /// exceptions thrown there. Logged once per client.
    /// </remarks>
    private static void CheckConnectionPool(IServiceProvider services, string name, HttpMessageHandler primary)
    {
        var maxConnections = primary switch
        {
            SocketsHttpHandler sockets => sockets.MaxConnectionsPerServer,
            HttpClientHandler handler => handler.MaxConnectionsPerServer,
            _ => int.MaxValue,
        };

        var registry = services.GetRequiredService<ResilienceRegistry>();
        HttpResilienceOptions options;
        try
        {
            options = registry.GetOptions(registry.GetOrAdd(name), services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>());
        }
        catch (OptionsValidationException)
        {
            return; // reported on CreateClient and on the first request; never cached here
        }

        if (options.Bulkhead is { Enabled: true } bulkhead && maxConnections < bulkhead.MaxConcurrency && registry.GetOrAdd(name).TryClaimPoolWarning())
        {
            Log.ConnectionPoolSmallerThanBulkhead(registry.Logger, name, maxConnections, bulkhead.MaxConcurrency);
        }
    }

    private sealed record HttpResilienceMarker(string ClientName);
}
