using Http.Resilience.AspNetCore;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the incoming side of deadline propagation to an ASP.NET Core app.</summary>
public static class DeadlinePropagationApplicationBuilderExtensions
{
    /// <summary>
    /// Reads the caller's time left from the deadline header, makes it the request's deadline, cancels work past it,
    /// answers 504 when it is spent, and makes every Http.Resilience call made while handling the request start with no
    /// more than the time left.
    /// </summary>
    /// <param name="app">The application builder.</param>
    /// <param name="configure">Sets the header name and the default server-side deadline.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="app"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The default deadline is not positive or is over 1 day.</exception>
    /// <remarks>Place it after routing (the default for minimal APIs) so an endpoint's <c>WithDeadline</c> is seen.</remarks>
    public static IApplicationBuilder UseDeadlinePropagation(this IApplicationBuilder app, Action<IncomingDeadlineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = new IncomingDeadlineOptions();
        configure?.Invoke(options);
        if (options.DefaultDeadline is { } deadline)
        {
            Check(deadline, nameof(IncomingDeadlineOptions.DefaultDeadline));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(options.HeaderName, nameof(IncomingDeadlineOptions.HeaderName));
        var timeProvider = app.ApplicationServices.GetService<TimeProvider>() ?? TimeProvider.System;
        return app.UseMiddleware<DeadlineMiddleware>(options, timeProvider);
    }

    /// <summary>Gives an endpoint its own server-side deadline (the caller's, when shorter, still wins).</summary>
    /// <typeparam name="TBuilder">The endpoint builder type.</typeparam>
    /// <param name="builder">The endpoint builder.</param>
    /// <param name="deadline">The most time a request to this endpoint may take.</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="deadline"/> is not positive or is over 1 day.</exception>
    public static TBuilder WithDeadline<TBuilder>(this TBuilder builder, TimeSpan deadline)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        Check(deadline, nameof(deadline));
        return builder.WithMetadata(new EndpointDeadline(deadline));
    }

    private static void Check(TimeSpan deadline, string name)
    {
        if (deadline <= TimeSpan.Zero || deadline > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(name, deadline, "A deadline must be positive and at most 1 day.");
        }
    }
}
