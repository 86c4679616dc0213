namespace Http.Resilience.IntegrationTests;

/// <summary>Tests that load the machine (the soak, the demo): run alone, so neither they nor their neighbours go flaky.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    public const string Name = "Heavy";
}
