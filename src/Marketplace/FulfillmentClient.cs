using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Marketplace.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Marketplace;

/// <summary>
/// The SaaS Fulfillment API v2 over HTTP (docs/marketplace.md#subscription-calls and
/// docs/marketplace.md#operations-api): strict in what it sends, lenient in what it accepts.
/// A typed HttpClient registered by <c>AddMarketplaceClient</c>; retries are decided by the resilience pipeline from
/// the <see cref="RetrySafety"/> each call sets here.
/// </summary>
public sealed class FulfillmentClient(
    HttpClient http,
    IMarketplaceTokenProvider tokens,
    IOptions<MarketplaceClientOptions> options,
    TimeProvider time,
    ILogger<FulfillmentClient> logger) : IFulfillmentClient
{
    private const string MarketplaceTokenHeader = "x-ms-marketplace-token";
    private const string OperationLocationHeader = "Operation-Location";
    private const string OperationIdHeader = "Operation-Id";

    private readonly MarketplaceClientOptions _options = options.Value;
    private readonly MarketplaceRequestSender _sender = new(http, tokens, time, logger, "Marketplace");
    private Uri BaseUri => MarketplaceClientOptions.WithTrailingSlash(_options.BaseUri);

    public async Task<ResolvedPurchase> ResolveAsync(string marketplaceToken, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(marketplaceToken);

        // Resolve only reads: repeating it after a failure returns the same purchase.
        var answer = await _sender.SendAsync(
            HttpMethod.Post, ApiUri("saas/subscriptions/resolve"), JsonBody.Empty, RetrySafety.Idempotent, correlationId, ct,
            request => request.Headers.TryAddWithoutValidation(MarketplaceTokenHeader, marketplaceToken)).ConfigureAwait(false);
        return ReadRequired<ResolvedPurchase>(answer);
    }

    public async Task ActivateAsync(Guid subscriptionId, ActivationRequest request, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        // Activating an activated subscription activates it once: safe to repeat.
        await _sender.SendAsync(
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
            var answer = await _sender.SendAsync(HttpMethod.Get, page, JsonBody.None, RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);

            // "An empty body means none" (docs/marketplace.md#list-subscriptions).
            var current = answer.ReadOptional<SubscriptionPage>() ?? new SubscriptionPage();
            foreach (var subscription in current.Subscriptions)
            {
                yield return subscription;
            }

            page = NextPage(current.NextLink, answer);
        }
    }

    public async Task<MarketplaceSubscription> GetSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default)
    {
        var answer = await _sender.SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}"), JsonBody.None, RetrySafety.Idempotent, correlationId, ct)
            .ConfigureAwait(false);
        return ReadRequired<MarketplaceSubscription>(answer);
    }

    public async Task<IReadOnlyList<Plan>> ListAvailablePlansAsync(
        Guid subscriptionId, Guid correlationId, string? planId = null, CancellationToken ct = default)
    {
        var filter = planId is null ? null : $"&planId={Uri.EscapeDataString(planId)}";
        var answer = await _sender.SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}/listAvailablePlans", filter), JsonBody.None,
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
        return ReadList<Plan, PlanList>(answer, list => list.Plans);
    }

    public Task<OperationAccepted> ChangePlanAsync(Guid subscriptionId, string planId, Guid correlationId, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(planId);

        // One change per PATCH: the docs disagree on plan and quantity together, so we never send both (docs/marketplace.md#where-the-docs-disagree).
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
        var answer = await _sender.SendAsync(
            HttpMethod.Get, ApiUri($"saas/subscriptions/{subscriptionId}/operations"), JsonBody.None,
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
        return ReadList<MarketplaceOperation, OperationList>(answer, list => list.Operations);
    }

    public async Task<MarketplaceOperation> GetOperationAsync(
        Guid subscriptionId, Guid operationId, Guid correlationId, CancellationToken ct = default)
    {
        var answer = await _sender.SendAsync(
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
        await _sender.SendAsync(
            HttpMethod.Patch, ApiUri($"saas/subscriptions/{subscriptionId}/operations/{operationId}"), JsonBody.Of(update),
            RetrySafety.Idempotent, correlationId, ct).ConfigureAwait(false);
    }

    private async Task<OperationAccepted> StartOperationAsync(
        HttpMethod method, Guid subscriptionId, JsonBody body, Guid correlationId, CancellationToken ct)
    {
        // Change plan, change quantity and cancel each start an operation: repeated after a 5xx or a time-out they
        // could start a second one, so only a throttled (refused, unexecuted) attempt is repeated.
        var answer = await _sender.SendAsync(
            method, ApiUri($"saas/subscriptions/{subscriptionId}"), body, RetrySafety.OnlyWhenThrottled, correlationId, ct)
            .ConfigureAwait(false);
        return ReadAccepted(answer, subscriptionId);
    }

    private Uri ApiUri(string path, string? extraQuery = null) =>
        new(BaseUri, $"{path}?api-version={Uri.EscapeDataString(_options.ApiVersion)}{extraQuery}");

    private Uri? NextPage(string? nextLink, MarketplaceAnswer answer)
    {
        if (string.IsNullOrWhiteSpace(nextLink))
        {
            return null;
        }

        // Followed as given (docs/marketplace.md#list-subscriptions), but only on the API's own host: the bearer token must never travel elsewhere.
        var next = new Uri(BaseUri, nextLink.Trim());
        if (!string.Equals(next.GetLeftPart(UriPartial.Authority), BaseUri.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            throw new MarketplaceException(
                answer.Status, "UnexpectedNextLink", $"The next page link points at another host ({next.Host}); not followed.", answer.RequestId);
        }

        return next;
    }

    private OperationAccepted ReadAccepted(MarketplaceAnswer answer, Guid subscriptionId)
    {
        var location = MarketplaceAnswer.FirstHeader(answer.Headers, OperationLocationHeader) is { Length: > 0 } text
            ? new Uri(BaseUri, text.Trim())
            : null;

        // The id is taken from the Operation-Location path (…/operations/{opId}); an Operation-Id header is not
        // documented and used only when the location gives none (docs/marketplace.md#polling-operations).
        var operationId = OperationIdFrom(location)
            ?? (Guid.TryParse(MarketplaceAnswer.FirstHeader(answer.Headers, OperationIdHeader), out var fromHeader) ? fromHeader : (Guid?)null);

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

    /// <summary>
    /// A list comes wrapped (<c>{"plans":[…]}</c>, <c>{"operations":[…]}</c>), as a bare array (Microsoft's sample
    /// emulator answers both lists that way) or as nothing, which means none.
    /// </summary>
    private static IReadOnlyList<TItem> ReadList<TItem, TWrapper>(MarketplaceAnswer answer, Func<TWrapper, IReadOnlyList<TItem>> items)
        where TWrapper : class
    {
        if (string.IsNullOrWhiteSpace(answer.Body))
        {
            return [];
        }

        try
        {
            var trimmed = answer.Body.TrimStart();
            return trimmed.StartsWith('[')
                ? JsonSerializer.Deserialize<List<TItem>>(trimmed, MarketplaceJson.Options) ?? []
                : JsonSerializer.Deserialize<TWrapper>(trimmed, MarketplaceJson.Options) is { } wrapper ? items(wrapper) : [];
        }
        catch (JsonException ex)
        {
            throw answer.InvalidResponse(ex);
        }
    }

    private static T ReadRequired<T>(MarketplaceAnswer answer) where T : class =>
        answer.ReadOptional<T>() ?? throw answer.InvalidResponse(null);

    private sealed record PlanChange([property: JsonPropertyName("planId")] string PlanId);

    private sealed record QuantityChange([property: JsonPropertyName("quantity")] int Quantity);
}
