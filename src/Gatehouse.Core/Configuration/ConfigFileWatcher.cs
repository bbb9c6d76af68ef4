namespace Gatehouse.Configuration;

/// <summary>
/// Watches one config file. Editors and <c>cp</c> write in several steps (truncate, write, rename), so events are
/// debounced; a reload that reads a half-written file is refused like any bad file and the next event retries.
/// The directory is watched, not the file, so that atomic rename-over saves are seen too.
/// </summary>
internal sealed class ConfigFileWatcher : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);
    private readonly FileSystemWatcher _watcher;
    private readonly Timer _timer;

    public ConfigFileWatcher(string path, Action changed)
    {
        var full = Path.GetFullPath(path);
        _timer = new Timer(_ => changed(), null, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => Schedule();
        _watcher.Created += (_, _) => Schedule();
        _watcher.Renamed += (_, _) => Schedule();
        _watcher.EnableRaisingEvents = true;
    }

    private void Schedule() => _timer.Change(Debounce, Timeout.InfiniteTimeSpan);

    public void Dispose()
    {
        _watcher.Dispose();
        _timer.Dispose();
    }
}
