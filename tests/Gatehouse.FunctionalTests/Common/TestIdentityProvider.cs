using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>
/// A real OpenID Connect provider (the npm package oidc-provider, tests/idp/server.mjs) on 127.0.0.1, port 0.
/// test.sh installs it with npm ci. Besides the standard endpoints it has test-only ones to rotate the signing
/// key, drop old keys, and sign arbitrary claims with the current key.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private TestIdentityProvider(Process process, int port)
    {
        _process = process;
        Issuer = $"http://127.0.0.1:{port}";
    }

    public string Issuer { get; }

    private static string ServerScript
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "idp", "server.mjs");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException("tests/idp/server.mjs not found above the test output directory");
        }
    }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var script = ServerScript;
        var info = new ProcessStartInfo("node", [script, "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        var process = Process.Start(info)!;
        var ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }

                if (line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    ready.TrySetResult(int.Parse(line[10..], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Exited += (_, _) =>
        {
            // Exited is raised on a thread-pool thread while the output readers may still append: read under their lock
            // (an unlocked ToString crashed the test host once, when the provider was stopped at a test's end).
            string text;
            lock (output)
            {
                text = output.ToString();
            }

            ready.TrySetException(new InvalidOperationException("the identity provider exited: " + text));
        };
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var port = await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new TestIdentityProvider(process, port);
    }

    /// <summary>A client_credentials access token; <paramref name="resource"/> urn:gateway gives a JWT, urn:opaque an opaque token.</summary>
    public async Task<string> GetTokenAsync(string scope = "orders.read", string client = "app", string secret = "app-secret", string resource = "urn:gateway")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = scope, ["resource"] = resource }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client}:{secret}")));
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>A JWT with these claims (and header fields), signed with the provider's current key.</summary>
    public async Task<string> SignAsync(object claims, object? header = null)
    {
        using var response = await _http.PostAsync(Issuer + "/test/sign", new StringContent(JsonSerializer.Serialize(new { header = header ?? new { }, claims })));
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>RFC 7009 revocation, as the client that holds the token.</summary>
    public async Task RevokeAsync(string token, string client = "app", string secret = "app-secret")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Issuer + "/token/revocation")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{client}:{secret}")));
        using var response = await _http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Members the IdP merges into every introspection answer from now on (its real answer otherwise).</summary>
    public async Task PatchIntrospectionAsync(string json) =>
        (await _http.PostAsync(Issuer + "/test/introspection-patch", new StringContent(json))).EnsureSuccessStatusCode();

    public async Task<string> RotateKeyAsync() => await (await _http.PostAsync(Issuer + "/test/rotate", null)).Content.ReadAsStringAsync();

    public async Task DropOldKeysAsync() => (await _http.PostAsync(Issuer + "/test/drop-old", null)).EnsureSuccessStatusCode();

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        _http.Dispose();
    }
}
