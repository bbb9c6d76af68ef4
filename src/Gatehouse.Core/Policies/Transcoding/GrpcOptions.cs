using Gatehouse.Configuration;

namespace Gatehouse.Policies.Transcoding;

/// <summary>What a service speaks: plain HTTP (default) or gRPC, which always goes to the backend over HTTP/2.</summary>
public enum ServiceProtocol
{
    Http,
    Grpc,
}

/// <summary>
/// <c>grpc: { descriptors: protos/bookstore.pb }</c> on a service with <c>protocol: grpc</c>: the
/// FileDescriptorSet (made with <c>protoc --include_imports --descriptor_set_out</c>) whose
/// <c>google.api.http</c> annotations routes with <c>transcode: grpc</c> are mapped by.
/// </summary>
public sealed record GrpcServiceOptions : ConfigSection
{
    internal static readonly string[] Keys = ["descriptors", "reflection", "ignoreUnknownFields"];

    /// <summary>The descriptor set as written in the file (relative to the config file).</summary>
    public string? Descriptors { get; init; }

    /// <summary><see cref="Descriptors"/> resolved against the config file's folder; null when not set.</summary>
    public string? DescriptorsPath { get; init; }

    /// <summary>
    /// Load the descriptors from the service's first target by gRPC server reflection instead of a file, at every
    /// config load (the target must be up then). Default false.
    /// </summary>
    public bool Reflection { get; init; }

    /// <summary>Transcoded requests: JSON fields and query parameters the message does not have are skipped instead of refused with 400. Default false.</summary>
    public bool IgnoreUnknownFields { get; init; }

    /// <summary>The descriptor set built and its HTTP rules compiled, read once with the config (so a reload reads it again).</summary>
    internal GrpcDescriptorSet? DescriptorSet { get; init; }

    internal static GrpcServiceOptions Read(ConfigNodeReader reader, string serviceName, string? firstTarget)
    {
        var descriptors = reader.String("descriptors");
        var reflection = reader.Bool("reflection") ?? false;
        var path = descriptors is null ? null : ResolveAgainstConfig(descriptors, reader.Context.Diagnostics.File);
        GrpcDescriptorSet? set = null;
        if (reflection && descriptors is not null)
        {
            reader.Error("reflection", $"services.{serviceName}.grpc has both descriptors and reflection: choose one");
        }
        else if (reflection && firstTarget is not null)
        {
            try
            {
                // Config loading is not on the request path; it runs at start and on reload, off the request threads.
                var bytes = Task.Run(() => GrpcReflectionClient.FetchAsync(firstTarget, TimeSpan.FromSeconds(10))).GetAwaiter().GetResult();
                var errors = new List<string>();
                set = GrpcDescriptorSet.Load(bytes, errors);
                foreach (var error in errors)
                {
                    reader.Error("reflection", $"services.{serviceName}.grpc.reflection: the descriptors of {GatewayOptionsValidator.Redact(firstTarget)}{(error.StartsWith("method ", StringComparison.Ordinal) ? ": " : " ")}{error}");
                }
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException or OperationCanceledException or HttpRequestException or IOException or Google.Protobuf.InvalidProtocolBufferException)
            {
                reader.Error("reflection", $"services.{serviceName}.grpc.reflection: cannot load descriptors by gRPC server reflection from {GatewayOptionsValidator.Redact(firstTarget)}: {e.Message}");
            }
        }

        if (path is not null)
        {
            byte[]? bytes = null;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reader.Error("descriptors", $"services.{serviceName}.grpc.descriptors: cannot read '{path}' ({e.Message}); make it with protoc --include_imports --descriptor_set_out=FILE");
            }

            if (bytes is not null)
            {
                var errors = new List<string>();
                set = GrpcDescriptorSet.Load(bytes, errors);
                foreach (var error in errors)
                {
                    reader.Error("descriptors", $"services.{serviceName}.grpc.descriptors '{descriptors}'{(error.StartsWith("method ", StringComparison.Ordinal) ? ": " : " ")}{error}");
                }
            }
        }

        return new GrpcServiceOptions
        {
            Position = reader.Position,
            KeyPositions = reader.KeyPositions,
            Descriptors = descriptors,
            DescriptorsPath = path,
            DescriptorSet = set,
            Reflection = reflection,
            IgnoreUnknownFields = reader.Bool("ignoreUnknownFields") ?? false,
        };
    }

    /// <summary>Relative paths are taken from the config file's folder, so a config works whatever the working directory.</summary>
    internal static string ResolveAgainstConfig(string path, string configFile)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(configFile));
        return Path.GetFullPath(Path.Combine(folder ?? Directory.GetCurrentDirectory(), path));
    }

    internal static readonly Dictionary<string, ServiceProtocol> ProtocolNames = new(StringComparer.Ordinal)
    {
        ["http"] = ServiceProtocol.Http,
        ["grpc"] = ServiceProtocol.Grpc,
    };

    internal static readonly Dictionary<string, RouteTranscoding> TranscodeNames = new(StringComparer.Ordinal)
    {
        ["grpc"] = RouteTranscoding.Grpc,
    };

    /// <summary>Checks a service's <c>protocol</c> and <c>grpc</c> keys together.</summary>
    internal static void ValidateService(ServiceOptions service, ConfigDiagnostics diagnostics)
    {
        if (service.Grpc is { } grpc)
        {
            if (service.Protocol != ServiceProtocol.Grpc)
            {
                diagnostics.Error(service.PositionOf("grpc"), $"services.{service.Name}.grpc needs protocol: grpc");
            }

        }

        if (service.Protocol == ServiceProtocol.Grpc && service.HttpVersion is "1.1")
        {
            diagnostics.Error(service.PositionOf("httpVersion"), $"services.{service.Name}: gRPC needs HTTP/2; remove httpVersion: 1.1");
        }
    }

    /// <summary>Checks a route's <c>transcode</c> against its service.</summary>
    internal static void ValidateRoute(RouteOptions route, ServiceOptions? service, ConfigDiagnostics diagnostics)
    {
        if (route.Transcode != RouteTranscoding.Grpc || service is null)
        {
            return;
        }

        if (service.Protocol != ServiceProtocol.Grpc || (service.Grpc?.Descriptors is null && service.Grpc?.Reflection != true))
        {
            diagnostics.Error(route.PositionOf("transcode"), $"route '{route.Name}' has transcode: grpc, so service '{service.Name}' needs protocol: grpc and grpc: {{ descriptors: file.pb }} (or reflection: true)");
        }

        if (route.WebSockets)
        {
            diagnostics.Error(route.PositionOf("webSockets"), $"route '{route.Name}' cannot both transcode to gRPC and pass WebSockets");
        }
    }
}

/// <summary>How a route's requests are translated before they reach the backend.</summary>
public enum RouteTranscoding
{
    None,

    /// <summary>REST/JSON requests mapped to gRPC methods by their <c>google.api.http</c> rules.</summary>
    Grpc,
}
