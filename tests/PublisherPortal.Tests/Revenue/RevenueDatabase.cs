using Dapper;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PublisherPortal.Data;
using PublisherPortal.Revenue;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Revenue;

/// <summary>Writes a <see cref="RevenueFixture"/> into a real database the way the portal does: prices through the plan refresh, recorded prices through the Admin's store.</summary>
internal static class RevenueDatabase
{
    /// <summary>The query as read on the fixture's "now" (the test database's own clock is later and only goes forward).</summary>
    public static RevenueQuery Query(TestDatabase db) => new(db.Database, new FakeTimeProvider(RevenueFixture.Now), Options.Create(new RevenueOptions()));

    public static async Task WriteAsync(TestDatabase db, RevenueFixture f)
    {
        // The catalogue as listed on 1 January, and again on 1 March after Starter's price rose.
        await RefreshAsync(db, RevenueFixture.At(2025, 1, 1), starterPrice: 49m);
        await RefreshAsync(db, RevenueFixture.At(2025, 3, 1), starterPrice: 59m);

        await using (var connection = await db.Database.OpenAsync())
        {
            foreach (var s in f.Subscriptions.Values)
            {
                var first = f.Changes.First(c => c.SubscriptionId == s.Id);
                await connection.ExecuteAsync("""
                    INSERT INTO subscriptions (id, name, publisher_id, offer_id, plan_id, status, term_unit, is_test, is_free_trial, first_seen_at, updated_at)
                    VALUES (@id, @name, 'publisher', @offerId, @planId, 'Subscribed', @termUnit, @isTest, @isFreeTrial, @at, @at)
                    """, new { id = s.Id, name = s.Name, offerId = s.OfferId, planId = first.PlanId, termUnit = s.TermUnit, isTest = s.IsTest, isFreeTrial = s.IsFreeTrial, at = first.At });
            }

            foreach (var c in f.Changes)
            {
                await connection.ExecuteAsync("""
                    INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, to_status, to_plan, to_quantity, source)
                    VALUES (@subscriptionId, @offerId, @at, @kind, @status, @plan, @quantity, 'marketplace')
                    """, new { subscriptionId = c.SubscriptionId, offerId = f.Subscriptions[c.SubscriptionId].OfferId, at = c.At, kind = c.Kind, status = c.Status, plan = c.PlanId, quantity = c.Quantity });
            }

            // A milestone repeats the state it was written in; it must move nothing.
            await connection.ExecuteAsync("""
                INSERT INTO subscription_events (subscription_id, offer_id, occurred_at, kind, from_status, to_status, from_plan, to_plan, from_quantity, to_quantity, source)
                VALUES (@id, 'insights-saas', @at, 'AwaitingApproval', 'Subscribed', 'Subscribed', 'team', 'team', 8, 8, 'system')
                """, new { id = f.A, at = RevenueFixture.At(2025, 2, 20) });
        }

        var recorded = new RecordedPriceStore(db.Database, new AuditLog(db.Database, db.Time), db.Time);
        foreach (var r in f.Recorded)
        {
            var result = await recorded.RecordAsync(new RecordPriceRequest(r.SubscriptionId, r.Currency, r.TermUnit, r.Price, r.IsPerSeat, r.ValidFrom, "fixture"), "ada@publisher.example");
            Assert.True(result.Recorded, result.Problem);
        }
    }

    public static async Task RefreshAsync(TestDatabase db, DateTimeOffset at, decimal starterPrice)
    {
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        var store = new PlanStore(new FakeTimeProvider(at));
        await store.UpsertAsync("insights-saas",
        [
            Plan("team", perSeat: true, ("USD", "P1M", 12m), ("USD", "P1Y", 120m), ("USD", "P2Y", 230m), ("EUR", "P1M", 11m)),
            Plan("business", perSeat: true, ("USD", "P1M", 25m)) with
            {
                PlanComponents = new PlanComponents
                {
                    RecurrentBillingTerms = [new RecurrentBillingTerm { Currency = "USD", Price = 25m, TermUnit = "P1M",
                        MeteredQuantityIncluded = [new MeteredQuantityIncluded { DimensionId = "reports-generated", Units = "100" }] }],
                    MeteringDimensions = [new MeteringDimension { Id = "reports-generated", Currency = "USD", PricePerUnit = 0.05m }],
                },
            },
            Plan("starter", perSeat: false, ("USD", "P1M", starterPrice)),
        ], connection, tx, default);
        await store.UpsertAsync("backup-saas",
            [Plan("basic", perSeat: false, ("GBP", "P1M", 15m)), Plan("pro", perSeat: true, ("GBP", "P1M", 7m))], connection, tx, default);
        await tx.CommitAsync();
    }

    private static Plan Plan(string id, bool perSeat, params (string Currency, string Term, decimal Price)[] terms) => new()
    {
        PlanId = id,
        DisplayName = id,
        IsPricePerSeat = perSeat,
        PlanComponents = new PlanComponents
        {
            RecurrentBillingTerms = [.. terms.Select(t => new RecurrentBillingTerm { Currency = t.Currency, TermUnit = t.Term, Price = t.Price })],
        },
    };
}
