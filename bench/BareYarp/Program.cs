// Bare YARP baseline for bench/run.sh: the code a user would write from YARP's docs.
// Usage: dotnet BareYarp.dll <listen-url> <backend-url> [--quiet-logs]
//   --quiet-logs (or BAREYARP_QUIET_LOGS=1): minimum level Warning everywhere.
//
// Without it, the template appsettings.json leaves "Default": "Information", so YARP's
// forwarder logs two Information lines per request. That is the out-of-the-box cost a
// user pays, so we measure it, and also the "logging tuned" variant next to it.
using Yarp.ReverseProxy.Configuration;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: BareYarp <listen-url> <backend-url> [--quiet-logs]");
    return 2;
}

string listenUrl = args[0];
string backendUrl = args[1];
bool quietLogs = args.Contains("--quiet-logs")
    || Environment.GetEnvironmentVariable("BAREYARP_QUIET_LOGS") == "1";

// Our positional args and flag are not configuration; pass anything else through the way
// the docs' CreateBuilder(args) would.
string[] configArgs = args.Skip(2).Where(a => a != "--quiet-logs").ToArray();
var builder = WebApplication.CreateBuilder(configArgs);
builder.WebHost.UseUrls(listenUrl);

if (quietLogs)
{
    // Override the config rule rather than SetMinimumLevel: appsettings' "Default"
    // rule would otherwise win over the provider-wide minimum.
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    });
}

RouteConfig[] routes =
[
    new RouteConfig
    {
        RouteId = "route1",
        ClusterId = "cluster1",
        Match = new RouteMatch { Path = "/{**catch-all}" },
    },
];

ClusterConfig[] clusters =
[
    new ClusterConfig
    {
        ClusterId = "cluster1",
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase)
        {
            ["destination1"] = new DestinationConfig { Address = backendUrl },
        },
    },
];

builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();

// One line on stderr so the run log records which GC the runtime really chose: the Web
// SDK asks for server GC, but a process pinned to one CPU gets workstation GC.
Console.Error.WriteLine(
    $"bareyarp: quietLogs={quietLogs} serverGC={System.Runtime.GCSettings.IsServerGC} cpus={Environment.ProcessorCount}");

app.Run();
return 0;
