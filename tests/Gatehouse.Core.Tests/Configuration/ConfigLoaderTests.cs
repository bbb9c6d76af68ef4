using Gatehouse.Configuration;

namespace Gatehouse.Core.Tests.Configuration;

public class ConfigLoaderTests
{
    private const string Valid = """
        listen: ["http://0.0.0.0:8080"]
        admin: { listen: "http://127.0.0.1:9901" }
        limits: { maxUrlBytes: 8KB, maxHeaderBytes: 32KB, maxBodyBytes: 10MB }
        services:
          users:
            targets: ["http://127.0.0.1:5001", "http://127.0.0.1:5002"]
            loadBalancing: powerOfTwoChoices
            healthCheck: { path: /healthz, interval: 10s, timeout: 2s }
            timeout: 30s
        routes:
          - name: users
            match: { path: "/api/users/{**rest}", methods: [GET, POST], hosts: ["api.example.com"] }
            service: users
            rewrite: { path: "/users/{**rest}" }
            headers: { set: { X-Env: prod }, remove: [X-Debug] }
            limits: { maxBodyBytes: 1MB }
        """;

    private static ConfigException Refused(string yaml, Func<string, string?>? variables = null) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(yaml, "test.yaml", variables ?? (_ => null)));

    [Fact]
    public void Load_IssueExample_BindsEveryKey()
    {
        var options = ConfigLoader.Load(Valid, "test.yaml", _ => null);

        Assert.Equal("http://0.0.0.0:8080", Assert.Single(options.Listen).Url);
        Assert.Equal(8192, options.Limits.MaxUrlBytes);
        Assert.Equal(32 * 1024, options.Limits.MaxHeaderBytes);
        var service = Assert.Single(options.Services);
        Assert.Equal(["http://127.0.0.1:5001", "http://127.0.0.1:5002"], service.Targets.Select(t => t.Url));
        Assert.Equal(LoadBalancingMode.PowerOfTwoChoices, service.LoadBalancing);
        Assert.Equal(TimeSpan.FromSeconds(10), service.HealthCheck!.Interval);
        Assert.Equal(TimeSpan.FromSeconds(30), service.Timeout!.Idle);
        var route = Assert.Single(options.Routes);
        Assert.Equal(["GET", "POST"], route.Match.Methods);
        Assert.Equal("/users/{**rest}", route.Rewrite!.Path);
        Assert.Equal("prod", route.Headers!.Set.Single(h => h.Key == "X-Env").Value);
        Assert.Equal(["X-Debug"], route.Headers.Remove);
        Assert.Equal(1024 * 1024, route.Limits!.MaxBodyBytes);
    }

    [Fact]
    public void Load_Json_IsAccepted()
    {
        var json = """
            { "services": { "a": { "targets": ["http://127.0.0.1:1"] } },
              "routes": [ { "name": "r", "match": { "path": "/{**rest}" }, "service": "a" } ] }
            """;
        var options = ConfigLoader.Load(json, "test.json", _ => null);
        Assert.Equal("r", Assert.Single(options.Routes).Name);
    }

    [Fact]
    public void Load_EnvironmentVariables_AreSubstituted()
    {
        var yaml = """
            services:
              a: { targets: ["${BACKEND}", "http://127.0.0.1:${PORT:-7000}"] }
            routes:
              - { name: r, match: { path: "/{**rest}" }, service: a }
            """;
        var options = ConfigLoader.Load(yaml, "t.yaml", name => name == "BACKEND" ? "http://10.0.0.1:80" : null);
        Assert.Equal(["http://10.0.0.1:80", "http://127.0.0.1:7000"], options.Services[0].Targets.Select(t => t.Url));
    }

    public static TheoryData<string, int, int, string> InvalidConfigs => new()
    {
        // yaml, line, column, message fragment
        { "servics: {}\nroutes: []", 1, 1, "did you mean 'services'" },
        { "services:\n  a:\n    targets: [\"http://127.0.0.1:1\"]\n    timout: 5s\nroutes: []", 4, 5, "did you mean 'timeout'" },
        { "services:\n  a:\n    targets: [\"http://127.0.0.1:1\"]\n    timeout: 5\nroutes: []", 4, 5, "needs a unit" },
        { "services:\n  a:\n    targets: [\"http://127.0.0.1:1\"]\n    loadBalancing: roundrobbin\nroutes: []", 4, 5, "did you mean 'roundRobin'" },
        { "limits: { maxBodyBytes: lots }\nservices: {}\nroutes: []", 1, 11, "not a size" },
        { "services: {}\nroutes:\n  - name: r\n    match: { path: /x }\n    service: missing", 5, 5, "service 'missing', which is not defined" },
        { "services:\n  users: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - name: r\n    match: { path: /x }\n    service: user", 6, 5, "did you mean 'users'" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: /x }, service: a }\n  - { name: r, match: { path: /y }, service: a }", 5, 7, "route name 'r' is already used" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: all, match: { path: \"/{**rest}\" }, service: a }\n  - { name: users, match: { path: /users }, service: a }", 5, 29, "route 'users' can never match: route 'all'" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: \"/x/{id\" }, service: a }", 4, 25, "not a valid route template" },
        { "services:\n  a: { targets: [\"ftp://127.0.0.1:1\"] }\nroutes: []", 2, 18, "absolute http:// or https://" },
        { "services:\n  a: { targets: [] }\nroutes: []", 2, 3, "needs at least one target" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: /x, methods: [get] }, service: a }", 4, 35, "methods are upper case" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: \"/x/{id}\" }, service: a, rewrite: { path: \"/y/{other}\" } }", 4, 67, "does not capture" },
        { "listen: [\"https://0.0.0.0:8443\"]\nservices: {}\nroutes: []", 1, 10, "needs a certificate" },
        { "listen: [\"http://0.0.0.0:8080\"]\nservices:\n  a: { targets: [\"${NOPE}\"] }\nroutes: []", 3, 18, "environment variable 'NOPE' is not set" },
        { "routes: [\n", 2, 1, "not valid YAML" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\n  a: { targets: [\"http://127.0.0.1:2\"] }\nroutes: []", 3, 3, "not valid YAML" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: /x, query: { v: { mode: notExists } } }, service: a }", 4, 44, "no notExists" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: \"/x/{id:foo}\" }, service: a }", 4, 25, "not a known route constraint" },
        { "services:\n  a: { targets: [\"http://127.0.0.1:1\"] }\nroutes:\n  - { name: r, match: { path: \"/x/{id:min(abc)}\" }, service: a }", 4, 25, "not a valid route template" },
        { "listen: [\"http://gateway.internal:8080\"]\nservices: {}\nroutes: []", 1, 10, "not a host name" },
        { "admin: { listen: \"http://admin.internal:9901\" }\nservices: {}\nroutes: []", 1, 10, "not a host name" },
        { "trustedProxies: [\"10.0.0.0/33\"]\nservices: {}\nroutes: []", 1, 1, "not an IP address or CIDR range" },
        { "ipFilter: { allow: [\"10.0.0.0/8\", \"intranet\"] }\nservices: {}\nroutes: []", 1, 13, "'intranet' is not an IP address" },
        { "routes:\n  - { name: ~, match: { path: /x }, service: a }\nservices:\n  a: { targets: [\"http://127.0.0.1:1\"] }", 2, 5, "route needs a 'name'" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void Load_InvalidConfig_ReportsFileLineColumnAndReason(string yaml, int line, int column, string fragment)
    {
        var e = Refused(yaml);

        var error = Assert.Single(e.Errors, x => x.Message.Contains(fragment, StringComparison.Ordinal));
        Assert.Equal("test.yaml", error.File);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.StartsWith($"test.yaml:{line}:{column}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeveralErrors_ReportsAllOfThem()
    {
        var e = Refused("servics: {}\nroute: []\nlisten: [\"ftp://x\"]");
        Assert.True(e.Errors.Count >= 3, string.Join("\n", e.Errors));
    }

    [Fact]
    public void Load_RegexConstraint_IsAccepted()
    {
        var yaml = """
            services:
              a: { targets: ["http://127.0.0.1:1"] }
            routes:
              - { name: r, match: { path: "/x/{id:regex(^[a-z]+$)}" }, service: a }
            """;
        Assert.Single(ConfigLoader.Load(yaml, "t.yaml", _ => null).Routes);
    }

    [Fact]
    public void Load_MergeKeys_ShareSettings()
    {
        var yaml = """
            services:
              a: &defaults { targets: ["http://127.0.0.1:1"], loadBalancing: roundRobin, timeout: 5s }
              b:
                <<: *defaults
                healthCheck: { path: /healthz }
            routes: []
            """;
        var options = ConfigLoader.Load(yaml, "t.yaml", _ => null);
        var b = options.Services.Single(s => s.Name == "b");
        Assert.Equal(LoadBalancingMode.RoundRobin, b.LoadBalancing);
        Assert.Equal(TimeSpan.FromSeconds(5), b.Timeout!.Idle);
        Assert.Equal("/healthz", b.HealthCheck!.Path);
    }

    [Fact]
    public void Load_NullValues_MeanNotSet()
    {
        var yaml = """
            listen: ~
            admin:
            services:
              a: { targets: ["http://127.0.0.1:1"], timeout: null }
            routes: []
            """;
        var options = ConfigLoader.Load(yaml, "t.yaml", _ => null);
        Assert.Equal("http://0.0.0.0:8080", Assert.Single(options.Listen).Url);
        Assert.Null(options.Services[0].Timeout);
    }

    [Fact]
    public void Load_DeeplyNested_RefusedWithoutCrashing()
    {
        var yaml = "services: " + new string('[', 5000) + new string(']', 5000);
        var e = Refused(yaml);
        Assert.Contains(e.Errors, x => x.Message.Contains("nested more than", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_BadTargetWithCredentials_ErrorDoesNotShowThem()
    {
        var e = Refused("services:\n  a: { targets: [\"ftp://user:hunter2@127.0.0.1:1\"] }\nroutes: []");
        Assert.DoesNotContain(e.Errors, x => x.Message.Contains("hunter2", StringComparison.Ordinal));
        Assert.Contains(e.Errors, x => x.Message.Contains("ftp://***@127.0.0.1:1", StringComparison.Ordinal));
    }

    [Fact]
    public void CertificateOptions_ToString_HidesPassword() =>
        Assert.DoesNotContain("hunter2", new CertificateOptions { Path = "c.pfx", Password = "hunter2" }.ToString(), StringComparison.Ordinal);

    [Fact]
    public void Load_NarrowerRouteBeforeCatchAll_IsAccepted()
    {
        var yaml = """
            services:
              a: { targets: ["http://127.0.0.1:1"] }
            routes:
              - { name: users, match: { path: "/users/{id}", methods: [GET] }, service: a }
              - { name: users-any-host, match: { path: "/users/{id}", hosts: [a.example.com] }, service: a }
              - { name: all, match: { path: "/{**rest}" }, service: a }
            """;
        Assert.Equal(3, ConfigLoader.Load(yaml, "t.yaml", _ => null).Routes.Count);
    }
}
