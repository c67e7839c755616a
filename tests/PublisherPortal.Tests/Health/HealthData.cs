using Dapper;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Health;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Health;

/// <summary>Rows the checks read, written the way the webhook, tracker and landing code write them.</summary>
internal static class HealthData
{
    public static IOptions<HealthOptions> Options(Action<HealthOptions>? configure = null)
    {
        var options = new HealthOptions();
        configure?.Invoke(options);
        return Microsoft.Extensions.Options.Options.Create(options);
    }

    public static async Task<Guid> SubscriptionAsync(
        TestDatabase db, SubscriptionStatus status, string beneficiaryEmail = "alice@contoso.example", string name = "Contoso analytics")
    {
        var subscription = Samples.Subscription(status: status) with
        {
            Name = name,
            Beneficiary = new Party { EmailId = beneficiaryEmail, TenantId = "11111111-1111-1111-1111-111111111111" },
        };
        var store = new SubscriptionStore(db.Database, db.Time);
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        await store.RecordFromMarketplaceAsync(subscription, connection, tx);
        await tx.CommitAsync();
        return subscription.Id;
    }

    public static async Task DeliveryAsync(
        TestDatabase db, string result, string? action = "Renew", string? rejectReason = null, string? processingState = null)
    {
        var now = db.Time.GetUtcNow();
        await using var connection = await db.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO webhook_deliveries (received_at, operation_id, subscription_id, action, body, headers, result,
                                            reject_reason, processing_state, next_attempt_at)
            VALUES (@now, @operationId, @subscriptionId, @action, '{}', '{}', @result, @rejectReason, @processingState, @now)
            """, new { now, operationId = Guid.NewGuid(), subscriptionId = Guid.NewGuid(), action, result, rejectReason, processingState });
    }

    public static async Task AcknowledgementAsync(TestDatabase db, string state)
    {
        var now = db.Time.GetUtcNow();
        await using var connection = await db.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO acknowledgements (subscription_id, operation_id, action, answer, created_at, due_by, state, next_attempt_at)
            VALUES (@subscriptionId, @operationId, 'ChangePlan', 'Success', @now, @dueBy, @state, @now)
            """, new { subscriptionId = Guid.NewGuid(), operationId = Guid.NewGuid(), now, dueBy = now.AddSeconds(10), state });
    }

    public static async Task OperationAsync(TestDatabase db, Guid subscriptionId, string status)
    {
        var now = db.Time.GetUtcNow();
        await using var connection = await db.Database.OpenAsync();
        await connection.ExecuteAsync("""
            INSERT INTO operations (id, subscription_id, action, requested_plan_id, status, source, requested_by, requested_at,
                                    location, correlation_id, next_poll_at)
            VALUES (@id, @subscriptionId, 'ChangePlan', 'business', @status, 'operator', 'olivia@publisher.example', @now,
                    'https://example/op', @correlationId, @now)
            """, new { id = Guid.NewGuid(), subscriptionId, status, now, correlationId = Guid.NewGuid() });
    }

    public static Task ReconciliationRunAsync(TestDatabase db, int corrected = 0, string outcome = "Completed")
    {
        var now = db.Time.GetUtcNow();
        return new ReconciliationRunStore(db.Database).RecordAsync(new ReconciliationRun
        {
            StartedAt = now.AddSeconds(-5), FinishedAt = now, Trigger = "schedule", Checked = 12, Corrected = corrected,
            Outcome = outcome,
        });
    }
}

/// <summary>A token provider whose answer a test decides.</summary>
internal sealed class StubTokenProvider : IMarketplaceTokenProvider
{
    public Func<MarketplaceAccessToken> Answer { get; set; } = () => new MarketplaceAccessToken("secret-token-value", null);

    public Task<string> GetAccessTokenAsync(CancellationToken ct = default) => Task.FromResult(Answer().Value);

    public Task<MarketplaceAccessToken> GetAccessTokenWithExpiryAsync(CancellationToken ct = default) => Task.FromResult(Answer());
}
