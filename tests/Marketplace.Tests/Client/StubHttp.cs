using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Marketplace.Tests.Client;

/// <summary>A request as the stub saw it, kept after the client disposed the original.</summary>
internal sealed record SeenRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string? ContentType, string Body);

/// <summary>
/// Answers requests from a function, records each one. Used where a real server cannot be made to answer in a given
/// shape on demand (error body shapes, Retry-After, paging links to other hosts); everything else runs against the emulator.
/// </summary>
internal sealed class StubHandler(Func<SeenRequest, int, CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
{
    private readonly ConcurrentQueue<SeenRequest> _seen = new();

    public StubHandler(Func<SeenRequest, int, HttpResponseMessage> answer)
        : this((request, attempt, _) => Task.FromResult(answer(request, attempt)))
    {
    }

    public IReadOnlyList<SeenRequest> Seen => [.. _seen];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var seen = new SeenRequest(request.Method, request.RequestUri!, headers, request.Content?.Headers.ContentType?.ToString(), body);
        _seen.Enqueue(seen);
        var response = await answer(seen, _seen.Count, cancellationToken);
        response.RequestMessage ??= request;
        return response;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Empty(HttpStatusCode status) => new(status) { Content = new ByteArrayContent([]) };
}
