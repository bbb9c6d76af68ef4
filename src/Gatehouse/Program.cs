using Gatehouse.Cli;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.Routing;

// The composition root: parse the verb, hand over to Gatehouse.Core. No gateway logic lives here.
SocketTuning.Apply();
return args switch
{
    ["run", .. var rest] => await RunAsync(rest),
    [] => await RunAsync([]),
    ["validate", .. var files] when files.Length > 0 => Validate(files),
    ["explain", .. var rest] => Explain(rest),
    ["version" or "--version"] => PrintVersion(),
    ["help" or "--help" or "-h"] => Usage(0),
    _ => Usage(2),
};

static async Task<int> RunAsync(string[] args)
{
    string? configPath = null;
    var watch = true;
    for (var i = 0; i < args.Length; i++)
    {
        if (args[i] is "--config" or "-c" && i + 1 < args.Length)
        {
            configPath = args[++i];
        }
        else if (args[i] == "--no-watch")
        {
            watch = false;
        }
        else
        {
            Console.Error.WriteLine($"gatehouse run: unknown argument '{args[i]}'");
            return Usage(2);
        }
    }

    if (configPath is null && File.Exists("gatehouse.yaml"))
    {
        configPath = "gatehouse.yaml";
    }

    Microsoft.AspNetCore.Builder.WebApplication? demo = null;
    GatewayHostOptions options;
    if (configPath is null)
    {
        (demo, var demoUrl) = await DemoEchoBackend.StartAsync();
        using var stream = typeof(DemoEchoBackend).Assembly.GetManifestResourceStream("Gatehouse.default.yaml")!;
        options = new GatewayHostOptions
        {
            ConfigText = await new StreamReader(stream).ReadToEndAsync(),
            ConfigName = "(embedded default config)",
            Variables = new Dictionary<string, string> { ["DEMO_BACKEND"] = demoUrl },
        };
        Console.WriteLine($"No --config and no ./gatehouse.yaml: running the embedded quick-start config with a demo echo backend at {demoUrl}.");
    }
    else
    {
        options = new GatewayHostOptions { ConfigPath = configPath, WatchConfigFile = watch };
    }

    try
    {
        await using var host = await GatewayHost.CreateAsync(options);
        await host.StartAsync();
        if (demo is not null)
        {
            Console.WriteLine($"Try: curl -i {host.Urls[0]}/demo/hello");
        }

        await host.WaitForShutdownAsync();
        return 0;
    }
    catch (ConfigException e)
    {
        foreach (var error in e.Errors)
        {
            Console.Error.WriteLine(error);
        }

        return 1;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
    {
        // Address in use, an unreadable certificate and friends: say which, without a stack trace.
        Console.Error.WriteLine($"gatehouse: cannot start: {e.Message}");
        return 1;
    }
    finally
    {
        if (demo is not null)
        {
            await demo.DisposeAsync();
        }
    }
}

static int Validate(string[] files)
{
    var failed = 0;
    foreach (var file in files)
    {
        try
        {
            var text = ReadConfig(file);
            _ = GatewayHost.CompileAsync(text, file, new GatewayHostOptions { ConfigText = text }, 1).GetAwaiter().GetResult();
            Console.WriteLine($"{file}: valid");
        }
        catch (ConfigException e)
        {
            failed++;
            foreach (var error in e.Errors)
            {
                Console.Error.WriteLine(error);
            }
        }
    }

    return failed == 0 ? 0 : 1;
}

static string ReadConfig(string path)
{
    try
    {
        return File.ReadAllText(path);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        throw new ConfigException([new ConfigError(path, 0, 0, $"cannot read the file: {e.Message}")]);
    }
}

static int Explain(string[] args)
{
    string? configPath = null;
    var positional = new List<string>();
    var headers = new List<KeyValuePair<string, string>>();
    for (var i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--config" or "-c" when i + 1 < args.Length:
                configPath = args[++i];
                break;
            case "-H" or "--header" when i + 1 < args.Length:
                var header = args[++i];
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    Console.Error.WriteLine($"gatehouse explain: header '{header}' must look like 'Name: value'");
                    return 2;
                }

                headers.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
                break;
            default:
                positional.Add(args[i]);
                break;
        }
    }

    if (configPath is null || positional.Count != 2 || !Uri.TryCreate(positional[1], UriKind.Absolute, out var url))
    {
        Console.Error.WriteLine("usage: gatehouse explain --config FILE METHOD URL [-H 'Name: value']...   (URL is absolute: http://host/path?query)");
        return 2;
    }

    try
    {
        // The same load and compile path as validate (and run): a config explain accepts is one the gateway would load.
        var text = ReadConfig(configPath);
        var snapshot = GatewayHost.CompileAsync(text, configPath, new GatewayHostOptions { ConfigText = text }, 1).GetAwaiter().GetResult();
        var result = RouteExplainer.Explain(snapshot.Options, new ExplainRequest(positional[0].ToUpperInvariant(), url, headers));
        Console.Write(result);
        return result.MatchedRoute is null ? 3 : 0;
    }
    catch (ConfigException e)
    {
        foreach (var error in e.Errors)
        {
            Console.Error.WriteLine(error);
        }

        return 1;
    }
}

static int PrintVersion()
{
    Console.WriteLine($"gatehouse {typeof(GatewayHost).Assembly.GetName().Version}");
    return 0;
}

static int Usage(int code)
{
    var text = """
        usage:
          gatehouse run [--config FILE] [--no-watch]
                                                 start the gateway (default: ./gatehouse.yaml, else the embedded quick start);
                                                 the file is reloaded when it changes (unless --no-watch), on SIGHUP and on POST /reload
          gatehouse validate FILE...             check config files; errors print as FILE:LINE:COL: message
          gatehouse explain --config FILE METHOD URL [-H 'Name: value']...
                                                 which route a request matches, and why the others do not
          gatehouse version
        """;
    (code == 0 ? Console.Out : Console.Error).WriteLine(text);
    return code;
}
