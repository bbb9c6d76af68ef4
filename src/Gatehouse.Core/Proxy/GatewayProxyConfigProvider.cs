using Gatehouse.Configuration;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gatehouse.Proxy;

/// <summary>Feeds YARP the routes and clusters of the snapshot in force and signals YARP on every swap.</summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider
{
    private readonly GatewayState _state;
    private volatile SnapshotProxyConfig? _config;

    /// <remarks>Made before the first snapshot exists (YARP's validator, which the compiler uses, depends on it), so it reads the state lazily.</remarks>
    public GatewayProxyConfigProvider(GatewayState state)
    {
        _state = state;
        state.Changed += snapshot =>
        {
            var previous = _config;
            _config = new SnapshotProxyConfig(snapshot);
            previous?.SignalChange();
        };
    }

    public IProxyConfig GetConfig() => _config ??= new SnapshotProxyConfig(_state.Current);

    // The token source is never disposed on purpose: YARP may still hold the change token of a superseded config.
#pragma warning disable CA1001
    private sealed class SnapshotProxyConfig(GatewaySnapshot snapshot) : IProxyConfig
#pragma warning restore CA1001
    {
        private readonly CancellationTokenSource _changed = new();

        public string RevisionId { get; } = snapshot.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture);

        public IReadOnlyList<RouteConfig> Routes => snapshot.ProxyRoutes;

        public IReadOnlyList<ClusterConfig> Clusters => snapshot.ProxyClusters;

        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public void SignalChange() => _changed.Cancel();
    }
}
