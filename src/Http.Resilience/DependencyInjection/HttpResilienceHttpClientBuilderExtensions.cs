using Http.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Http.Resilience chain to a named or typed <see cref="HttpClient"/>.</summary>
/// <remarks>
/// <para>
/// The chain, outermost to innermost: deadline, idempotency key, bulkhead, circuit breaker, retry, attempt timeout,
/// then the primary handler. Options are named after the client and read per request from
/// <see cref="IOptionsMonitor{TOptions}"/>; they are validated at host start (<c>ValidateOnStart</c>) and at the latest on
/// the first <c>CreateClient</c> of the client, and a corrected configuration recovers on reload.
/// </para>
/// <para>
/// The chain owns timeouts, so <c>CreateClient</c> sets <see cref="HttpClient.Timeout"/> to
/// <see cref="Timeout.InfiniteTimeSpan"/>. A timeout the user configured for the client (anything but the 100 second
/// default, through <c>ConfigureHttpClient</c> or the typed client's configuration) is not ignored: it becomes the
/// client's deadline when shorter than <see cref="HttpResilienceOptions.Deadline"/>.
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
        services.TryAddSingleton<ResilienceRegistry>();
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
                factoryOptions.HttpClientActions.Add(client => OnClientCreated(sp, name, client))));

        // Outermost first. Handlers hold no long-lived state: it lives in the registry (DESIGN.md section 2).
        builder.AddHttpMessageHandler(sp => new DeadlineHandler(
            name,
            sp.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>(),
            sp.GetRequiredService<ResilienceRegistry>().GetOrAdd(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.AddHttpMessageHandler(static () => new IdempotencyKeyHandler());
        builder.AddHttpMessageHandler(static sp => new RetryHandler(sp.GetRequiredService<ResilienceRegistry>()));
        builder.AddHttpMessageHandler(static () => new AttemptTimeoutHandler());
        return builder;
    }

    private static void OnClientCreated(IServiceProvider services, string name, HttpClient client)
    {
        // Surface invalid options on the first CreateClient (throws OptionsValidationException), not on the first request.
        _ = services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(name);

        var state = services.GetRequiredService<ResilienceRegistry>().GetOrAdd(name);
        state.HttpClientTimeout = client.Timeout == HttpResilienceDefaults.HttpClientDefaultTimeout ? Timeout.InfiniteTimeSpan : client.Timeout;
        client.Timeout = Timeout.InfiniteTimeSpan;
    }

    private sealed record HttpResilienceMarker(string ClientName);
}
