using Marketplace.Models;

namespace Marketplace;

/// <summary>
/// Every call of the SaaS Fulfillment API v2 and its operations API (docs/marketplace.md#subscription-calls and docs/marketplace.md#operations-api).
/// Each call takes the caller's correlation id so the calls of one flow can be tied together in logs.
/// Failures raise <see cref="MarketplaceException"/>.
/// </summary>
public interface IFulfillmentClient
{
    Task<ResolvedPurchase> ResolveAsync(string marketplaceToken, Guid correlationId, CancellationToken ct = default);
    Task ActivateAsync(Guid subscriptionId, ActivationRequest request, Guid correlationId, CancellationToken ct = default);

    /// <summary>Every subscription of the publisher, following each @nextLink until the last page.</summary>
    IAsyncEnumerable<MarketplaceSubscription> ListSubscriptionsAsync(Guid correlationId, CancellationToken ct = default);

    Task<MarketplaceSubscription> GetSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default);
    Task<IReadOnlyList<Plan>> ListAvailablePlansAsync(Guid subscriptionId, Guid correlationId, string? planId = null, CancellationToken ct = default);
    Task<OperationAccepted> ChangePlanAsync(Guid subscriptionId, string planId, Guid correlationId, CancellationToken ct = default);
    Task<OperationAccepted> ChangeQuantityAsync(Guid subscriptionId, int quantity, Guid correlationId, CancellationToken ct = default);
    Task<OperationAccepted> DeleteSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default);

    Task<IReadOnlyList<MarketplaceOperation>> ListOutstandingOperationsAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default);
    Task<MarketplaceOperation> GetOperationAsync(Guid subscriptionId, Guid operationId, Guid correlationId, CancellationToken ct = default);
    Task UpdateOperationStatusAsync(Guid subscriptionId, Guid operationId, OperationStatusUpdate update, Guid correlationId, CancellationToken ct = default);
}
