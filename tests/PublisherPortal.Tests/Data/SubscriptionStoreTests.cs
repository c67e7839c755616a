using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Data;

public sealed class SubscriptionStoreTests
{
    [Fact]
    public async Task A_new_subscription_is_stored_with_every_marketplace_field()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new SubscriptionStore(db.Database, db.Time);
        var sample = Samples.Subscription(purchaserTenant: "22222222-2222-2222-2222-222222222222") with { SandboxType = "Csp", IsTest = true };

        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            Assert.True(await store.RecordFromMarketplaceAsync(sample, connection, tx));
            Assert.False(await store.RecordFromMarketplaceAsync(sample, connection, tx));
            await tx.CommitAsync();
        }

        var stored = await store.FindAsync(sample.Id);
        Assert.NotNull(stored);
        Assert.Equal(sample.PlanId, stored.PlanId);
        Assert.Equal(5, stored.Quantity);
        Assert.Equal(SubscriptionStatus.PendingFulfillmentStart, stored.Status);
        Assert.Equal(sample.Term!.EndDate, stored.TermEnd);
        Assert.True(stored.IsTest);
        Assert.True(stored.IsResellerPurchase);
        Assert.True(stored.Allows("Delete"));
        Assert.Equal(db.Time.GetUtcNow(), stored.FirstSeenAt);
    }

    [Fact]
    public async Task Applying_a_change_updates_the_row_and_writes_one_history_event_with_from_and_to()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new SubscriptionStore(db.Database, db.Time);
        var sample = Samples.Subscription(status: SubscriptionStatus.Subscribed);
        await SeedAsync(db, store, sample);

        var result = await store.ApplyChangeAsync(new SubscriptionChange(sample.Id, EventKinds.PlanChanged, EventSources.Operator, "olivia@publisher.example")
        {
            PlanId = "business",
            Quantity = 10,
        });

        Assert.Equal(ChangeOutcome.Applied, result.Outcome);
        var history = await store.HistoryAsync(sample.Id);
        var e = Assert.Single(history);
        Assert.Equal(("team", "business", 5, 10), (e.FromPlan, e.ToPlan, e.FromQuantity, e.ToQuantity));
        Assert.Equal("olivia@publisher.example", e.Actor);
        var stored = await store.FindAsync(sample.Id);
        Assert.Equal(("business", 10, 2L), (stored!.PlanId, stored.Quantity, stored.Version));
    }

    [Fact]
    public async Task A_change_based_on_an_old_version_is_refused_and_says_what_is_current()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new SubscriptionStore(db.Database, db.Time);
        var sample = Samples.Subscription(status: SubscriptionStatus.Subscribed);
        await SeedAsync(db, store, sample);
        await store.ApplyChangeAsync(new SubscriptionChange(sample.Id, EventKinds.QuantityChanged, EventSources.Operator, "first") { Quantity = 7, ExpectedVersion = 1 });

        var second = await store.ApplyChangeAsync(new SubscriptionChange(sample.Id, EventKinds.QuantityChanged, EventSources.Operator, "second") { Quantity = 9, ExpectedVersion = 1 });

        Assert.Equal(ChangeOutcome.VersionConflict, second.Outcome);
        Assert.Equal(7, second.Subscription!.Quantity);
        Assert.Single(await store.HistoryAsync(sample.Id));
    }

    [Fact]
    public async Task A_customer_sees_subscriptions_of_their_tenant_as_beneficiary_or_purchaser_only()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new SubscriptionStore(db.Database, db.Time);
        var mine = Samples.Subscription(beneficiaryTenant: "aaaaaaaa-0000-0000-0000-000000000001");
        var boughtForOthers = Samples.Subscription(beneficiaryTenant: "bbbbbbbb-0000-0000-0000-000000000002", purchaserTenant: "aaaaaaaa-0000-0000-0000-000000000001");
        var someoneElses = Samples.Subscription(beneficiaryTenant: "cccccccc-0000-0000-0000-000000000003");
        await SeedAsync(db, store, mine, boughtForOthers, someoneElses);

        var visible = await store.ListForCustomerAsync("aaaaaaaa-0000-0000-0000-000000000001", objectId: null);

        Assert.Equal(new[] { mine.Id, boughtForOthers.Id }.Order(), visible.Select(s => s.Id).Order());
    }

    private static async Task SeedAsync(TestDatabase db, SubscriptionStore store, params MarketplaceSubscription[] subscriptions)
    {
        await using var connection = await db.Database.OpenAsync();
        await using var tx = await db.Database.BeginWriteAsync(connection);
        foreach (var s in subscriptions)
        {
            await store.RecordFromMarketplaceAsync(s, connection, tx);
        }

        await tx.CommitAsync();
    }
}
