using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Gatehouse.Configuration;

/// <summary>
/// Reads one YAML (or JSON) mapping into typed values, reporting wrong types, bad units and unknown keys with
/// their position. Hand-written on YamlDotNet's node model rather than its reflection-based deserializer so that
/// every error has a line and column, unknown keys get "did you mean" hints, and nothing needs reflection under
/// Native AOT.
/// </summary>
internal sealed partial class ConfigNodeReader
{
    private readonly YamlMappingNode _node;
    private readonly Dictionary<string, YamlNode> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SourcePosition> _keyPositions = new(StringComparer.Ordinal);

    public ConfigNodeReader(YamlMappingNode node, ConfigContext context, string section, IReadOnlyCollection<string> knownKeys)
    {
        _node = node;
        Context = context;
        Section = section;
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = keyNode is YamlScalarNode s ? s.Value ?? "" : "";
            var at = PositionOf(keyNode);
            if (!knownKeys.Contains(key))
            {
                var hint = ValueParsers.Closest(key, knownKeys);
                context.Diagnostics.Error(at, hint is null
                    ? $"unknown key '{key}' in {section} (expected one of: {string.Join(", ", knownKeys)})"
                    : $"unknown key '{key}' in {section}; did you mean '{hint}'?");
                continue;
            }

            _keyPositions[key] = at;

            // 'key: ~', 'key: null' and 'key:' mean "not set", as in YAML's core schema.
            if (valueNode is not YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" })
            {
                _values[key] = valueNode;
            }
        }
    }

    public ConfigContext Context { get; }

    public string Section { get; }

    public SourcePosition Position => PositionOf(_node);

    public IReadOnlyDictionary<string, SourcePosition> KeyPositions => _keyPositions;

    public static SourcePosition PositionOf(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);

    public bool Has(string key) => _values.ContainsKey(key);

    public YamlNode? Node(string key) => _values.GetValueOrDefault(key);

    public SourcePosition At(string key) => _keyPositions.TryGetValue(key, out var p) ? p : Position;

    public void Error(string key, string message) => Context.Diagnostics.Error(At(key), message);

