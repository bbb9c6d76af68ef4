using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Gatehouse.Tests.Bookstore;

/// <summary>
/// The FileDescriptorSet of bookstore.proto with its imports in dependency order, as
/// <c>protoc --include_imports --descriptor_set_out</c> writes it, built from the generated types' own descriptors
/// so that tests need no protoc and no committed binary.
/// </summary>
public static class BookstoreDescriptors
{
    public static byte[] Set() => SetOf(BookstoreReflection.Descriptor).ToByteArray();

    public static FileDescriptorSet SetOf(FileDescriptor root)
    {
        var ordered = new List<FileDescriptor>();
        void Visit(FileDescriptor file)
        {
            if (ordered.Contains(file))
            {
                return;
            }

            foreach (var dependency in file.Dependencies)
            {
                Visit(dependency);
            }

            ordered.Add(file);
        }

        Visit(root);
        var set = new FileDescriptorSet();
        // With the registry the google.api.http options are parsed as extensions, so tests can replace them.
        var parser = FileDescriptorProto.Parser.WithExtensionRegistry(new ExtensionRegistry { Google.Api.AnnotationsExtensions.Http });
        set.File.AddRange(ordered.Select(f => parser.ParseFrom(f.SerializedData)));
        return set;
    }
}
