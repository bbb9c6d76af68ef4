namespace Gatehouse.FunctionalTests.Common;

/// <summary>What a <see cref="FaultBackend"/> does with the next requests; tests switch it while the gateway runs.</summary>
public enum Fault
{
    /// <summary>200 with "ok from NAME" and the request body's length in <c>X-Body-Bytes</c>.</summary>
    None,

    /// <summary>Answers <see cref="FaultBackend.Status"/> with a small body.</summary>
    Status,

    /// <summary>Waits <see cref="FaultBackend.Delay"/> before answering 200.</summary>
    Slow,

    /// <summary>Never answers; counts the request as cancelled when the gateway gives up on it.</summary>
    Hang,

    /// <summary>Closes the connection before sending anything.</summary>
    ResetBeforeHeaders,

    /// <summary>Sends 200 headers announcing 1MB and 64KB of it, then closes the connection.</summary>
    ResetMidBody,

    /// <summary>Waits for <see cref="FaultBackend.Release"/> before answering 200.</summary>
    Gate,
}

/// <summary>
/// A real Kestrel backend on 127.0.0.1 port 0 whose behaviour the test switches (<see cref="Fault"/>): 5xx bursts,
/// slow or hanging answers, resets before or in the middle of the body. A stopped backend (refused connections) is
/// a <see cref="TestBackend"/> disposed before the gateway starts.
/// </summary>
public sealed class FaultBackend : IAsyncDisposable
{
    private readonly string _name;
    private TestBackend _backend = null!;
    private int _fault;
    private int _cancelled;
    private int _hung;
    private int _methodCounts;
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FaultBackend(string name) => _name = name;

    public Fault Fault
    {
        get => (Fault)Volatile.Read(ref _fault);
        set => Volatile.Write(ref _fault, (int)value);
    }

    public int Status { get; set; } = 503;

    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(1);

    public string Url => _backend.Url;

    /// <summary>Requests that reached the backend, whatever their fate.</summary>
    public int Requests => _backend.Requests;

    /// <summary>Requests whose RequestAborted fired while the backend was still working on them: the gateway let go of the connection.</summary>
    public int Cancelled => Volatile.Read(ref _cancelled);

    /// <summary>Requests that started hanging (<see cref="Fault.Hang"/>).</summary>
    public int Hung => Volatile.Read(ref _hung);

    /// <summary>POST requests seen.</summary>
    public int Posts => Volatile.Read(ref _methodCounts);

    public static async Task<FaultBackend> StartAsync(string name = "backend")
    {
        var fault = new FaultBackend(name);
        fault._backend = await TestBackend.StartAsync(app => app.Map("/{**path}", fault.HandleAsync));
        return fault;
    }

    /// <summary>Lets every request waiting in <see cref="Fault.Gate"/> through.</summary>
    public void Release() => Interlocked.Exchange(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    private async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsPost(context.Request.Method))
        {
            Interlocked.Increment(ref _methodCounts);
        }

        long bodyBytes = 0;
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            bodyBytes += read;
        }

        context.Response.Headers["X-Backend"] = _name;
        context.Response.Headers["X-Body-Bytes"] = bodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        switch (Fault)
        {
            case Fault.Status:
                context.Response.StatusCode = Status;
                await context.Response.WriteAsync($"failure {Status} from {_name}");
                return;
            case Fault.Slow:
                await Task.Delay(Delay, context.RequestAborted);
                break;
            case Fault.Hang:
                Interlocked.Increment(ref _hung);
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref _cancelled);
                    throw;
                }

                return;
            case Fault.ResetBeforeHeaders:
                context.Abort();
                return;
            case Fault.ResetMidBody:
                context.Response.ContentLength = 1024 * 1024;
                await context.Response.Body.WriteAsync(new byte[64 * 1024]);
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            case Fault.Gate:
                await Volatile.Read(ref _gate).Task.WaitAsync(context.RequestAborted);
                break;
        }

        await context.Response.WriteAsync($"ok from {_name}");
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _backend.DisposeAsync();
    }
}
