using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Http.Resilience.IntegrationTests;

/// <summary>
/// Every C# block of the README and of the migration guide compiles as the <c>Program.cs</c> of a new <c>dotnet new web</c> app (the Web SDK's implicit
/// usings, nullable on, warnings as errors), against this repository's packages and the packages the README tells the
/// reader to add. A snippet that stops compiling fails here, not in a new user's first hour.
/// </summary>
public partial class ReadmeSnippetTests
{
    private static readonly string[] WebSdkImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Net.Http.Json", "System.Threading",
        "System.Threading.Tasks", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Http",
        "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration", "Microsoft.Extensions.DependencyInjection",
        "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    /// <summary>What the .NET SDK never reports: assembly-version unification between references (CS1701, CS1702).</summary>
    private static readonly Dictionary<string, ReportDiagnostic> SdkNoWarn = new() { ["CS1701"] = ReportDiagnostic.Suppress, ["CS1702"] = ReportDiagnostic.Suppress };

    public static TheoryData<int, string> Snippets()
    {
        var data = new TheoryData<int, string>();
        var index = 0;
        foreach (var document in new[] { "README.md", Path.Combine("docs", "migrating.md") })
        {
            foreach (Match block in CSharpBlock().Matches(File.ReadAllText(Path.Combine(RepositoryRoot(), document))))
            {
                data.Add(++index, block.Groups[1].Value);
            }
        }

        return data;
    }

    [Fact]
    public void Readme_HasTheCompleteProgramFirst()
    {
        var first = (string)Snippets().First()[1];
        Assert.Contains("WebApplication.CreateBuilder(args)", first, StringComparison.Ordinal);
        Assert.Contains("app.Run();", first, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_CompilesAsTheProgramOfANewWebApp(int number, string code)
    {
        var implicitUsings = string.Join('\n', WebSdkImplicitUsings.Select(u => $"global using global::{u};"));
        var compilation = CSharpCompilation.Create(
            $"ReadmeSnippet{number}",
            [
                CSharpSyntaxTree.ParseText(implicitUsings, CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest)),
                CSharpSyntaxTree.ParseText(code, CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest), path: "Program.cs"),
            ],
            References(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, generalDiagnosticOption: ReportDiagnostic.Error)
                .WithSpecificDiagnosticOptions(SdkNoWarn));

        var problems = compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8019") // an unused using is not a compile error in an app
            .Select(d => d.ToString())
            .ToList();

        Assert.True(problems.Count == 0, $"C# block {number} (the README's, then the migration guide's) does not compile:\n{string.Join('\n', problems)}\n---\n{code}");
    }

    /// <summary>Everything this test host can load: the shared frameworks, this repository's assemblies and the sample's packages.</summary>
    private static IEnumerable<MetadataReference> References()
        => ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(path => MetadataReference.CreateFromFile(path));

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Http.Resilience.sln")))
        {
            directory = directory.Parent;
        }

        return directory!.FullName;
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
