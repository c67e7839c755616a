using System.Net;
using System.Runtime.CompilerServices;
using Marketplace;
using Marketplace.Models;

namespace PublisherPortal.Tests.Webhooks;

/// <summary>
/// A marketplace whose answers a test scripts, for the rules that need an answer the emulator does not give on demand
/// (a 409 to a PATCH, an operation that never ends). Calls the test did not script fail loudly.
/// </summary>
internal sealed class ScriptedMarketplace : IFulfillmentClient
{
    public Func<Guid, Guid, OperationStatusUpdate, Task>? OnUpdateStatus { get; set; }
    public Func<Guid, Guid, Task<MarketplaceOperation>>? OnGetOperation { get; set; }
    public Func<Guid, Task<OperationAccepted>>? OnDelete { get; set; }
    public List<(Guid OperationId, string Status)> StatusUpdates { get; } = [];

    public static MarketplaceException Answer(HttpStatusCode status, string message = "scripted") =>
        new(status, status.ToString(), message, Guid.NewGuid().ToString());

    public async Task UpdateOperationStatusAsync(Guid subscriptionId, Guid operationId, OperationStatusUpdate update, Guid correlationId, CancellationToken ct = default)
    {
        StatusUpdates.Add((operationId, update.Status));
        await (OnUpdateStatus ?? throw Unscripted())(subscriptionId, operationId, update);
    }

    public Task<MarketplaceOperation> GetOperationAsync(Guid subscriptionId, Guid operationId, Guid correlationId, CancellationToken ct = default) =>
        (OnGetOperation ?? throw Unscripted())(subscriptionId, operationId);

    public Task<OperationAccepted> DeleteSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) =>
        (OnDelete ?? throw Unscripted())(subscriptionId);

    public Task<ResolvedPurchase> ResolveAsync(string marketplaceToken, Guid correlationId, CancellationToken ct = default) => throw Unscripted();
    public Task ActivateAsync(Guid subscriptionId, ActivationRequest request, Guid correlationId, CancellationToken ct = default) => throw Unscripted();
    public Task<MarketplaceSubscription> GetSubscriptionAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) => throw Unscripted();
    public Task<IReadOnlyList<Plan>> ListAvailablePlansAsync(Guid subscriptionId, Guid correlationId, string? planId = null, CancellationToken ct = default) => throw Unscripted();
    public Task<OperationAccepted> ChangePlanAsync(Guid subscriptionId, string planId, Guid correlationId, CancellationToken ct = default) => throw Unscripted();
    public Task<OperationAccepted> ChangeQuantityAsync(Guid subscriptionId, int quantity, Guid correlationId, CancellationToken ct = default) => throw Unscripted();
    public Task<IReadOnlyList<MarketplaceOperation>> ListOutstandingOperationsAsync(Guid subscriptionId, Guid correlationId, CancellationToken ct = default) => throw Unscripted();

    public async IAsyncEnumerable<MarketplaceSubscription> ListSubscriptionsAsync(Guid correlationId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.Yield();
        throw Unscripted();
#pragma warning disable CS0162 // an async iterator needs a yield somewhere
        yield break;
#pragma warning restore CS0162
    }

    private static InvalidOperationException Unscripted([CallerMemberName] string call = "") => new($"{call} was not scripted by this test.");
}
