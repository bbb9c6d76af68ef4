using Gatehouse.Configuration;
using Gatehouse.Policies.Transcoding;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

public sealed class GrpcOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gatehouse-grpc-options-").FullName;

    private string ConfigFile => Path.Combine(_folder, "gatehouse.yaml");

    private static string Config(string service, string route = "") => $$"""
        services:
          bookstore:
            targets: ["http://127.0.0.1:50051"]
            {{service}}
        routes:
          - name: bookstore
            match: { path: "/v1/{**rest}" }
            service: bookstore
            {{route}}
        """;

    private GatewayOptions Load(string yaml) => ConfigLoader.Load(yaml, ConfigFile, _ => null);

    private ConfigError Refused(string yaml) => Assert.Single(Assert.Throws<ConfigException>(() => Load(yaml)).Errors);

    [Fact]
    public void Accepts_IssueExample_DescriptorsRelativeToConfigFile()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "protos"));
        File.WriteAllBytes(Path.Combine(_folder, "protos", "bookstore.pb"), Gatehouse.Tests.Bookstore.BookstoreDescriptors.Set());

        var options = Load(Config("protocol: grpc\n    grpc: { descriptors: protos/bookstore.pb }", "transcode: grpc"));

        var service = options.Services.Single();
        Assert.Equal(ServiceProtocol.Grpc, service.Protocol);
        Assert.Equal("protos/bookstore.pb", service.Grpc!.Descriptors);
        Assert.Equal(Path.Combine(_folder, "protos", "bookstore.pb"), service.Grpc.DescriptorsPath);
        Assert.Equal(RouteTranscoding.Grpc, options.Routes.Single().Transcode);
    }

    [Fact]
    public void Accepts_GrpcWithoutDescriptors_PassThroughOnly()
    {
        var options = Load(Config("protocol: grpc"));

        Assert.Equal(ServiceProtocol.Grpc, options.Services.Single().Protocol);
        Assert.Equal(RouteTranscoding.None, options.Routes.Single().Transcode);
    }

    [Theory]
    [InlineData("protocol: grpc\n    grpc: { descriptors: missing.pb }", "", 5, 13, "cannot read")]
    [InlineData("protocol: soap", "", 4, 5, "protocol")]
    [InlineData("grpc: { descriptors: x.pb }", "", 4, 5, "needs protocol: grpc")]
    [InlineData("protocol: grpc\n    httpVersion: \"1.1\"", "", 5, 5, "gRPC needs HTTP/2")]
    [InlineData("", "transcode: grpc", 9, 5, "needs protocol: grpc and grpc: { descriptors")]
    [InlineData("protocol: grpc", "transcode: grpc", 9, 5, "needs protocol: grpc and grpc: { descriptors")]
    [InlineData("protocol: grpc", "transcode: rest", 9, 5, "transcode")]
    [InlineData("protocol: grpc", "grpc: {}", 9, 5, "unknown key 'grpc'")]
    [InlineData("protocol: grpc\n    grpc: { descriptors: x.pb, reflection: true }", "", 5, 32, "both descriptors and reflection")]
    public void Rejects_WithPosition(string service, string route, int line, int column, string reason)
    {
        File.WriteAllBytes(Path.Combine(_folder, "x.pb"), []);

        var error = Refused(Config(service, route));

        Assert.Equal(ConfigFile, error.File);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_DescriptorsNotMatchingAnnotations_NamesMethod_AtDescriptorsKey()
    {
        var set = Gatehouse.Tests.Bookstore.BookstoreDescriptors.SetOf(Gatehouse.Tests.Bookstore.BookstoreReflection.Descriptor);
        var method = set.File.Single(f => f.Name.EndsWith("bookstore.proto", StringComparison.Ordinal)).Service[0].Method.Single(m => m.Name == "GetBook");
        method.Options.SetExtension(Google.Api.AnnotationsExtensions.Http, new Google.Api.HttpRule { Get = "/v1/{title=books/*}" });
        File.WriteAllBytes(Path.Combine(_folder, "x.pb"), Google.Protobuf.MessageExtensions.ToByteArray(set));

        var error = Refused(Config("protocol: grpc\n    grpc: { descriptors: x.pb }"));

        Assert.Equal((5, 13), (error.Line, error.Column));
        Assert.Equal("services.bookstore.grpc.descriptors 'x.pb': method bookstore.v1.Bookstore.GetBook: path variable 'title' names field 'title', which bookstore.v1.GetBookRequest does not have", error.Message);
    }

    [Fact]
    public void Compile_GrpcService_Http2Exactly()
    {
        var options = Load(Config("protocol: grpc"));

        var cluster = GatewayCompiler.Compile(options, "", 1).ProxyClusters.Single();

        Assert.Equal(System.Net.HttpVersion.Version20, cluster.HttpRequest!.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, cluster.HttpRequest.VersionPolicy);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
