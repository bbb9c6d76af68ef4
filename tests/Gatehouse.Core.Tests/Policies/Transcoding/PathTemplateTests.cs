using Gatehouse.Policies.Transcoding;

namespace Gatehouse.Core.Tests.Policies.Transcoding;

public class PathTemplateTests
{
    private static Dictionary<string, string>? Match(string template, string path)
    {
        Assert.True(PathTemplate.TryParse(template, out var compiled, out var error), error);
        Span<Range> segments = stackalloc Range[32];
        if (!compiled!.TryMatch(path, segments, out var count))
        {
            return null;
        }

        var values = new Dictionary<string, string>();
        foreach (var variable in compiled.Variables)
        {
            values[variable.Name] = PathTemplate.ValueOf(variable, path, segments, count);
        }

        return values;
    }

    [Theory]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/7", "shelf=7")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/a b", "shelf=a b")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/a%20b", "shelf=a%20b")]   // the path is decoded once already: '%' is text
    [InlineData("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2", "name=shelves/1/books/2")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a/b/c", "name=a/b/c")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a%2Fb/c", "name=a%2Fb/c")]
    [InlineData("/v1/books/{name=**}", "/v1/books/..a/b../.c", "name=..a/b../.c")]
    [InlineData("/v1/{book.name=shelves/*/books/*}", "/v1/shelves/1/books/x", "book.name=shelves/1/books/x")]
    [InlineData("/v1/shelves/{shelf}:archive", "/v1/shelves/9:archive", "shelf=9")]
    [InlineData("/v1/*/things", "/v1/any/things", "")]
    [InlineData("/v1/files/**", "/v1/files/a/b", "")]
    [InlineData("/v1/shelves", "/v1/shelves", "")]
    public void Matches_BindsVariables(string template, string path, string expected)
    {
        var values = Match(template, path);

        Assert.NotNull(values);
        Assert.Equal(expected, string.Join("&", values.Select(v => $"{v.Key}={v.Value}")));
    }

    [Theory]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/1/books")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/")]
    [InlineData("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books")]
    [InlineData("/v1/shelves/{shelf}:archive", "/v1/shelves/9")]
    [InlineData("/v1/shelves/{shelf}:archive", "/v1/shelves/9:restore")]
    [InlineData("/v1/shelves", "/v2/shelves")]
    public void DoesNotMatch(string template, string path) => Assert.Null(Match(template, path));

    [Theory]
    [InlineData("v1/shelves", "start with '/'")]
    [InlineData("/v1/{shelf", "without '}'")]
    [InlineData("/v1/**/books", "'**' before the last segment")]
    [InlineData("/v1/{a}/{a}", "binds 'a' twice")]
    [InlineData("/v1//x", "empty segment")]
    [InlineData("/v1/{a-b}", "malformed variable")]
    [InlineData("/v1/x:", "malformed ':verb'")]
    public void Rejects_MalformedTemplates(string template, string reason)
    {
        Assert.False(PathTemplate.TryParse(template, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/..", "'.' or '..' segment")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/.", "'.' or '..' segment")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/a\\b", "backslash")]
    [InlineData("/v1/shelves/{shelf}:archive", "/v1/shelves/..:archive", "'.' or '..' segment")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a/../../b", "'.' or '..' segment")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a/.", "'.' or '..' segment")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a\\..\\b", "backslash")]
    [InlineData("/v1/{name=shelves/*/books/*}", "/v1/shelves/../books/x", "'.' or '..' segment")]
    [InlineData("/v1/*/things", "/v1/../things", "'.' or '..' segment")]
    public void Refusal_DotSegmentOrBackslash_Reason(string template, string path, string reason)
    {
        Assert.True(PathTemplate.TryParse(template, out var compiled, out _));
        Span<Range> segments = stackalloc Range[32];
        Assert.True(compiled!.TryMatch(path, segments, out var count));

        Assert.Contains(reason, PathTemplate.Refusal(path, segments, count), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/7")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/...")]
    [InlineData("/v1/shelves/{shelf}", "/v1/shelves/%2e%2e")]
    [InlineData("/v1/books/{name=**}", "/v1/books/a/.b/c./..d")]
    [InlineData("/v1/shelves/{shelf}:archive", "/v1/shelves/9:archive")]
    public void Refusal_OrdinaryPaths_None(string template, string path)
    {
        Assert.True(PathTemplate.TryParse(template, out var compiled, out _));
        Span<Range> segments = stackalloc Range[32];
        Assert.True(compiled!.TryMatch(path, segments, out var count));

        Assert.Null(PathTemplate.Refusal(path, segments, count));
    }
}
