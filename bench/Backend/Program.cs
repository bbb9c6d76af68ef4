// Fixed backend for the proxy benchmark (bench/run.sh).
// Usage: dotnet Backend.dll http://127.0.0.1:PORT
//
// Bodies are pre-built once so every request costs the same; the backend shares a
// core with wrk, so any work it does here is work stolen from the load generator.
using System.Buffers;
using System.Globalization;
using System.Text;

if (args.Length < 1)
{
    Console.Error.WriteLine("usage: Backend <listen-url>");
    return 2;
}

// Slim builder: Kestrel only, no IIS/hosting-startup extras; args are ours, not config.
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls(args[0]);
builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);

var app = builder.Build();

byte[] small = Encoding.ASCII.GetBytes("Hello, world!"); // 13 bytes
byte[] sixteenK = new byte[16 * 1024];
Array.Fill(sixteenK, (byte)'a');

app.MapGet("/small", ctx => WriteAsync(ctx, small));
app.MapGet("/16k", ctx => WriteAsync(ctx, sixteenK));
app.MapPost("/echo-size", async ctx =>
{
    // Drain the body (the proxy must really forward it) and report its length so a
    // broken proxy that drops or truncates bodies shows up when checked by hand.
    long total = 0;
    byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        int read;
        while ((read = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
        {
            total += read;
        }
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }

    await WriteAsync(ctx, Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture)));
});

app.Run();
return 0;

static Task WriteAsync(HttpContext ctx, byte[] body)
{
    ctx.Response.ContentType = "text/plain";
    ctx.Response.ContentLength = body.Length;
    return ctx.Response.Body.WriteAsync(body, 0, body.Length, ctx.RequestAborted);
}
