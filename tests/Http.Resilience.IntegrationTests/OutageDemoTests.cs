using System.Diagnostics;

namespace Http.Resilience.IntegrationTests;

/// <summary>The README's first command and its storm scenario, shortened: they run, exit 0, and show their measurements.</summary>
[Collection(HeavyCollection.Name)]
public class OutageDemoTests
{
    [Fact]
    public async Task OutageDemo_ShortRun_ExitsZeroAndShowsTheCatalogIsolated()
    {
        var (exitCode, text, output) = await RunDemoAsync("--duration", "8", "--seed", "3");
        try
        {
            Assert.True(exitCode == 0, text);
            Assert.Contains("CIRCUIT OPENS", text, StringComparison.Ordinal);
            Assert.Contains("(catalog unaffected)", text, StringComparison.Ordinal);
            Assert.Contains("catalog p99 (slowdown)", text, StringComparison.Ordinal);
            var png = Path.Combine(output, "outage-demo.png");
            Assert.True(new FileInfo(png).Length > 1000);
            Assert.Equal(0x89, File.ReadAllBytes(png)[0]);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    [Fact]
    public async Task StormScenario_ShortRun_ExitsZeroAndComparesTheThreeWays()
    {
        var (exitCode, text, output) = await RunDemoAsync("--scenario", "storm", "--outage", "1", "--max-drain", "4");
        try
        {
            Assert.True(exitCode == 0, text);
            Assert.Contains("lockstep retries", text, StringComparison.Ordinal);
            Assert.Contains("Microsoft standard", text, StringComparison.Ordinal);
            Assert.Contains("Physical limit", text, StringComparison.Ordinal);
            Assert.Contains("new messages' wait, median", text, StringComparison.Ordinal);
            Assert.Contains("API requests per delivered message", text, StringComparison.Ordinal);
            Assert.Contains("requests the API worked on, then gave up", text, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(output, "storm.png")).Length > 1000);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Runs the built demo in a temporary folder; returns its exit code, its output and the folder.</summary>
    private static async Task<(int ExitCode, string Output, string Folder)> RunDemoAsync(params string[] arguments)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Http.Resilience.sln")))
        {
            directory = directory.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var demo = Path.Combine(directory!.FullName, "samples", "OutageDemo", "bin", configuration, "net10.0", "OutageDemo.dll");
        var folder = Path.Combine(Path.GetTempPath(), $"outage-demo-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        using var process = Process.Start(new ProcessStartInfo("dotnet", [demo, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = folder,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr, folder);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
