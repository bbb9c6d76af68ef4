namespace Gatehouse.Core.Tests.Common;

/// <summary>
/// Virtual time for unit tests: starts at 2026-01-01T00:00Z (on every minute and hour boundary, so window arithmetic
/// in tests is exact) and moves only when told. Timestamps are in ticks.
/// </summary>
internal sealed class ManualTime : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => Now.UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Now += by;
}
