using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Observability;

/// <summary>The access log: ECS NDJSON lines to a file, no secrets, size-based rotation, sampling of successes.</summary>
public class AccessLogTests
{
    private const string ApiKey = "key-4f1c2d9e8b7a";
    private static readonly string ApiKeyHash = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)));

    /// <summary>Reads every line written so far (the writer may be mid-file: only whole lines count).</summary>
    internal static List<JsonElement> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(stream).ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
    }

    internal static async Task<List<JsonElement>> WaitForLinesAsync(string path, int count)
    {
        var lines = new List<JsonElement>();
        await Wait.UntilAsync(() => (lines = ReadLines(path)).Count >= count, $"{count} access log lines in {path}");
        return lines;
    }

    private static string TempLog() => Path.Combine(Directory.CreateTempSubdirectory("gatehouse-accesslog-").FullName, "access.log");

    [Fact]
    public async Task AccessLog_OneEcsLinePerRequest_GatewayFields_NoCredentials()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability:
              accessLog: { output: "{{log}}" }
            consumers:
              mobile-app: { apiKeys: ["{{ApiKeyHash}}"] }
            apiKey: { header: X-Api-Key, queryParameter: api_key }
            rateLimits:
              per-consumer: { limit: 100, window: 1m, key: consumer }
            services:
              users: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: users, match: { path: "/users/{**rest}" }, service: users, auth: { providers: [apiKey] }, rateLimit: [per-consumer] }
            """);

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/users/7?view=full&api_key=" + ApiKey))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer bearer-secret-123");
            request.Headers.TryAddWithoutValidation("Cookie", "session=cookie-secret-456");
            request.Headers.TryAddWithoutValidation("User-Agent", "obs-test/1.0");
            request.Content = new StringContent("hello");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/users/8"))
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", ApiKey);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/users/9"))
        {
            request.Headers.TryAddWithoutValidation("X-Api-Key", "wrong-key-secret-789");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var lines = await WaitForLinesAsync(log, 3);

        Assert.Equal(3, lines.Count);
        var first = lines[0];
        Assert.True(DateTimeOffset.TryParse(first.GetProperty("@timestamp").GetString(), out _));
        Assert.Equal("8.11.0", first.GetProperty("ecs").GetProperty("version").GetString());
        Assert.InRange(first.GetProperty("event").GetProperty("duration").GetInt64(), 1, 30_000_000_000);
        Assert.Equal("POST", first.GetProperty("http").GetProperty("request").GetProperty("method").GetString());
        Assert.Equal(5, first.GetProperty("http").GetProperty("request").GetProperty("body").GetProperty("bytes").GetInt64());
        Assert.Equal(200, first.GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.True(first.GetProperty("http").GetProperty("response").GetProperty("body").GetProperty("bytes").GetInt64() > 0);
        Assert.Equal("/users/7", first.GetProperty("url").GetProperty("path").GetString());
        Assert.Equal("view=full&api_key=REDACTED", first.GetProperty("url").GetProperty("query").GetString());
        Assert.Equal("127.0.0.1", first.GetProperty("client").GetProperty("ip").GetString());
        Assert.Equal("obs-test/1.0", first.GetProperty("user_agent").GetProperty("original").GetString());
        Assert.Matches("^[0-9a-f]{32}$", first.GetProperty("trace").GetProperty("id").GetString());
        Assert.Matches("^[0-9a-f]{16}$", first.GetProperty("span").GetProperty("id").GetString());
        var gatehouse = first.GetProperty("gatehouse");
        Assert.Equal("users", gatehouse.GetProperty("route").GetString());
        Assert.Equal("users", gatehouse.GetProperty("service").GetString());
        Assert.Equal(backend.Url, gatehouse.GetProperty("target").GetString());
        Assert.True(gatehouse.GetProperty("upstream_duration").GetInt64() > 0);
        Assert.Equal(200, gatehouse.GetProperty("upstream_status_code").GetInt32());
        Assert.Equal("mobile-app", gatehouse.GetProperty("consumer").GetString());
        Assert.Equal("allowed", gatehouse.GetProperty("rate_limit").GetString());
        Assert.Equal(0, gatehouse.GetProperty("retries").GetInt32());

        var refused = lines[2];
        Assert.Equal(401, refused.GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("unauthenticated", refused.GetProperty("gatehouse").GetProperty("error_type").GetString());
        Assert.Equal("failure", refused.GetProperty("event").GetProperty("outcome").GetString());
        Assert.False(refused.GetProperty("gatehouse").TryGetProperty("rate_limit", out _), "authentication refused it before any limit ran");

        var text = await File.ReadAllTextAsync(log);
        Assert.DoesNotContain(ApiKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("bearer-secret-123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cookie-secret-456", text, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key-secret-789", text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKeyHash, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessLog_OverMaxFileBytes_RotatesKeepingMaxFiles_EveryLineWhole()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability:
              accessLog: { output: "{{log}}", maxFileBytes: 4KB, maxFiles: 2 }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/{**rest}" }, service: s }
            """);

        for (var i = 0; i < 120; i++)
        {
            using var response = await gateway.Client.GetAsync($"/rotate/{i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await Wait.UntilAsync(() => ReadLines(log).Any(l => l.GetProperty("url").GetProperty("path").GetString() == "/rotate/119"), "the last request's line");

        Assert.True(File.Exists(log + ".1"));
        Assert.True(File.Exists(log + ".2"));
        Assert.False(File.Exists(log + ".3"));
        foreach (var file in new[] { log, log + ".1", log + ".2" })
        {
            Assert.InRange(new FileInfo(file).Length, 1, 4096);
            Assert.NotEmpty(ReadLines(file));
        }

        // The newest rotated file ends where the live one starts.
        var last = ReadLines(log + ".1")[^1].GetProperty("url").GetProperty("path").GetString()!;
        var next = ReadLines(log)[0].GetProperty("url").GetProperty("path").GetString()!;
        Assert.Equal(int.Parse(last["/rotate/".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1, int.Parse(next["/rotate/".Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AccessLog_RateLimitOutcomes_AllowedShadowRejectedRejected()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability: { accessLog: { output: "{{log}}" } }
            rateLimits:
              trial: { limit: 1, window: 1m, key: ip, mode: shadow }
              strict: { limit: 1, window: 1m, key: ip }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: shadowed, match: { path: "/shadowed" }, service: s, rateLimit: [trial] }
              - { name: strict, match: { path: "/strict" }, service: s, rateLimit: [strict] }
            """);

        foreach (var path in new[] { "/shadowed", "/shadowed", "/strict", "/strict" })
        {
            using var response = await gateway.Client.GetAsync(path);
        }

        var outcomes = (await WaitForLinesAsync(log, 4)).Select(l => l.GetProperty("gatehouse").GetProperty("rate_limit").GetString()).ToList();

        Assert.Equal(["allowed", "shadow_rejected", "allowed", "rejected"], outcomes);
    }

    [Fact]
    public async Task AccessLog_SampleSuccessZero_DropsSuccessLines_KeepsErrors()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability:
              accessLog: { output: "{{log}}", sampleSuccess: 0 }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: r, match: { path: "/ok/{**rest}" }, service: s }
            """);

        for (var i = 0; i < 20; i++)
        {
            using var ok = await gateway.Client.GetAsync($"/ok/{i}");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var missing = await gateway.Client.GetAsync("/missing"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var lines = await WaitForLinesAsync(log, 1);

        // Lines are written in order, so the 404's line being there means no success line is still on its way.
        Assert.Single(lines);
        Assert.Equal(404, lines[0].GetProperty("http").GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("no-route", lines[0].GetProperty("gatehouse").GetProperty("error_type").GetString());
    }

    [Fact]
    public async Task AccessLog_CachedRoute_CacheResultOfEachRequest()
    {
        var log = TempLog();
        await using var backend = await TestBackend.StartEchoAsync();
        await using var gateway = await TestGateway.StartAsync($$"""
            observability:
              accessLog: { output: "{{log}}" }
            services:
              s: { targets: ["{{backend.Url}}"] }
            routes:
              - { name: cached, match: { path: "/cached/{**rest}" }, service: s, cache: { ttl: 60s } }
            """);

        for (var i = 0; i < 2; i++)
        {
            using var response = await gateway.Client.GetAsync("/cached/item");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var post = await gateway.Client.PostAsync("/cached/item", new StringContent("x")))
        {
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        }

        var lines = await WaitForLinesAsync(log, 3);
        Assert.Equal(["miss", "hit", "bypass"], lines.Select(l => l.GetProperty("gatehouse").GetProperty("cache").GetString()));
    }
}
