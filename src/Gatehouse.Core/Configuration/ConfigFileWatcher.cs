namespace Gatehouse.Configuration;

/// <summary>
/// Watches one config file. Editors and <c>cp</c> write in several steps (truncate, write, rename), so events are
/// debounced, and a change fires only once the file has been quiet for the debounce interval, so a write that
/// stalls half-way is not read as a whole file. The whole directory is watched, not the file name: rename-over
/// saves and Kubernetes ConfigMap updates (which swap a <c>..data</c> symlink) must count too. A reload of text
/// that did not change is cheap and does nothing.
/// </summary>
internal sealed class ConfigFileWatcher : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);
    private readonly string _path;
    private readonly Action _changed;
    private readonly FileSystemWatcher _watcher;
    private readonly Timer _timer;

    public ConfigFileWatcher(string path, Action changed)
    {
        _path = Path.GetFullPath(path);
        _changed = changed;
        _timer = new Timer(_ => Fire(), null, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        _watcher.Changed += (_, _) => Schedule();
        _watcher.Created += (_, _) => Schedule();
        _watcher.Renamed += (_, _) => Schedule();
        _watcher.EnableRaisingEvents = true;
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
