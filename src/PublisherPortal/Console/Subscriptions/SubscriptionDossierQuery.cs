using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>Everything the detail page shows about one subscription, read in one go.</summary>
public sealed record SubscriptionDossier(
    SubscriptionRecord Subscription,
    IReadOnlyList<SubscriptionEvent> History,
    IReadOnlyList<OperationRecord> Operations,
    IReadOnlyList<WebhookDeliveryRow> Deliveries,
    IReadOnlyList<AuditEntry> Audit)
{
    public OperationRecord? PendingOperation => Operations.FirstOrDefault(o => o.IsPending);
}

/// <summary>Reads a subscription with its history, operations, webhook deliveries and audit trail.</summary>
public sealed class SubscriptionDossierQuery(
    SubscriptionStore subscriptions,
    OperationStore operations,
    WebhookLogQuery webhooks,
    AuditLog audit)
{
    /// <summary>The detail page shows the latest deliveries; the webhook log filtered by subscription has them all.</summary>
    public const int DeliveriesShown = 50;

    public async Task<SubscriptionDossier?> LoadAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        var subscription = await subscriptions.FindAsync(subscriptionId, ct);
        if (subscription is null)
        {
            return null;
        }

        return new SubscriptionDossier(
            subscription,
            await subscriptions.HistoryAsync(subscriptionId, ct),
            await operations.ListForSubscriptionAsync(subscriptionId, ct),
            await webhooks.ForSubscriptionAsync(subscriptionId, DeliveriesShown, ct),
            await audit.ForSubscriptionAsync(subscriptionId, ct));
    }
}
