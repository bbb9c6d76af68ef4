using Gatehouse.Policies.Transcoding;
using Gatehouse.Tests.Bookstore;
using Google.Api;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

public class GrpcDescriptorSetTests
{
    private static GrpcDescriptorSet LoadValid()
    {
        var errors = new List<string>();
        var set = GrpcDescriptorSet.Load(BookstoreDescriptors.Set(), errors);
        Assert.Empty(errors);
        return set!;
    }

    /// <summary>The bookstore set with one method's rule replaced.</summary>
    private static List<string> LoadWithRule(string method, HttpRule rule, bool reverseFiles = false)
    {
        var set = BookstoreDescriptors.SetOf(BookstoreReflection.Descriptor);
        var file = set.File.Single(f => f.Name.EndsWith("bookstore.proto", StringComparison.Ordinal));
        var methodProto = file.Service[0].Method.Single(m => m.Name == method);
        var options = methodProto.Options ??= new MethodOptions();
        options.SetExtension(AnnotationsExtensions.Http, rule);
        if (reverseFiles)
        {
            var files = set.File.Reverse().ToList();
            set.File.Clear();
            set.File.AddRange(files);
        }

        var errors = new List<string>();
        GrpcDescriptorSet.Load(set.ToByteArray(), errors);
        return errors;
    }

    [Fact]
    public void Load_Bookstore_EveryRuleAndAdditionalBinding()
    {
        var set = LoadValid();

        var bindings = set.Bindings.Select(b => $"{b.HttpMethod} {b.Template.Text} -> {b.Method.Name}").ToList();
        Assert.Contains("GET /v1/shelves/{shelf} -> GetShelf", bindings);
        Assert.Contains("GET /v1/{name=shelves/*/books/*} -> GetBook", bindings);
        Assert.Contains("GET /v1/books/{name=**} -> GetBook", bindings);
        Assert.Contains("POST /v1/shelves/{shelf}:archive -> ArchiveShelf", bindings);
        Assert.Contains("GET /v1/echo -> Echo", bindings);
        Assert.Equal(13, bindings.Count);
        var update = set.Bindings.Single(b => b.Method.Name == "UpdateBook");
        Assert.Equal("book", update.BodyField!.Name);
        Assert.Equal(["book", "name"], update.PathFields.Single().Select(f => f.Name));
        Assert.True(set.Bindings.Single(b => b.Method.Name == "ArchiveShelf").BodyIsWholeRequest);
        Assert.Equal("theme", set.Bindings.Single(b => b.Method.Name == "GetShelfTheme").ResponseBodyField!.Name);
        Assert.Equal("/bookstore.v1.Bookstore/GetBook", set.Bindings.First(b => b.Method.Name == "GetBook").GrpcPath);
    }

    [Fact]
    public void Load_FilesOutOfOrder_StillBuilds()
    {
        var errors = LoadWithRule("GetShelf", new HttpRule { Get = "/v1/shelves/{shelf}" }, reverseFiles: true);

        Assert.Empty(errors);
    }

    [Fact]
    public void Bindings_MoreLiteralTemplatesFirst()
    {
        var set = LoadValid();

        var order = set.Bindings.Select(b => b.Template.Text).ToList();
        Assert.True(order.IndexOf("/v1/shelves/{shelf}/books") < order.IndexOf("/v1/books/{name=**}"));
    }

    [Theory]
    [InlineData("GetBook", "/v1/{nam=shelves/*/books/*}", "", "", "method bookstore.v1.Bookstore.GetBook: path variable 'nam' names field 'nam'")]
    [InlineData("UpdateBook", "/v1/{book=shelves/*}", "book", "", "path variable 'book' must name a single scalar or enum field, not a message")]
    [InlineData("UpdateBook", "/v1/{book.title.x}", "book", "", "goes through 'title'")]
    [InlineData("CreateShelf", "/v1/shelves", "shelff", "", "method bookstore.v1.Bookstore.CreateShelf: body 'shelff' is not a field of bookstore.v1.CreateShelfRequest")]
    [InlineData("GetShelfTheme", "/v1/x/{shelf}", "", "themes", "response_body 'themes' is not a field of bookstore.v1.Shelf")]
    [InlineData("GetShelf", "/v1/**/x", "", "", "path template '/v1/**/x' has '**' before the last segment")]
    [InlineData("AddBooks", "/v1/books", "*", "", "method bookstore.v1.Bookstore.AddBooks has a google.api.http rule but streams requests")]
    public void Load_RuleNotMatchingMessages_ErrorNamesMethod(string method, string path, string body, string responseBody, string expected)
    {
        var errors = LoadWithRule(method, new HttpRule { Post = path, Body = body, ResponseBody = responseBody });

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_NotADescriptorSet_Error()
    {
        var errors = new List<string>();

        Assert.Null(GrpcDescriptorSet.Load([0xFF, 0xFF, 0xFF], errors));
        Assert.Contains("is not a FileDescriptorSet", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingImport_Error()
    {
        var set = BookstoreDescriptors.SetOf(BookstoreReflection.Descriptor);
        set.File.Remove(set.File.Single(f => f.Name == "google/api/http.proto"));
        var errors = new List<string>();

        Assert.Null(GrpcDescriptorSet.Load(set.ToByteArray(), errors));
        Assert.Contains("lacks google/api/http.proto", Assert.Single(errors), StringComparison.Ordinal);
    }
}
