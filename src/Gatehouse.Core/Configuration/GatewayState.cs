namespace Gatehouse.Configuration;

/// <summary>
/// Holds the snapshot in force. Read before routing (limits, trusted proxies) and, for requests no route matched, by
/// the route-feature stage; after routing every stage uses the route's own snapshot (see
/// <see cref="Pipeline.IGatewayRouteFeature"/>). A reload replaces it whole.
/// </summary>
internal sealed class GatewayState
{
    private GatewaySnapshot? _current;

    /// <summary>Empty until the first snapshot is compiled (the compiler needs the gateway's services, which need this).</summary>
    public GatewayState()
    {
    }

    public GatewayState(GatewaySnapshot initial) => _current = initial;

    public GatewaySnapshot Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("no config has been compiled yet");

    /// <summary>The snapshot in force, or null before the first one (observable instruments read it at any time, also in the standalone services of validate).</summary>
    public GatewaySnapshot? CurrentOrNull => Volatile.Read(ref _current);

    public event Action<GatewaySnapshot>? Changed;

    public void Swap(GatewaySnapshot next)
    {
        Volatile.Write(ref _current, next);
        Changed?.Invoke(next);
    }
}
