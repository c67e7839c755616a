using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

/// <summary>Builds history the way the portal does: a subscription row plus its Resolved event, then changes through ApplyChangeAsync.</summary>
internal sealed class FinanceData(TestDatabase db)
{
    public SubscriptionStore Store { get; } = new(db.Database, db.Time);

    public async Task<MarketplaceSubscription> ResolveAsync(
        string name = "Contoso analytics", string offerId = "insights-saas", string planId = "team", int? quantity = 5,
        string email = "alice@contoso.example", string tenant = "11111111-1111-1111-1111-111111111111", string? purchaserEmail = null)
    {
        var s = Samples.Subscription(offerId: offerId, planId: planId, quantity: quantity, beneficiaryTenant: tenant) with
        {
            Name = name,
            Beneficiary = new Party { EmailId = email, TenantId = tenant, ObjectId = Guid.NewGuid().ToString() },
            Purchaser = new Party { EmailId = purchaserEmail ?? email, TenantId = tenant, ObjectId = Guid.NewGuid().ToString() },
        };
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        await Store.RecordFromMarketplaceAsync(s, connection, tx);
        await Store.AppendEventAsync(new SubscriptionEvent
        {
            SubscriptionId = s.Id,
            OfferId = s.OfferId,
            OccurredAt = db.Time.GetUtcNow(),
            Kind = EventKinds.Resolved,
            ToStatus = s.SaasSubscriptionStatus.ToString(),
            ToPlan = s.PlanId,
            ToQuantity = s.Quantity,
            Source = EventSources.Customer,
            Actor = email,
        }, connection, tx);
        await tx.CommitAsync();
        return s;
    }

    public Task<ChangeResult> ChangeAsync(Guid id, string kind, string source = EventSources.Operator, string? actor = "olivia@publisher.example",
        SubscriptionStatus? status = null, string? plan = null, int? quantity = null) =>
        Store.ApplyChangeAsync(new SubscriptionChange(id, kind, source, actor) { Status = status, PlanId = plan, Quantity = quantity });
}
