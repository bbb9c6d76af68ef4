using Gatehouse.Policies.PathFilter;

namespace Gatehouse.Core.Tests.Policies.PathFilter;

public class PathFilterTests
{
    [Theory]
    [InlineData("/api/users", null)]
    [InlineData("/a//b", "/a/b")]
    [InlineData("//internal/x", "/internal/x")]
    [InlineData("/a%2Finternal", "/a/internal")]
    [InlineData("/a%2finternal", "/a/internal")]
    [InlineData("/public%2F..%2Finternal", "/internal")]
    [InlineData("/public%5C..%5Cinternal", "/internal")]
    [InlineData("/public\\..\\internal", "/internal")]
    [InlineData("/a/b/", null)]
    [InlineData("/a//b/", "/a/b/")]
    public void Normalize_Unescape(string path, string? expected) =>
        Assert.Equal(expected, PathNormalizer.Normalize(path, EscapedSlashes.Unescape, mergeSlashes: true, out _));

    [Fact]
    public void Normalize_Reject_FlagsEncodedSlash()
    {
        Assert.Null(PathNormalizer.Normalize("/a%2Fb", EscapedSlashes.Reject, mergeSlashes: true, out var rejected));
        Assert.True(rejected);
    }

    [Theory]
    [InlineData("/internal/**", "/internal", true)]
    [InlineData("/internal/**", "/internal/a/b", true)]
    [InlineData("/internal/**", "/INTERNAL/a", true)]
    [InlineData("/internal/**", "/internal./a", true)]
    [InlineData("/internal/**", "/internals/a", false)]
    [InlineData("/api/*/admin", "/api/v1/admin", true)]
    [InlineData("/api/*/admin", "/api/v1/v2/admin", false)]
    [InlineData("/**/secret", "/a/b/secret", true)]
    [InlineData("/exact", "/exact/", true)]
    public void FirstMatch_Patterns(string pattern, string path, bool denied) =>
        Assert.Equal(denied, new PathDenyList([pattern]).FirstMatch(path) is not null);

    [Theory]
    [InlineData("internal/**", "must start with '/'")]
    [InlineData("/internal/x*", "must stand alone")]
    public void Validate_BadPattern_Explains(string pattern, string reason) =>
        Assert.Contains(reason, PathDenyList.Validate(pattern));
}
