using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Json.Schema;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.FunctionalTests.Schema;

/// <summary>
/// schema/gatehouse.schema.json must agree with the loader: every example and every complete YAML block in the
/// docs validates against the schema AND loads and compiles; a few invalid files are refused by both.
/// </summary>
public partial class SchemaTests
{
    private static readonly string Repo = Path.Combine(AppContext.BaseDirectory, "repo");
    private static readonly JsonSchema Schema = JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo, "schema", "gatehouse.schema.json")));

    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Repo, "examples"), "*.yaml").Order())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    public static TheoryData<string, int> DocSnippets()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in Directory.GetFiles(Path.Combine(Repo, "docs"), "*.md").Order())
        {
            var blocks = YamlBlock().Matches(File.ReadAllText(file));
            for (var i = 0; i < blocks.Count; i++)
            {
                data.Add(Path.GetFileName(file), i);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Example_ValidAgainstSchema_AndLoads(string name)
    {
        var text = await File.ReadAllTextAsync(Path.Combine(Repo, "examples", name));
        await AssertValidAsync(text, name);
    }

    /// <summary>As a new user runs it: no environment variables set, paths relative to the example's own folder.</summary>
    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public async Task Example_ValidatesAsShipped_WithoutEnvironment(string name)
    {
        // What 'gatehouse validate' does, with an empty environment instead of the process's.
        var path = Path.Combine(Repo, "examples", name);
        var text = await File.ReadAllTextAsync(path);
        var snapshot = await GatewayHost.CompileAsync(text, path, new GatewayHostOptions { ConfigText = text, Variables = new Dictionary<string, string>() }, 1);

        Assert.NotEmpty(snapshot.Options.Routes);
    }

    [Theory]
    [MemberData(nameof(DocSnippets))]
    public async Task DocsYamlBlock_ValidAgainstSchema_AndLoads(string file, int index)
    {
        var text = YamlBlock().Matches(await File.ReadAllTextAsync(Path.Combine(Repo, "docs", file)))[index].Groups["yaml"].Value;
        await AssertValidAsync(text, $"{file} block {index}");
    }

    [Fact]
    public void DocsSnippets_Exist() => Assert.NotEmpty(DocSnippets());

    [Fact]
    public async Task EmbeddedDefaultConfig_ValidAgainstSchema_AndLoads()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Gatehouse", "default.yaml"));
        Assert.True(Evaluate(text).IsValid, "embedded default does not match the schema");
        await GatewayHost.CompileAsync(text, "default.yaml", new GatewayHostOptions { ConfigText = text, Variables = new Dictionary<string, string> { ["DEMO_BACKEND"] = "http://127.0.0.1:1" } }, 1);
    }

    [Theory]
    [InlineData("servics: {}")]
    [InlineData("services:\n  a: { targets: [\"http://127.0.0.1:1\"], timeout: 5 }")]
    [InlineData("services:\n  a: { targets: [\"http://127.0.0.1:1\"], loadBalancing: fastest }")]
    [InlineData("limits: { maxBodyBytes: lots }")]
    [InlineData("routes:\n  - { name: r, service: a }")]
    [InlineData("services:\n  a: { targets: [\"http://127.0.0.1:1\"], retry: { budget: 0.2 } }")]
    [InlineData("services:\n  a: { targets: [\"http://127.0.0.1:1\"], circuitBreaker: { failureRatio: 2 } }")]
    [InlineData("services:\n  a: { targets: [\"http://127.0.0.1:1\"], timeout: { connect: 1s, total: 5s } }")]
    public void InvalidConfig_RefusedBySchemaAndLoader(string yaml)
    {
        Assert.False(Evaluate(yaml).IsValid);
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml, "t.yaml", _ => null));
    }

    private static async Task AssertValidAsync(string text, string name)
    {
        var result = Evaluate(text);
        Assert.True(result.IsValid, $"{name} does not match the schema: " + string.Join("; ",
            (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));

        // ${VAR} without a default gets a placeholder address, as an operator's environment would provide.
        await GatewayHost.CompileAsync(text, name, new GatewayHostOptions { ConfigText = text, Variables = new Dictionary<string, string>(new Placeholders()) }, 1);
    }

    private static EvaluationResults Evaluate(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var json = System.Text.Json.JsonSerializer.SerializeToElement(ToJson(stream.Documents[0].RootNode));
        return Schema.Evaluate(json, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    /// <summary>YAML 1.2 core schema typing for plain scalars, which is what editors validating against JSON Schema do.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } p => p.Value switch
        {
            null or "" or "~" or "null" => null,
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            var v when long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            var v => JsonValue.Create(v),
        },
        YamlScalarNode q => JsonValue.Create(q.Value),
        _ => null,
    };

    [GeneratedRegex("```yaml\\n(?<yaml>.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    /// <summary>Fills <c>${VAR}</c> with something syntactically plausible for validation.</summary>
    private sealed class Placeholders : Dictionary<string, string>
    {
        public Placeholders()
        {
            foreach (var name in new[] { "BACKEND", "USERS_URL", "DEMO_BACKEND", "PORT", "GATEHOUSE_ADMIN_TOKEN" })
            {
                this[name] = name == "PORT" ? "8080" : "http://127.0.0.1:5001";
            }

            // gRPC examples name a descriptor set: the test bookstore's, written once per run.
            this["BOOKSTORE_DESCRIPTORS"] = BookstoreDescriptorsFile.Value;
        }

        private static readonly Lazy<string> BookstoreDescriptorsFile = new(() =>
        {
            var path = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-schema-").FullName, "bookstore.pb");
            File.WriteAllBytes(path, Gatehouse.Tests.Bookstore.BookstoreDescriptors.Set());
            return path;
        });
    }
}
