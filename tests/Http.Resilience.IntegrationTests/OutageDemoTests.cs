using System.Diagnostics;

namespace Http.Resilience.IntegrationTests;

/// <summary>The README's first command, shortened: it runs, exits 0, and its own measurement carries the headline.</summary>
[Collection(HeavyCollection.Name)]
public class OutageDemoTests
{
    [Fact]
    public async Task OutageDemo_ShortRun_ExitsZeroAndShowsTheCatalogIsolated()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Http.Resilience.sln")))
        {
            directory = directory.Parent;
        }

        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var demo = Path.Combine(directory!.FullName, "samples", "OutageDemo", "bin", configuration, "net10.0", "OutageDemo.dll");
        var output = Path.Combine(Path.GetTempPath(), $"outage-demo-{Guid.NewGuid():N}");
        Directory.CreateDirectory(output);
        using var process = Process.Start(new ProcessStartInfo("dotnet", [demo, "--duration", "8", "--seed", "3"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = output,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync(timeout.Token);

            var text = await stdout;
            Assert.True(process.ExitCode == 0, text + await stderr);
            Assert.Contains("CIRCUIT OPENS", text, StringComparison.Ordinal);
            Assert.Contains("(catalog unaffected)", text, StringComparison.Ordinal);
            Assert.Contains("catalog p99 (slowdown)", text, StringComparison.Ordinal);
            var png = Path.Combine(output, "outage-demo.png");
            Assert.True(new FileInfo(png).Length > 1000);
            Assert.Equal(0x89, File.ReadAllBytes(png)[0]);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            Directory.Delete(output, recursive: true);
        }
    }
}
