using System.Reflection;
using Gatehouse.Observability;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Core.Tests.Observability;

/// <summary>Event ids are what operators alert on: one table, each id used by one event only.</summary>
public class LogEventsTests
{
    private const BindingFlags AllDeclared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    /// <summary>Every method of Gatehouse.Core carrying <c>[LoggerMessage]</c>, as Type.Method with its attribute.</summary>
    private static List<(string Method, LoggerMessageAttribute Attribute)> LoggerMessages()
    {
        var found = (
            from type in typeof(LogEvents).Assembly.GetTypes()
            from method in type.GetMethods(AllDeclared)
            let attribute = method.GetCustomAttribute<LoggerMessageAttribute>()
            where attribute is not null
            select ($"{type.FullName}.{method.Name}", attribute)).ToList();
        Assert.NotEmpty(found);
        return found;
    }

    private static List<(string Name, int Id)> TableEntries() =>
        typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .Select(f => (f.Name, (int)f.GetRawConstantValue()!))
            .ToList();

    private static string[] Duplicates(IEnumerable<(string Name, int Id)> entries) =>
        entries.GroupBy(e => e.Id)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Name))}")
            .ToArray();

    [Fact]
    public void LoggerMessages_EventIds_AreSet()
    {
        var messages = LoggerMessages();

        var unset = messages.Where(m => m.Attribute.EventId <= 0).Select(m => m.Method).ToArray();

        Assert.True(unset.Length == 0, "[LoggerMessage] without an event id (0, or the default -1): " + string.Join(", ", unset));
    }

    [Fact]
    public void LoggerMessages_EventIds_AreDistinct()
    {
        var messages = LoggerMessages();

        var duplicates = Duplicates(messages.Select(m => (m.Method, m.Attribute.EventId)));

        Assert.True(duplicates.Length == 0, "event ids logged by more than one method: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void LoggerMessages_EventIds_AreInTheTable()
    {
        var table = TableEntries().Select(e => e.Id).ToHashSet();

        var missing = LoggerMessages().Where(m => !table.Contains(m.Attribute.EventId)).Select(m => $"{m.Method} ({m.Attribute.EventId})").ToArray();

        Assert.True(missing.Length == 0, "event ids not in LogEvents: " + string.Join(", ", missing));
    }

    [Fact]
    public void Table_Constants_AreDistinct()
    {
        var entries = TableEntries();

        var duplicates = Duplicates(entries);

        Assert.NotEmpty(entries);
        Assert.True(duplicates.Length == 0, "LogEvents gives one id to several names: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void LoggerMessages_TemplateHoles_StartWithUpperCase()
    {
        var holes = LoggerMessages().SelectMany(m => Holes(m.Attribute.Message).Select(hole => (m.Method, Hole: hole))).ToList();

        var lowerCase = holes.Where(h => h.Hole.Length == 0 || !char.IsUpper(h.Hole[0])).Select(h => $"{h.Method}: {{{h.Hole}}}").ToArray();

        Assert.NotEmpty(holes);
        Assert.True(lowerCase.Length == 0, "template holes not in PascalCase: " + string.Join(", ", lowerCase));
    }

    /// <summary>The names of a message template's holes: <c>{Name}</c>, <c>{Name:format}</c>, <c>{Name,width}</c>; <c>{{</c> is a literal brace.</summary>
    private static IEnumerable<string> Holes(string template)
    {
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                continue;
            }

            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                i++;
                continue;
            }

            var end = template.IndexOf('}', i);
            Assert.True(end > i + 1, $"unclosed or empty hole in \"{template}\"");
            var hole = template[(i + 1)..end];
            yield return hole.Split(',', ':')[0].Trim();
            i = end;
        }
    }
}