    public string? String(string key)
    {
        var node = Node(key);
        return node is null ? null : Context.ScalarString(node, $"{Section}.{key}");
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (bool.TryParse(text, out var b))
        {
            return b;
        }

        Error(key, $"{Section}.{key} must be true or false, not '{text}'");
        return null;
    }

    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= min && i <= max)
        {
            return i;
        }

        Error(key, $"{Section}.{key} must be a whole number from {min} to {max}, not '{text}'");
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!ValueParsers.TryParseDuration(text, out var value, out var error))
        {
            Error(key, $"{Section}.{key}: {error}");
            return null;
        }

        if (value <= TimeSpan.Zero)
        {
            Error(key, $"{Section}.{key} must be greater than zero");
            return null;
        }

        return value;
    }

    public long? Size(string key)
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (!ValueParsers.TryParseSize(text, out var value, out var error))
        {
            Error(key, $"{Section}.{key}: {error}");
            return null;
        }

        if (value <= 0)
        {
            Error(key, $"{Section}.{key} must be greater than zero");
            return null;
        }

        return value;
    }

    /// <summary>A list of strings; a single scalar is accepted as a list of one.</summary>
    public IReadOnlyList<string>? StringList(string key)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode)
        {
            var one = Context.ScalarString(node, $"{Section}.{key}");
            return one is null ? [] : [one];
        }

        if (node is not YamlSequenceNode sequence)
        {
            Error(key, $"{Section}.{key} must be a list of strings");
            return [];
        }

        var result = new List<string>(sequence.Children.Count);
        foreach (var item in sequence.Children)
        {
            var value = Context.ScalarString(item, $"{Section}.{key}[]");
            if (value is not null)
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>A mapping of string to string, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? StringMap(string key)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(key, $"{Section}.{key} must be a mapping of names to values");
            return [];
        }

        var result = new List<KeyValuePair<string, string>>();
        foreach (var (k, v) in mapping.Children)
        {
            var name = Context.ScalarString(k, $"{Section}.{key}");
            var value = Context.ScalarString(v, $"{Section}.{key}.{name}");
            if (name is not null && value is not null)
            {
                result.Add(new(name, value));
            }
        }

        return result;
    }

    public ConfigNodeReader? Mapping(string key, IReadOnlyCollection<string> knownKeys)
    {
        var node = Node(key);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(key, $"{Section}.{key} must be a mapping (keys: {string.Join(", ", knownKeys)})");
            return null;
        }

        return new ConfigNodeReader(mapping, Context, $"{Section}.{key}", knownKeys);
    }

    /// <summary>
    /// A mapping of names to sections (<c>services</c>, <c>consumers</c>, <c>identityProviders</c>): a reader for each
    /// section, with the name and where the name stands. Non-mapping values are reported with <paramref name="shape"/>.
    /// </summary>
    public IEnumerable<(string Name, SourcePosition At, ConfigNodeReader Reader)> NamedSections(string key, IReadOnlyCollection<string> knownKeys, string shape)
    {
        var node = Node(key);
        if (node is null)
        {
            yield break;
        }

        if (node is not YamlMappingNode sections)
        {
            Error(key, $"{key} must be a mapping of names to {shape}");
            yield break;
        }

        foreach (var (keyNode, valueNode) in sections.Children)
        {
            var name = Context.ScalarString(keyNode, $"{key} name") ?? "";
            if (valueNode is not YamlMappingNode section)
            {
                Context.Diagnostics.Error(PositionOf(valueNode), $"{key}.{name} must be a mapping: {shape}");
                continue;
            }

            yield return (name, PositionOf(keyNode), new ConfigNodeReader(section, Context, $"{key}.{name}", knownKeys));
        }
    }

    public T? Enum<T>(string key, IReadOnlyDictionary<string, T> names)
        where T : struct
    {
        var text = String(key);
        if (text is null)
        {
            return null;
        }

        if (names.TryGetValue(text, out var value))
        {
            return value;
        }

        var hint = ValueParsers.Closest(text, names.Keys);
        Error(key, $"{Section}.{key}: '{text}' is not one of {string.Join(", ", names.Keys)}{(hint is null ? "" : $"; did you mean '{hint}'?")}");
        return null;
    }
}

/// <summary>What every reader of one file shares: its diagnostics and the variables for <c>${VAR}</c> substitution.</summary>
internal sealed partial class ConfigContext(ConfigDiagnostics diagnostics, Func<string, string?> variables)
{
    public ConfigDiagnostics Diagnostics { get; } = diagnostics;

    /// <summary>A scalar's text with <c>${VAR}</c> and <c>${VAR:-default}</c> substituted; null (with an error) for non-scalars.</summary>
    public string? ScalarString(YamlNode node, string what)
    {
        if (node is not YamlScalarNode scalar)
        {
            Diagnostics.Error(ConfigNodeReader.PositionOf(node), $"{what} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");
            return null;
        }

        var text = scalar.Value ?? "";
        if (!text.Contains("${", StringComparison.Ordinal))
        {
            return text;
        }

        var builder = new StringBuilder();
        var last = 0;
        foreach (Match m in VariablePattern().Matches(text))
        {
            builder.Append(text, last, m.Index - last);
            var name = m.Groups["name"].Value;
            var value = variables(name);
            if (value is null)
            {
                if (m.Groups["default"].Success)
                {
                    value = m.Groups["default"].Value;
                }
                else
                {
                    Diagnostics.Error(ConfigNodeReader.PositionOf(node), $"{what}: environment variable '{name}' is not set (use ${{{name}:-default}} for a default)");
                    value = "";
                }
            }

            builder.Append(value);
            last = m.Index + m.Length;
        }

        builder.Append(text, last, text.Length - last);
        return builder.ToString();
    }

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(:-(?<default>[^}]*))?\}")]
    private static partial Regex VariablePattern();
}
