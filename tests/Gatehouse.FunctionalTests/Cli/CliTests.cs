using System.Net;
using Gatehouse.FunctionalTests.Common;

namespace Gatehouse.FunctionalTests.Cli;

public class CliTests
{
    private static async Task<string> WriteTempAsync(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("gatehouse-cli-").FullName, "gatehouse.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    [Fact]
    public async Task Validate_ValidFile_ExitsZero()
    {
        var path = await WriteTempAsync("""
            services:
              a: { targets: ["http://127.0.0.1:5001"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: a }
            """);

        var (code, output) = await GatehouseProcess.RunAsync("validate", path);

        Assert.Equal(0, code);
        Assert.Contains($"{path}: valid", output);
    }

    [Fact]
    public async Task Validate_InvalidFile_PrintsEveryErrorAsFileLineColumn()
    {
        var path = await WriteTempAsync("""
            services:
              users:
                targets: ["http://127.0.0.1:5001"]
                timout: 5s
                loadBalancing: roundRobin
              orders:
                targets: ["http://127.0.0.1:5002"]
                timeout: 5
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: users }
              - { name: orders, match: { path: "/orders/{**rest}" }, service: orders }
              - { name: all, match: { path: "/x" }, service: user }
            """);

        var (code, output) = await GatehouseProcess.RunAsync("validate", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:4:5: unknown key 'timout' in services.users; did you mean 'timeout'?", output);
        Assert.Contains($"{path}:8:5: services.orders.timeout: '5' needs a unit", output);
        Assert.Contains($"{path}:11:", output); // shadowed by the catch-all
        Assert.Contains("route 'orders' can never match: route 'all'", output);
        Assert.Contains($"{path}:12:7: route name 'all' is already used at line 10", output);
        Assert.Contains("refers to service 'user', which is not defined; did you mean 'users'?", output);
    }

    [Fact]
    public async Task Explain_ShowsMatchAndWhyOthersDidNot()
    {
        var path = await WriteTempAsync("""
            services:
              a: { targets: ["http://127.0.0.1:5001"] }
            routes:
              - { name: users, match: { path: "/users/{id}", methods: [GET], hosts: [api.example.com] }, service: a }
              - { name: beta, match: { path: "/users/{id}", headers: { X-Beta: "1" } }, service: a }
              - { name: orders, match: { path: "/orders/{**rest}" }, service: a }
            """);

        var (code, output) = await GatehouseProcess.RunAsync("explain", "--config", path, "GET", "http://other.example.com/users/7", "-H", "X-Beta: 1");
        var (missCode, missOutput) = await GatehouseProcess.RunAsync("explain", "--config", path, "GET", "http://other.example.com/users/7");

        Assert.Equal(0, code);
        Assert.Contains("matched route 'beta'", output);
        Assert.Contains("route 'users' (line 4): host 'other.example.com' is not one of api.example.com", output);
        Assert.Contains("route 'orders' (line 6): path '/users/7' does not match '/orders/{**rest}'", output);
        Assert.Equal(3, missCode);
        Assert.Contains("404", missOutput);
        Assert.Contains("header X-Beta is not 1", missOutput);
    }

    [Fact]
    public async Task Run_InvalidConfig_ExitsWithErrors()
    {
        var path = await WriteTempAsync("servics: {}\n");

        var (code, output) = await GatehouseProcess.RunAsync("run", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:1:1: unknown key 'servics'", output);
    }

    [Fact]
    public async Task Run_NoConfig_ServesEmbeddedQuickStartWithDemoBackend()
    {
        // An empty working directory, so no ./gatehouse.yaml is found; ports moved off the fixed quick-start ones.
        var directory = Directory.CreateTempSubdirectory("gatehouse-quickstart-").FullName;
        await using var gateway = GatehouseProcess.Start(["run"], directory,
            new Dictionary<string, string> { ["GATEHOUSE_PORT"] = "0", ["GATEHOUSE_ADMIN_PORT"] = "0" });
        var url = await gateway.WaitForListeningAsync();
        using var client = TestGateway.NewClient(url);

        using var response = await client.GetAsync("/demo/hello?x=1");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"path\": \"/echo/hello\"", body);
        Assert.Contains("\"X-Gateway\": \"gatehouse\"", body);
        Assert.True(gateway.HasLine("embedded quick-start config"));
    }
}
