using Gatehouse.FunctionalTests.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.FunctionalTests.Hosting;

public class HostConfigurationTests
{
    [Fact]
    public async Task NoHostConfigurationFile_IsWatched()
    {
        // A recursive watcher on the working directory woke on every access-log write made under it (bench/).
        await using var gateway = await TestGateway.StartAsync("""
            services:
              s: { targets: ["http://127.0.0.1:9"] }
            routes:
              - { name: all, match: { path: "/{**rest}" }, service: s }
            """);
        var configuration = (IConfigurationRoot)gateway.Host.ProxyServices.GetRequiredService<IConfiguration>();

        var fileSources = configuration.Providers.OfType<FileConfigurationProvider>().Select(p => p.Source).ToList();

        Assert.NotEmpty(fileSources);
        Assert.All(fileSources, source => Assert.False(source.ReloadOnChange, $"{source.Path} is watched"));
    }
}
