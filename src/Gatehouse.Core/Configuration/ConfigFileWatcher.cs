namespace Gatehouse.Configuration;

/// <summary>
/// Watches one config file. Editors and <c>cp</c> write in several steps (truncate, write, rename), so events are
/// debounced, and a change fires only once the file has been quiet for the debounce interval, so a write that
/// stalls half-way is not read as a whole file. The whole directory is watched, not the file name: rename-over
/// saves and Kubernetes ConfigMap updates (which swap a <c>..data</c> symlink) must count too. Only events for the
/// config file, the files it names (<paramref name="referencedFiles"/>: descriptor sets, CA files) or a Kubernetes
/// <c>..</c> entry set off a reload: a log or temp file written beside the config does not. A reload of text that
/// did not change is cheap and does nothing.
/// </summary>
internal sealed class ConfigFileWatcher : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);
    private readonly string _path;
    private readonly Action _changed;
    private readonly Func<IEnumerable<string>> _referencedFiles;
    private readonly FileSystemWatcher _watcher;
    private readonly Timer _timer;

    /// <param name="referencedFiles">Full paths of the files the config in force names, asked on each event.</param>
    public ConfigFileWatcher(string path, Action changed, Func<IEnumerable<string>>? referencedFiles = null)
    {
        _path = Path.GetFullPath(path);
        _changed = changed;
        _referencedFiles = referencedFiles ?? (static () => []);
        _timer = new Timer(_ => Fire(), null, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, e) => ScheduleIfWatched(e.FullPath);
        _watcher.Created += (_, e) => ScheduleIfWatched(e.FullPath);
        _watcher.Deleted += (_, e) => ScheduleIfWatched(e.FullPath);
        _watcher.Renamed += (_, e) =>
        {
            ScheduleIfWatched(e.FullPath);
            ScheduleIfWatched(e.OldFullPath);
        };
        _watcher.EnableRaisingEvents = true;
    }

    internal bool IsWatched(string fullPath) =>
        string.Equals(fullPath, _path, StringComparison.Ordinal)
        || Path.GetFileName(fullPath).StartsWith("..", StringComparison.Ordinal)
        || _referencedFiles().Contains(fullPath, StringComparer.Ordinal);

    private void ScheduleIfWatched(string fullPath)
    {
        if (IsWatched(fullPath))
        {
            Schedule();
        }
    }

    private void Schedule() => _timer.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void Fire()
    {
        try
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(_path) < Debounce)
            {
                Schedule();
                return;
            }
        }
        catch (IOException)
        {
            // Gone for a moment (rename-over in progress): the reload reports it if it stays gone.
        }
        catch (UnauthorizedAccessException)
        {
        }

        _changed();
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _timer.Dispose();
    }
}
