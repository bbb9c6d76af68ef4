using System.Net.Sockets;
using System.Text;

namespace Gatehouse.FunctionalTests.Common;

/// <summary>Sends exact bytes over a TCP connection, for framing tests that an HTTP client library would refuse to produce.</summary>
public static class RawHttp
{
    public sealed record Exchange(string Response, bool ClosedByServer)
    {
        public int FirstStatus => int.Parse(Response.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);

        public int ResponseCount => Response.Split("HTTP/1.1 ").Length - 1;
    }

    /// <summary>Writes <paramref name="request"/>, then reads until the server closes or stays quiet for <paramref name="quiet"/>.</summary>
    public static async Task<Exchange> SendAsync(Uri server, string request, TimeSpan? quiet = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        var closed = false;
        while (true)
        {
            using var timeout = new CancellationTokenSource(quiet ?? TimeSpan.FromMilliseconds(1500));
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (IOException)
            {
                closed = true;
                break;
            }

            if (read == 0)
            {
                closed = true;
                break;
            }

            received.Write(buffer, 0, read);
        }

        return new Exchange(Encoding.Latin1.GetString(received.ToArray()), closed);
    }
}
