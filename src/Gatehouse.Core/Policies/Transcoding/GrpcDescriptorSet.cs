using Google.Api;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Gatehouse.Policies.Transcoding;

/// <summary>
/// A service's FileDescriptorSet built into full descriptors at load time, with each method's
/// <c>google.api.http</c> rules compiled into <see cref="HttpBinding"/>s. A rule that does not fit its method's
/// messages fails the load, naming the method.
/// </summary>
internal sealed class GrpcDescriptorSet
{
    private readonly Dictionary<string, MessageDescriptor> _messages = new(StringComparer.Ordinal);

    private GrpcDescriptorSet(IReadOnlyList<FileDescriptor> files, IReadOnlyList<HttpBinding> bindings)
    {
        Files = files;
        Bindings = bindings;
        foreach (var file in files)
        {
            AddMessages(file.MessageTypes);
        }

        Json = new ProtoJsonOptions { TypeResolver = FindMessage };
        JsonIgnoringUnknownFields = new ProtoJsonOptions { TypeResolver = FindMessage, IgnoreUnknownFields = true };
    }

    /// <summary>Codec settings whose Any resolver knows every message of this set.</summary>
    public ProtoJsonOptions Json { get; }

    public ProtoJsonOptions JsonIgnoringUnknownFields { get; }

    /// <summary>A message type of the set by full name (for Any's <c>@type</c>), or null.</summary>
    public MessageDescriptor? FindMessage(string fullName) => _messages.GetValueOrDefault(fullName);

    private void AddMessages(IEnumerable<MessageDescriptor> messages)
    {
        foreach (var message in messages)
        {
            _messages.TryAdd(message.FullName, message);
            AddMessages(message.NestedTypes);
        }
    }

    public IReadOnlyList<FileDescriptor> Files { get; }

    /// <summary>Every binding of every method, most specific template first (more literal segments, then no <c>**</c>).</summary>
    public IReadOnlyList<HttpBinding> Bindings { get; }

