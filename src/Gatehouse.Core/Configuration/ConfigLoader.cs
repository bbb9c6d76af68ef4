using Gatehouse.Policies.Authentication;
using Gatehouse.Policies.IpFilter;
using Gatehouse.Policies.PathFilter;
using Gatehouse.Policies.RateLimiting;
using Gatehouse.Redis;
using Gatehouse.Policies.RequestLimits;
using Gatehouse.Policies.Resilience;
using Gatehouse.Policies.Transcoding;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Configuration;

/// <summary>Turns config text (YAML or JSON) into <see cref="GatewayOptions"/>, or every error found with its position.</summary>
public static class ConfigLoader
{
    private static readonly string[] RootKeys = ["$schema", "listen", "admin", "limits", "trustedProxies", "forwardedHeader", "ipFilter", "deny", "pathNormalization", "requestHeaders", "identityProviders", "consumers", "apiKey", "auth", "redis", "rateLimits", "cache", "services", "routes", "observability"];
    private static readonly string[] ListenKeys = ["url", "protocols", "certificate"];
    private static readonly string[] CertificateKeys = ["path", "keyPath", "password"];
    private static readonly string[] AdminKeys = ["listen", "token", "allowedHosts"];
    private static readonly string[] ServiceKeys = ["targets", "loadBalancing", "healthCheck", "timeout", "httpVersion", "retry", "circuitBreaker", "maxConcurrentRequests", "protocol", "grpc", "tls"];
    private static readonly string[] TargetKeys = ["url", "healthUrl"];
    private static readonly string[] HealthKeys = ["path", "interval", "timeout", "unhealthyAfter", "passive", "reactivationPeriod", "whenAllUnhealthy", "ejectAfterFailures"];
    private static readonly string[] RouteKeys = ["name", "match", "service", "rewrite", "headers", "responseHeaders", "limits", "ipFilter", "deny", "auth", "forwardClaims", "rateLimit", "webSockets", "timeout", "fallback", "cache", "transcode"];
    private static readonly string[] MatchKeys = ["path", "methods", "hosts", "headers", "query"];
    private static readonly string[] ValueMatchKeys = ["values", "mode", "caseSensitive"];
    private static readonly string[] RewriteKeys = ["path", "stripPrefix"];
    private static readonly string[] HeaderEditKeys = ["set", "add", "remove"];

    private static readonly Dictionary<string, ListenProtocols> ProtocolNames = new()
    {
        ["http1"] = ListenProtocols.Http1,
        ["http2"] = ListenProtocols.Http2,
        ["http1AndHttp2"] = ListenProtocols.Http1AndHttp2,
    };

    private static readonly Dictionary<string, LoadBalancingMode> LoadBalancingNames = new()
    {
        ["powerOfTwoChoices"] = LoadBalancingMode.PowerOfTwoChoices,
        ["roundRobin"] = LoadBalancingMode.RoundRobin,
        ["leastRequests"] = LoadBalancingMode.LeastRequests,
        ["random"] = LoadBalancingMode.Random,
        ["first"] = LoadBalancingMode.First,
    };

    private static readonly Dictionary<string, ForwardedHeader> ForwardedHeaderNames = new()
    {
        ["X-Forwarded-For"] = ForwardedHeader.XForwardedFor,
        ["Forwarded"] = ForwardedHeader.Forwarded,
    };

    private static readonly Dictionary<string, bool> WhenAllUnhealthyNames = new()
    {
        ["fail"] = false,
        ["tryAll"] = true,
    };

    private static readonly Dictionary<string, ValueMatchMode> MatchModeNames = new()
    {
        ["exact"] = ValueMatchMode.Exact,
        ["prefix"] = ValueMatchMode.Prefix,
        ["contains"] = ValueMatchMode.Contains,
        ["notContains"] = ValueMatchMode.NotContains,
        ["exists"] = ValueMatchMode.Exists,
        ["notExists"] = ValueMatchMode.NotExists,
    };

