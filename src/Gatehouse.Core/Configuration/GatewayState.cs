namespace Gatehouse.Configuration;

/// <summary>Holds the snapshot in force. Readers take <see cref="Current"/> once per request; a reload replaces it whole.</summary>
internal sealed class GatewayState
{
    private GatewaySnapshot _current;

    public GatewayState(GatewaySnapshot initial) => _current = initial;

    public GatewaySnapshot Current => Volatile.Read(ref _current);

    public event Action<GatewaySnapshot>? Changed;

    public void Swap(GatewaySnapshot next)
    {
        Volatile.Write(ref _current, next);
        Changed?.Invoke(next);
    }
}
