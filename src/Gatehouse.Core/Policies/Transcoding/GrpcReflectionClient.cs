using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// Fetches a backend's descriptors through gRPC server reflection (grpc.reflection.v1alpha, which every gRPC
/// server with reflection serves): its services' files and all their imports, as one FileDescriptorSet.
/// Used at config load only, never per request.
/// </summary>
internal static class GrpcReflectionClient
{
    public static async Task<byte[]> FetchAsync(string target, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var handler = new SocketsHttpHandler { UseProxy = false, ConnectTimeout = timeout };
        using var channel = GrpcChannel.ForAddress(target, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var client = new ServerReflection.ServerReflectionClient(channel);
        using var call = client.ServerReflectionInfo(cancellationToken: cancellation.Token);

        async Task<ServerReflectionResponse> AskAsync(ServerReflectionRequest request)
        {
            await call.RequestStream.WriteAsync(request, cancellation.Token);
            if (!await call.ResponseStream.MoveNext(cancellation.Token))
            {
                throw new InvalidOperationException("the reflection stream ended early");
            }

            var response = call.ResponseStream.Current;
            return response.MessageResponseCase == ServerReflectionResponse.MessageResponseOneofCase.ErrorResponse
                ? throw new InvalidOperationException($"reflection error {response.ErrorResponse.ErrorCode}: {response.ErrorResponse.ErrorMessage}")
                : response;
        }

        var files = new Dictionary<string, FileDescriptorProto>(StringComparer.Ordinal);
        void Add(ServerReflectionResponse response)
        {
            foreach (var bytes in response.FileDescriptorResponse.FileDescriptorProto)
            {
                var file = FileDescriptorProto.Parser.ParseFrom(bytes);
                files.TryAdd(file.Name, file);
            }
        }

        var services = await AskAsync(new ServerReflectionRequest { ListServices = "" });
        foreach (var service in services.ListServicesResponse.Service)
        {
            if (!service.Name.StartsWith("grpc.reflection.", StringComparison.Ordinal))
            {
                Add(await AskAsync(new ServerReflectionRequest { FileContainingSymbol = service.Name }));
            }
        }

        // Servers may answer with a file alone: fetch missing imports by name until the set is closed.
        var missing = new Queue<string>(files.Values.SelectMany(f => f.Dependency).Where(d => !files.ContainsKey(d)));
        while (missing.TryDequeue(out var name))
        {
            if (files.ContainsKey(name))
            {
                continue;
            }

            Add(await AskAsync(new ServerReflectionRequest { FileByFilename = name }));
            if (!files.TryGetValue(name, out var added))
            {
                throw new InvalidOperationException($"the server did not return {name}");
            }

            foreach (var dependency in added.Dependency.Where(d => !files.ContainsKey(d)))
            {
                missing.Enqueue(dependency);
            }
        }

        await call.RequestStream.CompleteAsync();
        var set = new FileDescriptorSet();
        set.File.AddRange(files.Values);
        return set.ToByteArray();
    }
}