    /// <summary>Parses and validates; throws <see cref="ConfigException"/> with every error.</summary>
    public static GatewayOptions Load(string text, string fileName, Func<string, string?>? variables = null) => Load(text, fileName, variables, null);

    /// <param name="validators">The policies' validators from the gateway's services; null: those of the standalone services (the same set).</param>
    internal static GatewayOptions Load(string text, string fileName, Func<string, string?>? variables, IEnumerable<IGatewayOptionsValidator>? validators)
    {
        var diagnostics = new ConfigDiagnostics(fileName);
        var options = Parse(text, diagnostics, variables ?? Environment.GetEnvironmentVariable);
        // Cross-section checks run even after key errors, so one run reports everything it can.
        if (options is not null)
        {
            GatewayOptionsValidator.Validate(options, diagnostics,
                validators ?? Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetServices<IGatewayOptionsValidator>(Pipeline.GatewayPipeline.StandaloneServices));
        }

        if (diagnostics.HasErrors || options is null)
        {
            throw new ConfigException(diagnostics.Errors);
        }

        return options;
    }

    public static GatewayOptions LoadFile(string path, Func<string, string?>? variables = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(path, 0, 0, $"cannot read the file: {e.Message}")]);
        }

        return Load(text, path, variables);
    }

    internal static GatewayOptions? Parse(string text, ConfigDiagnostics diagnostics, Func<string, string?> variables)
    {
        var stream = new YamlStream();
        try
        {
            if (!WithinDepth(text, diagnostics))
            {
                return null;
            }

            // MergingParser resolves '<<: *defaults' merge keys, which operators use to share settings between services.
            stream.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(new StringReader(text))));
        }
        catch (YamlException e)
        {
            // YamlDotNet wraps the real cause (e.g. a duplicate key) in InnerException with the same position.
            var message = e.InnerException?.Message ?? e.Message;
            if (message.Contains("flow", StringComparison.Ordinal))
            {
                message += " (quote values that contain { } [ ] or commas, such as route templates: path: \"/users/{id}\")";
            }

            diagnostics.Error(new SourcePosition((int)e.Start.Line, (int)e.Start.Column), $"not valid YAML: {message}");
            return null;
        }

        if (stream.Documents.Count == 0)
        {
            diagnostics.Error(new SourcePosition(1, 1), "the file is empty; it needs at least 'services' and 'routes'");
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            diagnostics.Error(ConfigNodeReader.PositionOf(stream.Documents[1].RootNode), "the file has more than one YAML document; put everything in one");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            diagnostics.Error(ConfigNodeReader.PositionOf(stream.Documents[0].RootNode), "the top level must be a mapping (listen, admin, limits, services, routes)");
            return null;
        }

        var context = new ConfigContext(diagnostics, variables);
        var reader = new ConfigNodeReader(root, context, "the top level", RootKeys);
        var limitsReader = reader.Mapping("limits", RequestLimitsOptions.GlobalKeys);
        var adminReader = reader.Mapping("admin", AdminKeys);
        var ipFilterReader = reader.Mapping("ipFilter", IpFilterOptions.Keys);
        var denyReader = reader.Mapping("deny", PathDenyOptions.Keys);
        var normalizationReader = reader.Mapping("pathNormalization", PathNormalizationOptions.Keys);
        var requestHeadersReader = reader.Mapping("requestHeaders", Policies.RequestHeaders.RequestHeadersOptions.Keys);
        var apiKeyReader = reader.Mapping("apiKey", ApiKeyOptions.Keys);
        var redisReader = reader.Mapping("redis", RedisOptions.Keys);
        var observabilityReader = reader.Mapping("observability", Observability.ObservabilityOptions.Keys);
        var cacheReader = reader.Mapping("cache", Policies.Caching.CacheOptions.Keys);
        return new GatewayOptions
        {
            Position = reader.Position,
            KeyPositions = reader.KeyPositions,
            Listen = ReadListen(reader),
            Admin = adminReader is null
                ? new AdminOptions()
                : new AdminOptions { Position = adminReader.Position, KeyPositions = adminReader.KeyPositions, Listen = adminReader.String("listen") ?? new AdminOptions().Listen, Token = adminReader.String("token"), AllowedHosts = adminReader.StringList("allowedHosts") ?? [] },
            Limits = limitsReader is null ? RequestLimitsOptions.Defaults : RequestLimitsOptions.Read(limitsReader, RequestLimitsOptions.Defaults),
            TrustedProxies = reader.StringList("trustedProxies") ?? [],
            ForwardedHeader = reader.Enum("forwardedHeader", ForwardedHeaderNames) ?? ForwardedHeader.XForwardedFor,
            IpFilter = ipFilterReader is null ? null : IpFilterOptions.Read(ipFilterReader),
            Deny = denyReader is null ? null : PathDenyOptions.Read(denyReader),
            PathNormalization = normalizationReader is null ? new PathNormalizationOptions() : PathNormalizationOptions.Read(normalizationReader),
            RequestHeaders = requestHeadersReader is null ? new Policies.RequestHeaders.RequestHeadersOptions() : Policies.RequestHeaders.RequestHeadersOptions.Read(requestHeadersReader),
            IdentityProviders = ReadIdentityProviders(reader),
            Consumers = ReadConsumers(reader),
            ApiKey = apiKeyReader is null ? null : new ApiKeyOptions
            {
                Position = apiKeyReader.Position,
                KeyPositions = apiKeyReader.KeyPositions,
                Header = apiKeyReader.String("header") ?? new ApiKeyOptions().Header,
                QueryParameter = apiKeyReader.String("queryParameter"),
            },
            Auth = AuthOptions.Read(reader, "auth"),
            Redis = redisReader is null ? null : RedisOptions.Read(redisReader),
            RateLimits = reader.NamedSections("rateLimits", RateLimitPolicyOptions.Keys, "{ limit: 100, window: 1m, key: consumer }")
                .Select(p => RateLimitPolicyOptions.Read(p.Name, p.Reader))
                .OfType<RateLimitPolicyOptions>()
                .ToList(),
            Cache = cacheReader is null ? new Policies.Caching.CacheOptions() : Policies.Caching.CacheOptions.Read(cacheReader),
            Services = ReadServices(reader),
            Routes = ReadRoutes(reader),
            Observability = observabilityReader is null ? new Observability.ObservabilityOptions() : Observability.ObservabilityOptions.Read(observabilityReader),
        };
    }

    private const int MaxDepth = 32;

    /// <summary>
    /// YamlDotNet builds its node tree recursively without a depth limit; a file nested thousands deep would overflow
    /// the stack and take the running gateway down on reload. This flat pass over the events refuses it first.
    /// </summary>
    private static bool WithinDepth(string text, ConfigDiagnostics diagnostics)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        var depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                    if (++depth > MaxDepth)
                    {
                        diagnostics.Error(new SourcePosition((int)parser.Current.Start.Line, (int)parser.Current.Start.Column), $"nested more than {MaxDepth} levels deep; a gateway config never needs that");
                        return false;
                    }

                    break;
                case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                    depth--;
                    break;
            }
        }

        return true;
    }

    private static List<ListenOptions> ReadListen(ConfigNodeReader reader)
    {
        var node = reader.Node("listen");
        if (node is null)
        {
            return [new ListenOptions { Url = "http://0.0.0.0:8080", Position = reader.Position }];
        }

        var items = node is YamlSequenceNode seq ? seq.Children : (IList<YamlNode>)[node];
        var result = new List<ListenOptions>();
        foreach (var item in items)
        {
            if (item is YamlMappingNode mapping)
            {
                var r = new ConfigNodeReader(mapping, reader.Context, "listen[]", ListenKeys);
                var certificate = r.Mapping("certificate", CertificateKeys);
                var url = r.String("url");
                if (url is null)
                {
                    reader.Context.Diagnostics.Error(r.Position, "listen[] needs a 'url'");
                    continue;
                }

                result.Add(new ListenOptions
                {
                    Position = r.Position,
                    KeyPositions = r.KeyPositions,
                    Url = url,
                    Protocols = r.Enum("protocols", ProtocolNames),
                    Certificate = certificate is null ? null : ReadCertificate(certificate),
                });
            }
            else if (reader.Context.ScalarString(item, "listen[]") is { } url)
            {
                result.Add(new ListenOptions { Url = url, Position = ConfigNodeReader.PositionOf(item) });
            }
        }

        return result;
    }

    private static CertificateOptions? ReadCertificate(ConfigNodeReader r)
    {
        var path = r.String("path");
        if (path is null)
        {
            r.Context.Diagnostics.Error(r.Position, "certificate needs a 'path'");
            return null;
        }

        return new CertificateOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Path = path,
            KeyPath = r.String("keyPath"),
            Password = r.String("password"),
        };
    }

    private static List<IdentityProviderOptions> ReadIdentityProviders(ConfigNodeReader reader) =>
        reader.NamedSections("identityProviders", IdentityProviderOptions.Keys, "{ issuer, audiences, ... }")
            .Select(p => IdentityProviderOptions.Read(p.Name, p.Reader))
            .OfType<IdentityProviderOptions>()
            .ToList();

    private static List<ConsumerOptions> ReadConsumers(ConfigNodeReader reader) =>
        reader.NamedSections("consumers", ConsumerOptions.Keys, "{ apiKeys: [\"sha256:...\"] }")
            .Select(c => new ConsumerOptions
            {
                Position = c.At,
                KeyPositions = c.Reader.KeyPositions,
                Name = c.Name,
                ApiKeys = c.Reader.StringList("apiKeys") ?? [],
            })
            .ToList();

    private static List<ServiceOptions> ReadServices(ConfigNodeReader reader)
    {
        var result = new List<ServiceOptions>();
        foreach (var (name, at, r) in reader.NamedSections("services", ServiceKeys, "their settings, at least 'targets'"))
        {
            var health = r.Mapping("healthCheck", HealthKeys);
            var grpc = r.Mapping("grpc", GrpcServiceOptions.Keys);
            var tls = r.Mapping("tls", Policies.BackendTls.BackendTlsOptions.Keys);
            var targets = ReadTargets(r);
            result.Add(new ServiceOptions
            {
                Position = at,
                KeyPositions = r.KeyPositions,
                Name = name,
                Targets = targets,
                LoadBalancing = r.Enum("loadBalancing", LoadBalancingNames) ?? LoadBalancingMode.PowerOfTwoChoices,
                HealthCheck = health is null ? null : ReadHealth(health),
                Timeout = TimeoutOptions.Read(r, service: true),
                HttpVersion = r.String("httpVersion"),
                Retry = RetryOptions.Read(r),
                CircuitBreaker = CircuitBreakerOptions.Read(r),
                MaxConcurrentRequests = r.Int("maxConcurrentRequests", 1, 1_000_000),
                Protocol = r.Enum("protocol", GrpcServiceOptions.ProtocolNames) ?? ServiceProtocol.Http,
                Grpc = grpc is null ? null : GrpcServiceOptions.Read(grpc, name, targets.FirstOrDefault()?.Url),
                Tls = tls is null ? null : Policies.BackendTls.BackendTlsOptions.Read(tls, name),
            });
        }

        return result;
    }

    private static List<TargetOptions> ReadTargets(ConfigNodeReader r)
    {
        var result = new List<TargetOptions>();
        var node = r.Node("targets");
        if (node is null)
        {
            return result;
        }

        var items = node is YamlSequenceNode seq ? seq.Children : (IList<YamlNode>)[node];
        foreach (var item in items)
        {
            if (item is YamlMappingNode mapping)
            {
                var t = new ConfigNodeReader(mapping, r.Context, $"{r.Section}.targets[]", TargetKeys);
                var url = t.String("url");
                if (url is null)
                {
                    r.Context.Diagnostics.Error(t.Position, $"{r.Section}.targets[] needs a 'url'");
                    continue;
                }

                result.Add(new TargetOptions { Position = t.Position, KeyPositions = t.KeyPositions, Url = url, HealthUrl = t.String("healthUrl") });
            }
            else if (r.Context.ScalarString(item, $"{r.Section}.targets[]") is { } url)
            {
                result.Add(new TargetOptions { Position = ConfigNodeReader.PositionOf(item), Url = url });
            }
        }

        return result;
    }

    private static HealthCheckOptions ReadHealth(ConfigNodeReader r)
    {
        var defaults = new HealthCheckOptions();
        return new HealthCheckOptions
        {
            Position = r.Position,
            KeyPositions = r.KeyPositions,
            Path = r.String("path"),
            Interval = r.Duration("interval") ?? defaults.Interval,
            Timeout = r.Duration("timeout") ?? defaults.Timeout,
            UnhealthyAfter = r.Int("unhealthyAfter", 1, 100) ?? defaults.UnhealthyAfter,
            Passive = r.Bool("passive") ?? defaults.Passive,
            ReactivationPeriod = r.Duration("reactivationPeriod") ?? defaults.ReactivationPeriod,
            TryAllWhenAllUnhealthy = r.Enum("whenAllUnhealthy", WhenAllUnhealthyNames) ?? false,
            EjectAfterFailures = r.Int("ejectAfterFailures", 1, 1000),
        };
    }

    private static List<RouteOptions> ReadRoutes(ConfigNodeReader reader)
    {
        var result = new List<RouteOptions>();
        var node = reader.Node("routes");
        if (node is null)
        {
            return result;
        }

        if (node is not YamlSequenceNode routes)
        {
            reader.Error("routes", "routes must be a list; the first route that matches a request wins");
            return result;
        }

        foreach (var item in routes.Children)
        {
            if (item is not YamlMappingNode routeNode)
            {
                reader.Context.Diagnostics.Error(ConfigNodeReader.PositionOf(item), "each route must be a mapping with name, match and service");
                continue;
            }

            var r = new ConfigNodeReader(routeNode, reader.Context, "route", RouteKeys);
            var name = r.String("name");
            var section = name is null ? "route" : $"routes[{name}]";
            if (name is null)
            {
                reader.Context.Diagnostics.Error(r.Position, "route needs a 'name'");
            }

            var match = r.Mapping("match", MatchKeys);
            if (match is null)
            {
                reader.Context.Diagnostics.Error(r.Position, $"{section} needs a 'match' with at least a 'path'");
            }

            var service = r.String("service");
            if (service is null)
            {
                reader.Context.Diagnostics.Error(r.Position, $"{section} needs a 'service'");
            }

            var rewrite = r.Mapping("rewrite", RewriteKeys);
            var headers = r.Mapping("headers", HeaderEditKeys);
            var responseHeaders = r.Mapping("responseHeaders", HeaderEditKeys);
            var limits = r.Mapping("limits", RequestLimitsOptions.RouteKeys);
            var ipFilter = r.Mapping("ipFilter", IpFilterOptions.Keys);
            var deny = r.Mapping("deny", PathDenyOptions.Keys);
            var auth = AuthOptions.Read(r, "auth");
            var timeout = TimeoutOptions.Read(r, service: false);
            var fallback = FallbackOptions.Read(r);
            var cache = r.Mapping("cache", Policies.Caching.RouteCacheOptions.Keys);
            var matchOptions = match is null ? null : ReadMatch(match);
            if (name is null || matchOptions is null || service is null)
            {
                continue;
            }

            result.Add(new RouteOptions
            {
                Position = r.Position,
                KeyPositions = r.KeyPositions,
                Name = name,
                Match = matchOptions,
                Service = service,
                Rewrite = rewrite is null ? null : new RewriteOptions
                {
                    Position = rewrite.Position,
                    KeyPositions = rewrite.KeyPositions,
                    Path = rewrite.String("path"),
                    StripPrefix = rewrite.String("stripPrefix"),
                },
                Headers = headers is null ? null : ReadHeaderEdits(headers),
                ResponseHeaders = responseHeaders is null ? null : ReadHeaderEdits(responseHeaders),
                Limits = limits is null ? null : RequestLimitsOptions.Read(limits, new RequestLimitsOptions()),
                IpFilter = ipFilter is null ? null : IpFilterOptions.Read(ipFilter),
                Deny = deny is null ? null : PathDenyOptions.Read(deny),
                Auth = auth,
                ForwardClaims = r.StringMap("forwardClaims") ?? [],
                RateLimit = r.StringList("rateLimit") ?? [],
                WebSockets = r.Bool("webSockets") ?? false,
                Timeout = timeout,
                Fallback = fallback,
                Cache = cache is null ? null : Policies.Caching.RouteCacheOptions.Read(cache),
                Transcode = r.Enum("transcode", GrpcServiceOptions.TranscodeNames) ?? RouteTranscoding.None,
            });
        }

        return result;
    }

    private static MatchOptions? ReadMatch(ConfigNodeReader m)
    {
        var path = m.String("path");
        if (path is null)
        {
            m.Context.Diagnostics.Error(m.Position, $"{m.Section} needs a 'path' (use \"/{{**rest}}\" to match everything)");
            return null;
        }

        return new MatchOptions
        {
            Position = m.Position,
            KeyPositions = m.KeyPositions,
            Path = path,
            Methods = m.StringList("methods") ?? [],
            Hosts = m.StringList("hosts") ?? [],
            Headers = ReadValueMatches(m, "headers"),
            Query = ReadValueMatches(m, "query"),
        };
    }

    /// <summary>
    /// <c>{ X-Tenant: acme }</c> (exact), <c>{ X-Tenant: [a, b] }</c> (any of) or
    /// <c>{ X-Debug: { mode: exists } }</c> / <c>{ values: [...], mode: prefix, caseSensitive: true }</c>.
    /// </summary>
    private static List<ValueMatchOptions> ReadValueMatches(ConfigNodeReader m, string key)
    {
        var result = new List<ValueMatchOptions>();
        var node = m.Node(key);
        if (node is null)
        {
            return result;
        }

        if (node is not YamlMappingNode mapping)
        {
            m.Error(key, $"{m.Section}.{key} must be a mapping of names to values or conditions");
            return result;
        }

        foreach (var (k, v) in mapping.Children)
        {
            var name = m.Context.ScalarString(k, $"{m.Section}.{key}") ?? "";
            var at = ConfigNodeReader.PositionOf(k);
            switch (v)
            {
                case YamlScalarNode:
                    result.Add(new ValueMatchOptions { Position = at, Name = name, Values = [m.Context.ScalarString(v, name) ?? ""] });
                    break;
                case YamlSequenceNode seq:
                    result.Add(new ValueMatchOptions
                    {
                        Position = at,
                        Name = name,
                        Values = seq.Children.Select(c => m.Context.ScalarString(c, name) ?? "").ToList(),
                    });
                    break;
                case YamlMappingNode condition:
                    var c = new ConfigNodeReader(condition, m.Context, $"{m.Section}.{key}.{name}", ValueMatchKeys);
                    result.Add(new ValueMatchOptions
                    {
                        Position = at,
                        KeyPositions = c.KeyPositions,
                        Name = name,
                        Values = c.StringList("values") ?? [],
                        Mode = c.Enum("mode", MatchModeNames) ?? ValueMatchMode.Exact,
                        CaseSensitive = c.Bool("caseSensitive") ?? false,
                    });
                    break;
            }
        }

        return result;
    }

    private static HeaderEditOptions ReadHeaderEdits(ConfigNodeReader h) => new()
    {
        Position = h.Position,
        KeyPositions = h.KeyPositions,
        Set = h.StringMap("set") ?? [],
        Add = h.StringMap("add") ?? [],
        Remove = h.StringList("remove") ?? [],
    };
}
