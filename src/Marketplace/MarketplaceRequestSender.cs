using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Marketplace.Models;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Marketplace;

/// <summary>
/// What the fulfillment and metering clients send alike (docs/marketplace.md#calling-the-api): request and correlation ids, the bearer token,
/// the retry safety the resilience pipeline reads, and one <see cref="MarketplaceException"/> for every refusal or
/// missing answer. Each client owns one, over its own typed HttpClient and logger.
/// </summary>
internal sealed partial class MarketplaceRequestSender(
    HttpClient http, IMarketplaceTokenProvider tokens, TimeProvider time, ILogger logger, string api)
{
    public const string RequestIdHeader = "x-ms-requestid";
    private const string CorrelationIdHeader = "x-ms-correlationid";

    /// <param name="conflictIsAnswer">A 409 is returned as an answer rather than thrown (metering's duplicate).</param>
    /// <param name="keepErrorBody">A refusal keeps its whole body even when it parsed, for callers that read details.</param>
    public async Task<MarketplaceAnswer> SendAsync(
        HttpMethod method, Uri uri, JsonBody body, RetrySafety safety, Guid correlationId, CancellationToken ct,
        Action<HttpRequestMessage>? addHeaders = null, bool conflictIsAnswer = false, bool keepErrorBody = false)
    {
        var requestId = Guid.NewGuid().ToString();
        var path = uri.AbsolutePath;
        var endpoint = MarketplaceTelemetry.EndpointOf(path);
        using var activity = MarketplaceTelemetry.StartCall(api, method.Method, endpoint);

        using var request = new HttpRequestMessage(method, uri);
        request.Headers.TryAddWithoutValidation(RequestIdHeader, requestId);
        request.Headers.TryAddWithoutValidation(CorrelationIdHeader, correlationId.ToString());
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetAccessTokenAsync(ct).ConfigureAwait(false));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Options.Set(RetrySafetyOption.Key, safety);
        request.Content = body.ToContent();
        addHeaders?.Invoke(request);

        var started = time.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex, ct))
        {
            var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
            MarketplaceTelemetry.RecordCall(api, method.Method, endpoint, null, elapsed / 1000);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            LogCallFailed(api, method.Method, path, elapsed, requestId, correlationId, ex.GetType().Name);
            throw TransportFailure(ex, safety, requestId);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var echoedRequestId = MarketplaceAnswer.FirstHeader(response.Headers, RequestIdHeader) ?? requestId;
            var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
            MarketplaceTelemetry.RecordCall(api, method.Method, endpoint, (int)response.StatusCode, elapsed / 1000);
            activity?.SetTag("http.response.status_code", (int)response.StatusCode);

            var isAnswer = response.IsSuccessStatusCode || (conflictIsAnswer && response.StatusCode == HttpStatusCode.Conflict);
            if (!isAnswer)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                LogCallRefused(api, method.Method, path, (int)response.StatusCode, elapsed, echoedRequestId, correlationId);
                var error = MarketplaceErrorBody.Parse(text);
                throw new MarketplaceException(
                    response.StatusCode,
                    error.Code,
                    error.Message ?? (string.IsNullOrEmpty(response.ReasonPhrase) ? "(no error message)" : response.ReasonPhrase),
                    echoedRequestId,
                    keepErrorBody ? error.RawBody ?? text : error.RawBody);
            }

            LogCall(api, method.Method, path, (int)response.StatusCode, elapsed, echoedRequestId, correlationId);
            return new MarketplaceAnswer(response.StatusCode, text, response.Headers, echoedRequestId);
        }
    }

    private static bool IsTransportFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    /// <summary>
    /// No answer came back. For a call that starts an operation the outcome is unknown (the first attempt may have been
    /// carried out), so the message tells the caller to look at outstanding operations rather than try again. A call
    /// safe to repeat (every metering call, see <see cref="MeteringClient"/>) is simply sent again later.
    /// </summary>
    private static MarketplaceException TransportFailure(Exception ex, RetrySafety safety, string requestId)
    {
        var neverSent = ex is BrokenCircuitException
            || (ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError });
        var (status, code, what) = ex switch
        {
            BrokenCircuitException => (HttpStatusCode.ServiceUnavailable, "CircuitOpen", "the marketplace failed repeatedly; calls are paused for a moment"),
            HttpRequestException => (HttpStatusCode.ServiceUnavailable, "Unreachable", "the marketplace could not be reached"),
            _ => (HttpStatusCode.GatewayTimeout, "Timeout", "the marketplace did not answer in time"),
        };

        if (safety == RetrySafety.OnlyWhenThrottled && !neverSent)
        {
            return new MarketplaceException(
                status, "OutcomeUnknown",
                $"{what}; the change may or may not have been made — check the subscription's outstanding operations before trying again",
                requestId, inner: ex);
        }

        return new MarketplaceException(status, code, what, requestId, inner: ex);
    }

    // Debug: a call that went well is in the traces and the marketplace.client.calls metric; the log keeps the ones that did not.
    [LoggerMessage(Level = LogLevel.Debug,
        Message = "{Api} {Method} {Path} answered {StatusCode} in {ElapsedMs:F0} ms (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCall(string api, string method, string path, int statusCode, double elapsedMs, string requestId, Guid correlationId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Api} {Method} {Path} refused with {StatusCode} in {ElapsedMs:F0} ms (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCallRefused(string api, string method, string path, int statusCode, double elapsedMs, string requestId, Guid correlationId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Api} {Method} {Path} got no answer after {ElapsedMs:F0} ms: {Failure} (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCallFailed(string api, string method, string path, double elapsedMs, string requestId, Guid correlationId, string failure);
}

/// <summary>A marketplace answer read in full: the status, the body as text, the headers and the request id it echoed.</summary>
internal sealed record MarketplaceAnswer(HttpStatusCode Status, string Body, HttpResponseHeaders Headers, string RequestId)
{
    /// <summary>An empty body reads as nothing; a body that is not the expected JSON is an invalid response.</summary>
    public T? ReadOptional<T>() where T : class
    {
        if (string.IsNullOrWhiteSpace(Body))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(Body, MarketplaceJson.Options);
        }
        catch (JsonException ex)
        {
            throw InvalidResponse(ex);
        }
    }

    public MarketplaceException InvalidResponse(Exception? inner) =>
        new(Status, "InvalidResponse", $"The marketplace answered {(int)Status} with a body that could not be read.",
            RequestId, Body, inner);

    public static string? FirstHeader(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
