using Microsoft.Extensions.Configuration;

namespace Http.Resilience;

/// <summary>Binds one client's configuration section; a value that cannot be read becomes a validation failure, never a crash.</summary>
internal static class ConfigurationBinding
{
    public static void Bind(IConfiguration section, HttpResilienceOptions options)
    {
        try
        {
            // Unknown keys are errors: a typo such as "MaxRetrys" must not silently fall back to the default.
            section.Bind(options, static binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            (options.ConfigurationErrors ??= []).Add(ex.Message);
        }
    }
}
