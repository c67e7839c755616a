using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Console;

/// <summary>Rows the console reads, written through the portal's own stores where one exists.</summary>
public static class ConsoleSeed
{
    public static async Task<Guid> SubscriptionAsync(
        TestDatabase db,
        string name = "Contoso analytics",
        SubscriptionStatus status = SubscriptionStatus.Subscribed,
        string offerId = "insights-saas",
        string planId = "team",
        int? quantity = 5,
        bool isTest = false,
        string beneficiaryEmail = "alice@contoso.example",
        string tenant = "11111111-1111-1111-1111-111111111111",
        string? purchaserTenant = null)
    {
        var sample = Samples.Subscription(status: status, offerId: offerId, planId: planId, quantity: quantity, beneficiaryTenant: tenant, purchaserTenant: purchaserTenant) with
        {
            Name = name,
            IsTest = isTest,
            Beneficiary = new Party { EmailId = beneficiaryEmail, TenantId = tenant, ObjectId = Guid.NewGuid().ToString() },
        };
        var store = new SubscriptionStore(db.Database, db.Time);
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        await store.RecordFromMarketplaceAsync(sample, connection, tx);
        await tx.CommitAsync();
        return sample.Id;
    }

    /// <summary>Moves a subscription to a status through the store, so its history has the event the console reads.</summary>
    public static Task ChangeStatusAsync(TestDatabase db, Guid id, SubscriptionStatus status, string kind, bool accessEnabled) =>
        new SubscriptionStore(db.Database, db.Time).ApplyChangeAsync(
            new SubscriptionChange(id, kind, EventSources.Marketplace, null) { Status = status, AccessEnabled = accessEnabled });

    public static async Task PlanAsync(TestDatabase db, string offerId, string planId, bool perSeat, int? min = null, int? max = null, string rawJson = "{}")
    {
        await using var connection = await db.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO plans (offer_id, plan_id, display_name, is_price_per_seat, min_quantity, max_quantity, raw_json, refreshed_at)
            VALUES (@offerId, @planId, @planId, @perSeat, @min, @max, @rawJson, @now)
            """, new { offerId, planId, perSeat, min, max, rawJson, now = db.Time.GetUtcNow() });
    }

    public static async Task<long> DeliveryAsync(
        TestDatabase db, Guid? subscriptionId, string action, string result, string? processingState, string? rejectReason = null, string body = "{}")
    {
        await using var connection = await db.Database.OpenAsync();
        return await connection.ExecuteScalarAsync<long>("""
            INSERT INTO webhook_deliveries (received_at, operation_id, subscription_id, action, body, headers, result, reject_reason, processing_state)
            VALUES (@now, @operationId, @subscriptionId, @action, @body, '{}', @result, @rejectReason, @processingState)
            RETURNING id
            """,
            new
            {
                now = db.Time.GetUtcNow(),
                operationId = Guid.NewGuid().ToString("D"),
                subscriptionId = subscriptionId?.ToString("D"),
                action,
                body,
                result,
                rejectReason,
                processingState,
            });
    }
}