    /// <summary>Reads and builds the set; every problem found goes to <paramref name="errors"/> and the result is then null.</summary>
    public static GrpcDescriptorSet? Load(byte[] bytes, List<string> errors)
    {
        FileDescriptorSet set;
        try
        {
            set = FileDescriptorSet.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            errors.Add($"is not a FileDescriptorSet ({e.Message}); make it with protoc --include_imports --descriptor_set_out=FILE");
            return null;
        }

        var ordered = DependencyOrder(set, errors);
        if (ordered is null)
        {
            return null;
        }

        IReadOnlyList<FileDescriptor> files;
        try
        {
            // The registry makes MethodOptions keep the google.api.http extension instead of dropping it as unknown.
            var registry = new ExtensionRegistry { AnnotationsExtensions.Http };
            files = FileDescriptor.BuildFromByteStrings(ordered.Select(f => f.ToByteString()), registry);
        }
        catch (Exception e) when (e is DescriptorValidationException or ArgumentException or InvalidProtocolBufferException)
        {
            errors.Add($"cannot be built into descriptors: {e.Message}");
            return null;
        }

        var bindings = new List<HttpBinding>();
        foreach (var file in files)
        {
            foreach (var service in file.Services)
            {
                foreach (var method in service.Methods)
                {
                    if (method.GetOptions()?.GetExtension(AnnotationsExtensions.Http) is not { } rule)
                    {
                        continue;
                    }

                    if (method.IsClientStreaming)
                    {
                        errors.Add($"method {method.FullName} has a google.api.http rule but streams requests; only unary and server-streaming methods can be transcoded");
                        continue;
                    }

                    CompileRule(method, rule, bindings, errors, topLevel: true);
                }
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        return new GrpcDescriptorSet(files, bindings
            .OrderByDescending(b => b.Template.LiteralCount)
            .ThenBy(b => b.Template.EndsWithDoubleWildcard)
            .ThenByDescending(b => b.Template.Segments.Length)
            .ToArray());
    }

    /// <summary>BuildFromByteStrings needs each file after its imports; protoc writes them so, but not every tool does.</summary>
    private static List<FileDescriptorProto>? DependencyOrder(FileDescriptorSet set, List<string> errors)
    {
        var byName = new Dictionary<string, FileDescriptorProto>(StringComparer.Ordinal);
        foreach (var file in set.File)
        {
            byName.TryAdd(file.Name, file);
        }

        var ordered = new List<FileDescriptorProto>();
        var state = new Dictionary<string, bool>(StringComparer.Ordinal);   // false: visiting, true: done
        bool Visit(FileDescriptorProto file)
        {
            if (state.TryGetValue(file.Name, out var done))
            {
                if (!done)
                {
                    errors.Add($"has an import cycle through {file.Name}");
                }

                return done;
            }

            state[file.Name] = false;
            foreach (var dependency in file.Dependency)
            {
                if (!byName.TryGetValue(dependency, out var imported))
                {
                    errors.Add($"lacks {dependency}, imported by {file.Name}; make it with protoc --include_imports");
                    return false;
                }

                if (!Visit(imported))
                {
                    return false;
                }
            }

            state[file.Name] = true;
            ordered.Add(file);
            return true;
        }

        foreach (var file in set.File)
        {
            if (!Visit(file))
            {
                return null;
            }
        }

        return ordered;
    }

    private static void CompileRule(MethodDescriptor method, HttpRule rule, List<HttpBinding> bindings, List<string> errors, bool topLevel)
    {
        var (verb, path) = rule.PatternCase switch
        {
            HttpRule.PatternOneofCase.Get => ("GET", rule.Get),
            HttpRule.PatternOneofCase.Put => ("PUT", rule.Put),
            HttpRule.PatternOneofCase.Post => ("POST", rule.Post),
            HttpRule.PatternOneofCase.Delete => ("DELETE", rule.Delete),
            HttpRule.PatternOneofCase.Patch => ("PATCH", rule.Patch),
            HttpRule.PatternOneofCase.Custom => (rule.Custom.Kind, rule.Custom.Path),
            _ => (null, null),
        };
        var where = $"method {method.FullName}";
        if (verb is null || path is null)
        {
            errors.Add($"{where}: a google.api.http rule needs get, put, post, delete, patch or custom");
            return;
        }

        if (!PathTemplate.TryParse(path, out var template, out var templateError))
        {
            errors.Add($"{where}: path template '{path}' {templateError}");
            return;
        }

        var pathFields = new List<FieldDescriptor[]>();
        foreach (var variable in template!.Variables)
        {
            if (ResolveField(method.InputType, variable.FieldPath, out var fieldError) is { } fields)
            {
                var leaf = fields[^1];
                if (leaf.IsRepeated || leaf.IsMap || leaf.FieldType is FieldType.Message or FieldType.Group)
                {
                    errors.Add($"{where}: path variable '{variable.Name}' must name a single scalar or enum field, not {Describe(leaf)}");
                }

                pathFields.Add(fields);
            }
            else
            {
                errors.Add($"{where}: path variable '{variable.Name}' {fieldError}");
            }
        }

        FieldDescriptor? bodyField = null;
        if (rule.Body is { Length: > 0 } body && body != "*")
        {
            bodyField = method.InputType.FindFieldByName(body);
            if (bodyField is null)
            {
                errors.Add($"{where}: body '{body}' is not a field of {method.InputType.FullName}");
            }
        }

        FieldDescriptor? responseField = null;
        if (rule.ResponseBody is { Length: > 0 } responseBody)
        {
            responseField = method.OutputType.FindFieldByName(responseBody);
            if (responseField is null)
            {
                errors.Add($"{where}: response_body '{responseBody}' is not a field of {method.OutputType.FullName}");
            }
        }

        bindings.Add(new HttpBinding(verb, template, method, rule.Body == "*", bodyField, responseField, pathFields.ToArray()));
        if (!topLevel && rule.AdditionalBindings.Count > 0)
        {
            errors.Add($"{where}: additional_bindings may not nest");
            return;
        }

        foreach (var additional in rule.AdditionalBindings)
        {
            CompileRule(method, additional, bindings, errors, topLevel: false);
        }
    }

    /// <summary>Walks <c>a.b.c</c> through singular message fields of <paramref name="message"/>.</summary>
    internal static FieldDescriptor[]? ResolveField(MessageDescriptor message, IReadOnlyList<string> path, out string? error)
    {
        error = null;
        var fields = new FieldDescriptor[path.Count];
        var current = message;
        for (var i = 0; i < path.Count; i++)
        {
            var field = current?.FindFieldByName(path[i]);
            if (field is null)
            {
                error = $"names field '{path[i]}', which {current?.FullName ?? "a scalar"} does not have";
                return null;
            }

            fields[i] = field;
            if (i < path.Count - 1)
            {
                if (field.IsRepeated || field.FieldType != FieldType.Message)
                {
                    error = $"goes through '{field.Name}', which is {Describe(field)}, not a single message";
                    return null;
                }

                current = field.MessageType;
            }
        }

        return fields;
    }

    private static string Describe(FieldDescriptor field) =>
        field.IsMap ? "a map" : field.IsRepeated ? "a repeated field" : field.FieldType == FieldType.Message ? $"a message ({field.MessageType.FullName})" : field.FieldType.ToString().ToLowerInvariant();
}

/// <summary>One HTTP verb + path template bound to a gRPC method, with where the body and response go.</summary>
internal sealed record HttpBinding(
    string HttpMethod,
    PathTemplate Template,
    MethodDescriptor Method,
    bool BodyIsWholeRequest,
    FieldDescriptor? BodyField,
    FieldDescriptor? ResponseBodyField,
    FieldDescriptor[][] PathFields)
{
    /// <summary>The gRPC request path, <c>/package.Service/Method</c>.</summary>
    public string GrpcPath { get; } = "/" + Method.Service.FullName + "/" + Method.Name;
}
