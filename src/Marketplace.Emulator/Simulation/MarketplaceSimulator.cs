using Marketplace.Emulator.Identity;
using Marketplace.Models;

namespace Marketplace.Emulator;

/// <summary>
/// Microsoft's and the customer's side of the marketplace: purchases, changes made in the marketplace, renewals,
/// suspensions and cancellations, each told to the publisher by a signed webhook delivered in the background with
/// retries (docs/marketplace.md#answering-deliveries). Tests and the portal's demo mode drive it; so do the /emulator control endpoints.
/// </summary>
public sealed class MarketplaceSimulator
{
    private readonly SubscriptionBook _book;
    private readonly WebhookDispatcher _webhooks;
    private readonly EmulatorTokens _tokens;
    private readonly EmulatorOptions _options;
    private readonly UsageLedger _usage;

    internal MarketplaceSimulator(SubscriptionBook book, WebhookDispatcher webhooks, EmulatorTokens tokens, EmulatorOptions options, UsageLedger usage)
    {
        _usage = usage;
        _book = book;
        _webhooks = webhooks;
        _tokens = tokens;
        _options = options;
    }

    /// <summary>A customer buys: the subscription starts PendingFulfillmentStart, and the landing link carries its token, URL-encoded.</summary>
    public Task<SimulatedPurchase> PurchaseAsync(PurchaseRequest request, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var (subscription, token, expiresAt) = _book.CreatePurchase(request);
        return Task.FromResult(new SimulatedPurchase(subscription.Id, token, LandingUrlFor(token), expiresAt));
    }

    public Task<Guid> ChangePlanAsync(Guid subscriptionId, string planId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var (operation, before) = _book.StartCustomerChange(subscriptionId, planId, null);
        return Task.FromResult(Deliver(operation, before));
    }

    public Task<Guid> ChangeQuantityAsync(Guid subscriptionId, int quantity, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var (operation, before) = _book.StartCustomerChange(subscriptionId, null, quantity);
        return Task.FromResult(Deliver(operation, before));
    }

    public Task<Guid> RenewAsync(Guid subscriptionId, CancellationToken ct = default) => Apply(subscriptionId, OperationAction.Renew, ct);

    public Task<Guid> SuspendAsync(Guid subscriptionId, CancellationToken ct = default) => Apply(subscriptionId, OperationAction.Suspend, ct);

    public Task<Guid> UnsubscribeAsync(Guid subscriptionId, CancellationToken ct = default) => Apply(subscriptionId, OperationAction.Unsubscribe, ct);

    public Task<Guid> ReinstateAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var (operation, before) = _book.StartReinstate(subscriptionId);
        return Task.FromResult(Deliver(operation, before));
    }

    /// <summary>The usage events the marketplace accepted for a subscription: what the customer is billed for.</summary>
    public IReadOnlyList<UsageEventResult> AcceptedUsageFor(Guid subscriptionId) => _usage.AcceptedFor(subscriptionId);

    /// <summary>Every usage event received for a subscription, with the status answered (to prove "billed once").</summary>
    public IReadOnlyList<UsageSubmission> UsageSubmissionsFor(Guid subscriptionId) => _usage.SubmissionsFor(subscriptionId);

    public MarketplaceSubscription? Find(Guid subscriptionId) => _book.Find(subscriptionId);

    public MarketplaceOperation? FindOperation(Guid operationId) => _book.FindOperation(operationId);

    /// <summary>Every subscription the marketplace knows, of any publisher.</summary>
    public IReadOnlyList<MarketplaceSubscription> AllSubscriptions() => _book.AllSubscriptions();

    /// <summary>Every operation of a subscription, finished or not, oldest first.</summary>
    public IReadOnlyList<MarketplaceOperation> OperationsOf(Guid subscriptionId) => _book.OperationsOf(subscriptionId);

    /// <summary>Every PATCH of this operation's status received from the publisher, to prove it was sent once.</summary>
    public IReadOnlyList<StatusUpdateReceived> StatusUpdatesFor(Guid operationId) => _book.StatusUpdatesFor(operationId);

    /// <summary>Every delivery attempt of this operation's webhook and what the publisher answered.</summary>
    public IReadOnlyList<WebhookAttempt> DeliveriesFor(Guid operationId) => _book.DeliveriesFor(operationId);

    /// <summary>Makes a landing-page token stale, as if the customer came back after its lifetime.</summary>
    public void ExpireToken(string token) => _book.ExpireToken(token);

    /// <summary>A fresh landing-page token for an existing subscription ("Manage account" in the marketplace).</summary>
    public string IssueToken(Guid subscriptionId) => _book.IssueToken(subscriptionId).Token;

    public Uri? LandingUrlFor(string token) =>
        _options.LandingPageUrl is { } landing
            ? new Uri($"{landing.GetLeftPart(UriPartial.Path)}{(string.IsNullOrEmpty(landing.Query) ? "?" : landing.Query + "&")}token={Uri.EscapeDataString(token)}")
            : null;

    /// <summary>A webhook bearer token as Microsoft's side signs it, optionally spoiled for negative tests.</summary>
    public Task<string> MintWebhookTokenAsync(WebhookTokenOverrides? overrides = null, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(_tokens.CreateWebhookToken(overrides));
    }

    /// <summary>
    /// Sends one self-test delivery (<see cref="Marketplace.Webhooks.WebhookTestDelivery"/>), signed like a real one, to
    /// the webhook URL and returns the publisher's answer. Once, without retries: the caller wants to know now.
    /// It names a subscription and an operation nobody has, so nothing could ever be applied from it.
    /// </summary>
    public Task<WebhookAttempt> SendTestDeliveryAsync(CancellationToken ct = default) =>
        _webhooks.SendOnceAsync(new MarketplaceOperation
        {
            Id = Guid.NewGuid(),
            ActivityId = Guid.NewGuid(),
            SubscriptionId = Guid.NewGuid(),
            PublisherId = _options.PublisherId,
            OfferId = "self-test",
            PlanId = "self-test",
            Action = Marketplace.Webhooks.WebhookTestDelivery.Action,
            TimeStamp = _webhooks.Now,
            Status = OperationStatus.Succeeded,
            OperationRequestSource = "Azure",
        }, ct);

    /// <summary>Waits until every webhook delivery started so far has finished (delivered, refused or given up).</summary>
    public Task WhenDeliveriesIdleAsync(CancellationToken ct = default) => _webhooks.WhenIdleAsync(ct);

    private Task<Guid> Apply(Guid subscriptionId, OperationAction action, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var (operation, after) = _book.ApplyMarketplaceAction(subscriptionId, action);
        return Task.FromResult(Deliver(operation, after));
    }

    private Guid Deliver(MarketplaceOperation operation, MarketplaceSubscription subscription)
    {
        _webhooks.Enqueue(operation with { Subscription = subscription, PurchaseToken = null });
        return operation.Id;
    }
}
