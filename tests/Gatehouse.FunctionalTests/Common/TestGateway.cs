using Gatehouse.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>
/// A real gateway in this process on 127.0.0.1 port 0, with its admin listener. Configs are written to a
/// temporary file so that reload tests edit a real file.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly string _directory;

    private TestGateway(GatewayHost host, string directory, string configPath)
    {
        Host = host;
        _directory = directory;
        ConfigPath = configPath;
        Client = NewClient(new Uri(host.Urls[0]));
        Admin = host.AdminUrl is null ? null : NewClient(new Uri(host.AdminUrl));
    }

    public GatewayHost Host { get; }

    public string ConfigPath { get; }

    public HttpClient Client { get; }

    public HttpClient? Admin { get; }

    public Uri Url => new(Host.Urls[0]);

    /// <summary>Prefixes the config with loopback port-0 listeners unless it sets its own.</summary>
    public static async Task<TestGateway> StartAsync(string yaml, bool watch = true, IReadOnlyDictionary<string, string>? variables = null)
    {
        var directory = Directory.CreateTempSubdirectory("gatehouse-test-").FullName;
        var path = Path.Combine(directory, "gatehouse.yaml");
        await File.WriteAllTextAsync(path, WithTestListeners(yaml));
        var host = await GatewayHost.CreateAsync(new GatewayHostOptions
        {
            ConfigPath = path,
            WatchConfigFile = watch,
            ReloadOnSignal = false,
            Variables = variables,
            MinimumLogLevel = LogLevel.Warning,
        });
        await host.StartAsync();
        return new TestGateway(host, directory, path);
    }

    public static string WithTestListeners(string yaml)
    {
        var prefix = "";
        if (!System.Text.RegularExpressions.Regex.IsMatch(yaml, "^listen:", System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            prefix += "listen: [\"http://127.0.0.1:0\"]\n";
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(yaml, "^admin:", System.Text.RegularExpressions.RegexOptions.Multiline))
        {
            prefix += "admin: { listen: \"http://127.0.0.1:0\" }\n";
        }

        return prefix + yaml;
    }

    /// <summary>
    /// Rewrites the config file in place (as an operator's editor would) and waits until the gateway runs exactly
    /// this text, or, when <paramref name="expectRefusal"/>, until it has refused a change.
    /// </summary>
    public async Task RewriteConfigAsync(string yaml, bool expectRefusal = false)
    {
        var text = WithTestListeners(yaml);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        var before = Host.Status.LastAttemptAt;
        await File.WriteAllTextAsync(ConfigPath, text);
        if (expectRefusal)
        {
            await Wait.UntilAsync(() => Host.Status.LastAttemptAt > before && !Host.Status.LastAttemptSucceeded, "the gateway to refuse the config change");
        }
        else
        {
            await Wait.UntilAsync(() => Host.Status.Hash == hash, "the gateway to apply the config change");
        }
    }

    public static HttpClient NewClient(Uri baseAddress, Version? version = null) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
    })
    {
        BaseAddress = baseAddress,
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestVersion = version ?? System.Net.HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Admin?.Dispose();
        await Host.StopAsync();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
