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
    [InlineData("/public/../internal/x", "/internal/x")]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/.well-known/x", null)]
    public void Normalize_Unescape(string path, string? expected) =>
        Assert.Equal(expected, PathNormalizer.Normalize(path, EscapedSlashes.Unescape, mergeSlashes: true, out _));

    [Theory]
    [InlineData("/a%2Fb")]
    [InlineData("/a\\b")]
    public void Normalize_Reject_FlagsEncodedSlash(string path)
    {
        Assert.Null(PathNormalizer.Normalize(path, EscapedSlashes.Reject, mergeSlashes: true, out var rejection));
        Assert.NotNull(rejection);
    }

    [Theory]
    [InlineData("/public/..;/internal")]
    [InlineData("/a/.;x=1/b")]
    [InlineData("/a\u0000b")]
    [InlineData("/a\u001fb")]
    public void Normalize_DotSegmentParametersOrControlCharacters_Rejected(string path)
    {
        Assert.Null(PathNormalizer.Normalize(System.Text.RegularExpressions.Regex.Unescape(path), EscapedSlashes.Unescape, mergeSlashes: true, out var rejection));
        Assert.NotNull(rejection);
    }

    [Fact]
    public void Normalize_NoMergeSlashes_KeepsInnerButNotLeadingDouble() =>
        Assert.Equal("/a/b//c", PathNormalizer.Normalize("/a%2Fb//c", EscapedSlashes.Unescape, mergeSlashes: false, out _));

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
    [InlineData("/internal/**", "/internal;x=1/secret", true)]
    [InlineData("/internal/**", "/internal. /secret", true)]
    [InlineData("/**/a/**/b", "/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/a/c", false)]
    [InlineData("/**/a/**/b", "/x/a/y/z/b", true)]
    public void FirstMatch_Patterns(string pattern, string path, bool denied) =>
        Assert.Equal(denied, new PathDenyList([pattern]).FirstMatch(path) is not null);

    [Theory]
    [InlineData("internal/**", "must start with '/'")]
    [InlineData("/internal/x*", "must stand alone")]
    public void Validate_BadPattern_Explains(string pattern, string reason) =>
        Assert.Contains(reason, PathDenyList.Validate(pattern));
}
