using Gatehouse.Admin;
using Gatehouse.Configuration;
using Gatehouse.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Hosting;

/// <summary>
/// A running gateway: the proxy listeners, the admin listener and the reload machinery. Used by
/// <c>gatehouse run</c> and, in-process on port 0, by the functional tests.
/// </summary>
public sealed partial class GatewayHost : IAsyncDisposable
{
    private readonly GatewayHostOptions _options;
    private readonly WebApplication _app;
    private readonly WebApplication? _admin;
    private readonly GatewayState _state;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private GatewaySnapshot _startLimits = null!;
    private ConfigFileWatcher? _watcher;
    private System.Runtime.InteropServices.PosixSignalRegistration? _signal;

    /// <summary>Builds the two applications from the loaded options; <see cref="CreateAsync"/> then compiles the first snapshot with the proxy's services.</summary>
    private GatewayHost(GatewayHostOptions options, GatewayOptions loaded)
    {
        _options = options;
        _state = new GatewayState();

        var builder = WebApplication.CreateSlimBuilder(HostOptions());
        ConfigureLogging(builder.Logging, options);

        builder.WebHost.ConfigureKestrel(k => KestrelSetup.Configure(k, loaded));
        builder.Services.AddSingleton(_state);
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteOptions>(Gatehouse.Routing.RouteMatcher.ConfigureRouting);
        builder.Services.AddSingleton<IConfigChangeListener>(new ProxyApplyListener(this));
        GatewayPipeline.AddGatewayServices(builder.Services);
        Observability.ObservabilitySetup.AddObservability(builder.Services, loaded);
        _app = builder.Build();
        _logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Host");

        if (loaded.Admin.Listen.Length > 0)
        {
            var adminBuilder = WebApplication.CreateSlimBuilder(HostOptions());
            ConfigureLogging(adminBuilder.Logging, options);
            var adminUri = new Uri(loaded.Admin.Listen);
            adminBuilder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                KestrelSetup.Listen(k, adminUri, _ => { });
            });
            _admin = adminBuilder.Build();
            AdminAuth.Use(_admin, _state, AdminAuth.IsLoopback(adminUri));
            AdminEndpoints.Map(_admin, this);
            Observability.ObservabilitySetup.MapMetrics(_admin, _app.Services);
        }
    }

    /// <summary>
    /// The hosts' options. <c>hostBuilder:reloadConfigOnChange=false</c>: the default host watches appsettings.json
    /// with a recursive inotify watcher on the content root (the working directory), which Gatehouse does not read
    /// for its own config; an access log written anywhere under that directory then woke the watcher thread on every
    /// write (measured: ~1% of the gateway's CPU with the access log on). The gateway's YAML has its own watcher.
    /// </summary>
    internal static WebApplicationOptions HostOptions() => new()
    {
        Args = ["--hostBuilder:reloadConfigOnChange=false"],
        EnvironmentName = Environments.Production,
    };

    /// <summary>The outcome of the last load or reload, for the admin API and tests.</summary>
    public ConfigStatus Status { get; private set; } = null!;

    public bool IsReady { get; private set; }

    /// <summary>The proxy listeners' actual addresses (port 0 resolved).</summary>
    public IReadOnlyList<string> Urls => Addresses(_app);

    public string? AdminUrl => _admin is null ? null : Addresses(_admin).FirstOrDefault();

    internal GatewayState State => _state;

    /// <summary>The admin application, for tests that enumerate its endpoints; null when the admin listener is off.</summary>
    internal WebApplication? AdminApp => _admin;

    /// <summary>The proxy application's services (YARP's state for the admin API).</summary>
    internal IServiceProvider ProxyServices => _app.Services;

    /// <summary>Loads, validates and compiles the config; throws <see cref="ConfigException"/> with every error.</summary>
    public static async Task<GatewayHost> CreateAsync(GatewayHostOptions options)
    {
        var (text, name) = ReadSource(options);
        var loaded = ConfigLoader.Load(text, name, Variables(options));
        var host = new GatewayHost(options, loaded);
        try
        {
            var snapshot = await CompileAsync(loaded, text, name, generation: 1, host._app.Services, previous: null, checkOnly: false);
            host._state.Swap(snapshot);
            host._startLimits = snapshot;
            host.Status = new ConfigStatus(snapshot.Generation, snapshot.Hash, snapshot.LoadedAt, true, "initial load", []);
            GatewayPipeline.UseGateway(host._app);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken);
        if (_admin is not null)
        {
            await _admin.StartAsync(cancellationToken);
        }

        if (_options.ConfigPath is { } path && _options.WatchConfigFile)
        {
            _watcher = new ConfigFileWatcher(path, () => _ = ReloadAsync("file changed"), () => _state.Current.Options.Services
                .SelectMany(s => new[] { s.Grpc?.DescriptorsPath, s.Tls?.CaFilePath })
                .OfType<string>()
                .Select(Path.GetFullPath));
        }

        if (_options.ReloadOnSignal && !OperatingSystem.IsWindows())
        {
            _signal = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGHUP,
                context =>
                {
                    context.Cancel = true;
                    _ = ReloadAsync("SIGHUP");
                });
        }

        IsReady = true;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var urls = string.Join(", ", Urls);
            LogStarted(_logger, urls, AdminUrl ?? "off", _state.Current.Hash[..12]);
        }
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>
    /// Parse → validate → compile → swap. A bad file is refused with its errors logged and recorded in
    /// <see cref="Status"/>; the config in force keeps serving. Reloads are serialised (they are rare and must not interleave).
    /// </summary>
    public async Task<ConfigStatus> ReloadAsync(string reason)
    {
        await _reloadGate.WaitAsync();
        try
        {
            var current = _state.Current;
            try
            {
                var (text, name) = ReadSource(_options);
                // Descriptor sets and CA files are files beside the config: a reload signal must read them again even when the text is the same.
                if (text == current.Source && !current.Options.Services.Any(s => s.Grpc is { Descriptors: not null } or { Reflection: true } || s.Tls is { CaFile: not null }))
                {
                    // Unchanged, or reverted to the config in force after a refused edit: that is a success now.
                    Status = new ConfigStatus(current.Generation, current.Hash, current.LoadedAt, true, reason, []) { LastAttemptAt = DateTimeOffset.UtcNow };
                    return Status;
                }

                var loaded = ConfigLoader.Load(text, name, Variables(_options), _app.Services.GetServices<IGatewayOptionsValidator>());
                var snapshot = await CompileAsync(loaded, text, name, current.Generation + 1, _app.Services, current, checkOnly: false);
                WarnAboutRestartOnlyChanges(current.Options, snapshot);
                _state.Swap(snapshot);
                RuntimeObjects.Retire(current, snapshot);
                Status = new ConfigStatus(snapshot.Generation, snapshot.Hash, snapshot.LoadedAt, true, reason, []);
                LogReloaded(_logger, reason, snapshot.Generation, snapshot.Hash[..12]);
                _app.Services.GetRequiredService<Observability.GatewayMetrics>().ConfigReloaded(success: true);
            }
            catch (ConfigException e)
            {
                RecordFailure(reason, e.Errors);
            }
            catch (Exception e)
            {
                // Whatever else goes wrong, the running config keeps serving and the failure is visible.
                LogReloadFailed(_logger, reason, e);
                RecordFailure(reason, [new ConfigError(_options.ConfigPath ?? _options.ConfigName, 0, 0, $"reload failed: {e.Message}")]);
            }

            return Status;
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    private void RecordFailure(string reason, IReadOnlyList<ConfigError> errors)
    {
        _app.Services.GetRequiredService<Observability.GatewayMetrics>().ConfigReloaded(success: false);
        Status = Status with { LastAttemptAt = DateTimeOffset.UtcNow, LastAttemptSucceeded = false, Reason = reason, Errors = errors };
        foreach (var error in errors)
        {
            LogReloadRefused(_logger, reason, error);
        }
    }

    /// <summary>YARP applies a swapped config on its own schedule; if it fails, the status must not claim success.</summary>
    private sealed class ProxyApplyListener(GatewayHost host) : IConfigChangeListener
    {
        public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) =>
            host.RecordFailure("YARP could not load the config", [new ConfigError(host._options.ConfigPath ?? host._options.ConfigName, 0, 0, exception.Message)]);

        public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
        {
        }

        public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) =>
            host.RecordFailure("YARP could not apply the config", [new ConfigError(host._options.ConfigPath ?? host._options.ConfigName, 0, 0, exception.Message)]);

        public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs)
        {
        }
    }

    public async Task StopAsync()
    {
        IsReady = false;
        _watcher?.Dispose();
        _signal?.Dispose();
        if (_admin is not null)
        {
            await _admin.StopAsync();
        }

        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _watcher?.Dispose();
        _signal?.Dispose();

        // A reload started by the watcher just before may still hold the gate.
        await _reloadGate.WaitAsync();
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        await _app.DisposeAsync();
        _reloadGate.Dispose();
    }

    private static (string Text, string Name) ReadSource(GatewayHostOptions options)
    {
        if (options.ConfigPath is { } path)
        {
            try
            {
                return (File.ReadAllText(path), path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException([new ConfigError(path, 0, 0, $"cannot read the file: {e.Message}")]);
            }
        }

        return (options.ConfigText ?? throw new ArgumentException("ConfigPath or ConfigText is required"), options.ConfigName);
    }

    private static Func<string, string?> Variables(GatewayHostOptions options) => options.Variables is { } v
        ? key => v.TryGetValue(key, out var value) ? value : Environment.GetEnvironmentVariable(key)
        : Environment.GetEnvironmentVariable;

    /// <summary>
    /// Load, validate, compile and check with YARP's own validator, as <c>gatehouse validate</c> and <c>explain</c> do:
    /// the standalone services, nothing connected. Throws <see cref="ConfigException"/> with every error.
    /// </summary>
    internal static async Task<GatewaySnapshot> CompileAsync(string text, string name, GatewayHostOptions options, long generation)
    {
        var loaded = ConfigLoader.Load(text, name, Variables(options));
        return await CompileAsync(loaded, text, name, generation, GatewayPipeline.StandaloneServices, previous: null, checkOnly: true);
    }

    /// <summary>The one compile path of a running gateway, its reloads and its tools: compile, then YARP's check; a refused snapshot gives back what it made.</summary>
    private static async Task<GatewaySnapshot> CompileAsync(GatewayOptions loaded, string text, string name, long generation, IServiceProvider services, GatewaySnapshot? previous, bool checkOnly)
    {
        var snapshot = await GatewayCompiler.CompileAsync(loaded, text, generation, previous, services, checkOnly);
        var errors = await ProxyConfigCheck.CheckAsync(snapshot, name, services.GetRequiredService<IConfigValidator>());
        if (errors.Count > 0)
        {
            RuntimeObjects.Retire(snapshot, previous);
            throw new ConfigException(errors);
        }

        return snapshot;
    }

    private void WarnAboutRestartOnlyChanges(GatewayOptions before, GatewaySnapshot next)
    {
        // Kestrel's hard limits are fixed at start (KestrelSetup); raising a limit past them needs a restart.
        var after = next.Options;
        var started = _startLimits;
        if (next.MaxUrlBytes > started.MaxUrlBytes * 2 || next.MaxHeaderBytes > Math.Max(started.MaxHeaderBytes * 2, 64 * 1024))
        {
            LogRestartNeeded(_logger);
        }

        if (!before.Listen.Select(l => (l.Url, l.Protocols, l.Certificate?.Path)).SequenceEqual(after.Listen.Select(l => (l.Url, l.Protocols, l.Certificate?.Path)))
            || before.Admin.Listen != after.Admin.Listen
            || !Observability.ObservabilityOptions.SameSettings(before.Observability, after.Observability))
        {
            LogRestartNeeded(_logger);
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging, GatewayHostOptions options)
    {
        logging.ClearProviders();
        // A full log queue drops lines instead of blocking: socket completions run inline on the epoll threads.
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.QueueFullMode = Microsoft.Extensions.Logging.Console.ConsoleLoggerQueueFullMode.DropWrite);
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });

        // YARP and ASP.NET Core log every request at Information; at gateway volume that costs more than the proxying.
        logging.SetMinimumLevel(options.MinimumLogLevel);
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Yarp", LogLevel.Warning);

        // The gateway logs every forwarding failure itself, with route, service and request id.
        logging.AddFilter("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error);

        // With this category enabled at any level, ASP.NET Core starts an Activity and a log scope for every request
        // even when nothing listens; measured in bench/, turning it off raised routing-only throughput by ~18%.
        // Gatehouse logs what it needs itself, with the request id; tracing (when configured) starts its own activities.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        // YARP registers data protection for session affinity, which Gatehouse does not use; its key-storage warning is noise.
        logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        options.ConfigureLogging?.Invoke(logging);
    }

    private static string[] Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    [LoggerMessage(EventId = Observability.LogEvents.HostStarted, Level = LogLevel.Information, Message = "Gatehouse listening on {Urls}; admin on {AdminUrl}; config {Hash}")]
    private static partial void LogStarted(ILogger logger, string urls, string adminUrl, string hash);

    [LoggerMessage(EventId = Observability.LogEvents.ConfigReloaded, Level = LogLevel.Information, Message = "Config reloaded ({Reason}): generation {Generation}, hash {Hash}")]
    private static partial void LogReloaded(ILogger logger, string reason, long generation, string hash);

    [LoggerMessage(EventId = Observability.LogEvents.ConfigReloadRefused, Level = LogLevel.Error, Message = "Config reload ({Reason}) refused, the running config keeps serving: {Error}")]
    private static partial void LogReloadRefused(ILogger logger, string reason, ConfigError error);

    [LoggerMessage(EventId = Observability.LogEvents.ConfigReloadFailed, Level = LogLevel.Error, Message = "Config reload ({Reason}) failed, the running config keeps serving")]
    private static partial void LogReloadFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = Observability.LogEvents.RestartNeeded, Level = LogLevel.Warning, Message = "The new config changes 'listen', 'admin' or 'observability', or raises a limit past what the listeners were started with; those take effect on restart only. Everything else was applied.")]
    private static partial void LogRestartNeeded(ILogger logger);
}

/// <summary>What the last load or reload did.</summary>
public sealed record ConfigStatus(long Generation, string Hash, DateTimeOffset LoadedAt, bool LastAttemptSucceeded, string Reason, IReadOnlyList<ConfigError> Errors)
{
    public DateTimeOffset LastAttemptAt { get; init; } = LoadedAt;
}
