using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marketplace.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Marketplace;

/// <summary>
/// The SaaS Fulfillment API v2 over HTTP (contract §3, §4): strict in what it sends, lenient in what it accepts.
/// A typed HttpClient registered by <c>AddMarketplaceClient</c>; retries are decided by the resilience pipeline from
/// the <see cref="RetrySafety"/> each call sets here.
/// </summary>
public sealed partial class FulfillmentClient(
    HttpClient http,
    IMarketplaceTokenProvider tokens,
    IOptions<MarketplaceClientOptions> options,
    TimeProvider time,
    ILogger<FulfillmentClient> logger) : IFulfillmentClient
{
    private const string RequestIdHeader = "x-ms-requestid";
    private const string CorrelationIdHeader = "x-ms-correlationid";
    private const string MarketplaceTokenHeader = "x-ms-marketplace-token";
    private const string OperationLocationHeader = "Operation-Location";
    private const string OperationIdHeader = "Operation-Id";

    private readonly MarketplaceClientOptions _options = options.Value;
    private Uri BaseUri => MarketplaceClientOptions.WithTrailingSlash(_options.BaseUri);

    public async Task<ResolvedPurchase> ResolveAsync(string marketplaceToken, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(marketplaceToken);

        // Resolve only reads: repeating it after a failure returns the same purchase.
        var answer = await SendAsync(
            HttpMethod.Post, ApiUri("saas/subscriptions/resolve"), JsonBody.Empty, RetrySafety.Idempotent, correlationId, ct,
            request => request.Headers.TryAddWithoutValidation(MarketplaceTokenHeader, marketplaceToken)).ConfigureAwait(false);
        return ReadRequired<ResolvedPurchase>(answer);
    }

    public async Task ActivateAsync(Guid subscriptionId, ActivationRequest request, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Activating an activated subscription activates it once: safe to repeat.
        await SendAsync(
            HttpMethod.Post, ApiUri($"saas/subscriptions/{subscriptionId}/activate"), JsonBody.Of(request),
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<MarketplaceSubscription> ListSubscriptionsAsync(
        Guid correlationId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        Uri? page = ApiUri("saas/subscriptions");
        var visited = new HashSet<Uri>();
        while (page is not null && visited.Add(page))
        {
            var answer = await SendAsync(HttpMethod.Get, page, JsonBody.None, RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);

            // "An empty body means none" (contract §3).
            var current = ReadOptional<SubscriptionPage>(answer) ?? new SubscriptionPage();
            foreach (var subscription in current.Subscriptions)
            {
                yield return subscription;
            }

            page = NextPage(current.NextLink, answer);
        }
    }

    public async Task<MarketplaceSubscription> GetSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default)
    {
        var answer = await SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}"), JsonBody.None, RetrySafety.Idempotent, correlationId, ct)
            .ConfigureAwait(false);
        return ReadRequired<MarketplaceSubscription>(answer);
    }

    public async Task<IReadOnlyList<Plan>> ListAvailablePlansAsync(
        Guid subscriptionId, Guid correlationId, string? planId = null, CancellationToken ct = default)
    {
        var filter = planId is null ? null : $"&planId={Uri.EscapeDataString(planId)}";
        var answer = await SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}/listAvailablePlans", filter), JsonBody.None,
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
        return ReadOptional<PlanList>(answer)?.Plans ?? [];
    }

    public Task<OperationAccepted> ChangePlanAsync(Guid subscriptionId, string planId, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);

        // One change per PATCH: the docs disagree on plan and quantity together, so we never send both (contract §3).
        return StartOperationAsync(
            HttpMethod.Patch, subscriptionId, JsonBody.Of(new PlanChange(planId)), correlationId, ct);
    }

    public Task<OperationAccepted> ChangeQuantityAsync(Guid subscriptionId, int quantity, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        return StartOperationAsync(
            HttpMethod.Patch, subscriptionId, JsonBody.Of(new QuantityChange(quantity)), correlationId, ct);
    }

    public Task<OperationAccepted> DeleteSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) =>
        StartOperationAsync(HttpMethod.Delete, subscriptionId, JsonBody.None, correlationId, ct);

    public async Task<IReadOnlyList<MarketplaceOperation>> ListOutstandingOperationsAsync(
        Guid subscriptionId, Guid correlationId, CancellationToken ct = default)
    {
        var answer = await SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}/operations"), JsonBody.None,
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
        return ReadOperationList(answer);
    }

    public async Task<MarketplaceOperation> GetOperationAsync(
        Guid subscriptionId, Guid operationId, Guid correlationId, CancellationToken ct = default)
    {
        var answer = await SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}/operations/{operationId}"), JsonBody.None,
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
        return ReadRequired<MarketplaceOperation>(answer);
    }

    public async Task UpdateOperationStatusAsync(
        Guid subscriptionId, Guid operationId, OperationStatusUpdate update, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(update);

        // Sending the same status twice changes nothing; a 409 ("a newer update was already fulfilled") reaches the
        // caller as a MarketplaceException, which treats it as done.
        await SendAsync(
            HttpMethod.Patch, ApiUri($"saas/subscriptions/{subscriptionId}/operations/{operationId}"), JsonBody.Of(update),
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
    }

    private async Task<OperationAccepted> StartOperationAsync(
        HttpMethod method, Guid subscriptionId, JsonBody body, Guid correlationId, CancellationToken ct)
    {
        // Change plan, change quantity and cancel each start an operation: repeated after a 5xx or a time-out they
        // could start a second one, so only a throttled (refused, unexecuted) attempt is repeated.
        var answer = await SendAsync(
            method, ApiUri($"saas/subscriptions/{subscriptionId}"), body, RetrySafety.OnlyWhenThrottled, correlationId, ct)
            .ConfigureAwait(false);
        return ReadAccepted(answer, subscriptionId);
    }

    private Uri ApiUri(string path, string? extraQuery = null) =>
        new(BaseUri, $"{path}?api-version={Uri.EscapeDataString(_options.ApiVersion)}{extraQuery}");

    private async Task<Answer> SendAsync(
        HttpMethod method, Uri uri, JsonBody body, RetrySafety safety, Guid correlationId, CancellationToken ct,
        Action<HttpRequestMessage>? addHeaders = null)
    {
        var requestId = Guid.NewGuid().ToString();
        var path = uri.AbsolutePath;

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
            LogCallFailed(method.Method, path, elapsed, requestId, correlationId, ex.GetType().Name);
            throw TransportFailure(ex, safety, requestId);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var echoedRequestId = FirstHeader(response.Headers, RequestIdHeader) ?? requestId;
            var elapsed = time.GetElapsedTime(started).TotalMilliseconds;

            if (!response.IsSuccessStatusCode)
            {
                LogCallRefused(method.Method, path, (int)response.StatusCode, elapsed, echoedRequestId, correlationId);
                var error = MarketplaceErrorBody.Parse(text);
                throw new MarketplaceException(
                    response.StatusCode,
                    error.Code,
                    error.Message ?? (string.IsNullOrEmpty(response.ReasonPhrase) ? "(no error message)" : response.ReasonPhrase),
                    echoedRequestId,
                    error.RawBody);
            }

            LogCall(method.Method, path, (int)response.StatusCode, elapsed, echoedRequestId, correlationId);
            return new Answer(response.StatusCode, text, response.Headers, echoedRequestId);
        }
    }

    private static bool IsTransportFailure(Exception ex, CancellationToken ct) =>
        ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
        || (ex is OperationCanceledException && !ct.IsCancellationRequested);

    /// <summary>
    /// No answer came back. For a call that starts an operation the outcome is unknown (the first attempt may have been
    /// carried out), so the message tells the caller to look at outstanding operations rather than try again.
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

    private Uri? NextPage(string? nextLink, Answer answer)
    {
        if (string.IsNullOrWhiteSpace(nextLink))
        {
            return null;
        }

        // Followed as given (contract §3), but only on the API's own host: the bearer token must never travel elsewhere.
        var next = new Uri(BaseUri, nextLink.Trim());
        if (!string.Equals(next.GetLeftPart(UriPartial.Authority), BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            throw new MarketplaceException(
                answer.Status, "UnexpectedNextLink", $"The next page link points at another host ({next.Host}); not followed.", answer.RequestId);
        }

        return next;
    }

    private OperationAccepted ReadAccepted(Answer answer, Guid subscriptionId)
    {
        var location = FirstHeader(answer.Headers, OperationLocationHeader) is { Length: > 0 } text
            ? new Uri(BaseUri, text.Trim())
            : null;

        // The id is taken from the Operation-Location path (…/operations/{opId}); an Operation-Id header is not
        // documented and used only when the location gives none (contract §3).
        var operationId = OperationIdFrom(location)
            ?? (Guid.TryParse(FirstHeader(answer.Headers, OperationIdHeader), out var fromHeader) ? fromHeader : (Guid?)null);

        if (operationId is not { } id)
        {
            throw new MarketplaceException(
                answer.Status, "InvalidResponse", "The marketplace accepted the change but named no operation to follow.", answer.RequestId);
        }

        return new OperationAccepted(id, location ?? ApiUri($"saas/subscriptions/{subscriptionId}/operations/{id}"));
    }

    private static Guid? OperationIdFrom(Uri? location)
    {
        if (location is null)
        {
            return null;
        }

        var segments = location.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.FindLastIndex(segments, s => string.Equals(s, "operations", StringComparison.OrdinalIgnoreCase));
        return index >= 0 && index + 1 < segments.Length && Guid.TryParse(Uri.UnescapeDataString(segments[index + 1]), out var id)
            ? id
            : null;
    }

    /// <summary>Outstanding operations come as <c>{"operations":[…]}</c>, as a bare array (Microsoft's sample emulator) or as nothing.</summary>
    private static IReadOnlyList<MarketplaceOperation> ReadOperationList(Answer answer)
    {
        if (string.IsNullOrWhiteSpace(answer.Body))
        {
            return [];
        }

        try
        {
            var trimmed = answer.Body.TrimStart();
            return trimmed.StartsWith('[')
                ? JsonSerializer.Deserialize<List<MarketplaceOperation>>(trimmed, MarketplaceJson.Options) ?? []
                : JsonSerializer.Deserialize<OperationList>(trimmed, MarketplaceJson.Options)?.Operations ?? [];
        }
        catch (JsonException ex)
        {
            throw InvalidResponse(answer, ex);
        }
    }

    private static T ReadRequired<T>(Answer answer) where T : class =>
        ReadOptional<T>(answer) ?? throw InvalidResponse(answer, null);

    private static T? ReadOptional<T>(Answer answer) where T : class
    {
        if (string.IsNullOrWhiteSpace(answer.Body))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(answer.Body, MarketplaceJson.Options);
        }
        catch (JsonException ex)
        {
            throw InvalidResponse(answer, ex);
        }
    }

    private static MarketplaceException InvalidResponse(Answer answer, Exception? inner) =>
        new(answer.Status, "InvalidResponse", $"The marketplace answered {(int)answer.Status} with a body that could not be read.",
            answer.RequestId, answer.Body, inner);

    private static string? FirstHeader(HttpHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Marketplace {Method} {Path} answered {StatusCode} in {ElapsedMs:F0} ms (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCall(string method, string path, int statusCode, double elapsedMs, string requestId, Guid correlationId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Marketplace {Method} {Path} refused with {StatusCode} in {ElapsedMs:F0} ms (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCallRefused(string method, string path, int statusCode, double elapsedMs, string requestId, Guid correlationId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Marketplace {Method} {Path} got no answer after {ElapsedMs:F0} ms: {Failure} (request {RequestId}, correlation {CorrelationId})")]
    private partial void LogCallFailed(string method, string path, double elapsedMs, string requestId, Guid correlationId, string failure);

    private sealed record Answer(HttpStatusCode Status, string Body, HttpResponseHeaders Headers, string RequestId);

    private sealed record PlanChange([property: JsonPropertyName("planId")] string PlanId);

    private sealed record QuantityChange([property: JsonPropertyName("quantity")] int Quantity);

    /// <summary>A request body serialized once up front, so that a retried attempt sends the very same bytes.</summary>
    private sealed class JsonBody
    {
        private readonly byte[]? _utf8;

        private JsonBody(byte[]? utf8) => _utf8 = utf8;

        /// <summary>No content at all (GET, DELETE).</summary>
        public static JsonBody None { get; } = new(null);

        /// <summary>A POST without a body still says it speaks JSON (contract §1 lists content-type on every call).</summary>
        public static JsonBody Empty { get; } = new([]);

        public static JsonBody Of<T>(T value) => new(JsonSerializer.SerializeToUtf8Bytes(value, MarketplaceJson.Options));

        public HttpContent? ToContent()
        {
            if (_utf8 is null)
            {
                return null;
            }

            var content = new ByteArrayContent(_utf8);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            return content;
        }
    }
}
