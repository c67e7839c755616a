using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

public sealed class PointInTimeQueryTests
{
    private sealed record LiveState
    {
        public Guid Id { get; init; }
        public string Status { get; init; } = "";
        public string PlanId { get; init; } = "";
        public int? Quantity { get; init; }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(2026)]
    public async Task Replaying_random_histories_rebuilds_the_state_they_produced_at_every_instant(int seed)
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var query = new PointInTimeQuery(db.Database, db.Time);
        var random = new Random(seed);
        var plans = new (string Plan, bool PerSeat)[] { ("starter", false), ("team", true), ("business", true), ("enterprise", false) };
        var subscriptions = new List<Guid>();
        var snapshots = new List<(DateTimeOffset At, List<LiveState> State)>();

        var snapshotJustTaken = false;
        for (var step = 0; step < 400; step++)
        {
            // Some steps share an instant with the one before, so ties inside one instant are exercised too. A snapshot
            // stands for everything at its instant, so the step after it always moves time on.
            if (snapshotJustTaken || random.Next(4) != 0)
            {
                db.Time.Advance(TimeSpan.FromSeconds(random.Next(1, 4 * 3600)));
            }

            if (subscriptions.Count == 0 || random.Next(8) == 0)
            {
                var (plan, perSeat) = plans[random.Next(plans.Length)];
                subscriptions.Add((await data.ResolveAsync(planId: plan, quantity: perSeat ? random.Next(1, 50) : null)).Id);
            }
            else
            {
                await ApplyRandomChangeAsync(data, subscriptions[random.Next(subscriptions.Count)], random, plans);
            }

            if (step % 40 == 39)
            {
                snapshots.Add((db.Time.GetUtcNow(), await LiveAsync(db)));
            }

            snapshotJustTaken = step % 40 == 39;
        }

        foreach (var (at, live) in snapshots)
        {
            var rebuilt = await RebuildAllAsync(query, new PointInTimeRequest(at));
            Assert.Equal(live, rebuilt);
        }

        Assert.True((await query.CheckAgainstLiveAsync()).Agrees);
    }

    [Fact]
    public async Task A_subscription_resolved_after_the_chosen_instant_is_not_in_the_past_state()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var early = await data.ResolveAsync();
        var before = db.Time.GetUtcNow();
        db.Time.Advance(TimeSpan.FromDays(1));
        await data.ResolveAsync();

        var rows = (await new PointInTimeQuery(db.Database, db.Time).PageAsync(new PointInTimeRequest(before), null, 50)).Rows;

        Assert.Equal(early.Id, Assert.Single(rows).SubscriptionId);
    }

    [Fact]
    public async Task Events_that_carry_no_state_do_not_blank_the_rebuilt_state()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync(planId: "team", quantity: 3);
        db.Time.Advance(TimeSpan.FromMinutes(5));
        await using (var connection = await db.Database.OpenAsync())
        {
            await data.Store.AppendEventAsync(new SubscriptionEvent
            {
                SubscriptionId = s.Id, OfferId = s.OfferId, OccurredAt = db.Time.GetUtcNow(), Kind = EventKinds.ChangeRefused,
                Source = EventSources.Operator, Detail = "seats out of bounds",
            }, connection, null);
        }

        var row = Assert.Single((await new PointInTimeQuery(db.Database, db.Time).PageAsync(new PointInTimeRequest(db.Time.GetUtcNow()), null, 10)).Rows);

        Assert.Equal(("PendingFulfillmentStart", "team", (int?)3), (row.Status, row.PlanId, row.Quantity));
    }

    [Fact]
    public async Task A_change_that_bypassed_the_history_is_reported_as_a_disagreement_with_the_live_table()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var honest = await data.ResolveAsync();
        var tampered = await data.ResolveAsync();
        await using (var connection = await db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE subscriptions SET quantity = 99 WHERE id = @id", new { id = tampered.Id });
        }

        var report = await new PointInTimeQuery(db.Database, db.Time).CheckAgainstLiveAsync();

        Assert.False(report.Agrees);
        var disagreement = Assert.Single(report.Disagreements);
        Assert.Equal((tampered.Id, (int?)99, (int?)5), (disagreement.SubscriptionId, disagreement.LiveQuantity, disagreement.RebuiltQuantity));
        Assert.Equal(2, report.SubscriptionsChecked);
        Assert.NotEqual(honest.Id, disagreement.SubscriptionId);
    }

    [Fact]
    public async Task A_subscription_without_any_history_is_reported_as_having_none()
    {
        await using var db = await TestDatabase.CreateAsync();
        var store = new SubscriptionStore(db.Database, db.Time);
        var orphan = Samples.Subscription();
        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            await store.RecordFromMarketplaceAsync(orphan, connection, tx);
            await tx.CommitAsync();
        }

        var report = await new PointInTimeQuery(db.Database, db.Time).CheckAgainstLiveAsync();

        Assert.True(Assert.Single(report.Disagreements).HasNoHistory);
    }

    [Fact]
    public async Task Pages_by_subscription_id_cover_every_subscription_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var ids = new List<Guid>();
        for (var i = 0; i < 23; i++)
        {
            ids.Add((await data.ResolveAsync()).Id);
        }

        var seen = await RebuildAllAsync(new PointInTimeQuery(db.Database, db.Time), new PointInTimeRequest(db.Time.GetUtcNow()), pageSize: 5);

        Assert.Equal(ids.Order(), seen.Select(s => s.Id));
    }

    [Fact]
    public async Task Filters_narrow_the_state_to_a_status_plan_offer_and_customer()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var bob = await data.ResolveAsync(email: "Bob@Fabrikam.example", offerId: "backup-saas", planId: "pro");
        var alice = await data.ResolveAsync(planId: "team");
        await data.ChangeAsync(alice.Id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        var query = new PointInTimeQuery(db.Database, db.Time);
        var now = db.Time.GetUtcNow();

        async Task<Guid[]> Ids(PointInTimeRequest r) => (await query.PageAsync(r, null, 50)).Rows.Select(x => x.SubscriptionId).ToArray();

        Assert.Equal(new[] { alice.Id }, await Ids(new PointInTimeRequest(now) { Status = "Subscribed" }));
        Assert.Equal(new[] { bob.Id }, await Ids(new PointInTimeRequest(now) { PlanId = "pro" }));
        Assert.Equal(new[] { bob.Id }, await Ids(new PointInTimeRequest(now) { OfferId = "backup-saas" }));
        Assert.Equal(new[] { bob.Id }, await Ids(new PointInTimeRequest(now) { Customer = "bob@fabrikam.EXAMPLE" }));
    }

    private static async Task ApplyRandomChangeAsync(FinanceData data, Guid id, Random random, (string Plan, bool PerSeat)[] plans)
    {
        var current = (await data.Store.FindAsync(id))!;
        switch (random.Next(6))
        {
            case 0:
                await data.ChangeAsync(id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
                break;
            case 1:
                var (plan, perSeat) = plans[random.Next(plans.Length)];
                await data.ChangeAsync(id, EventKinds.PlanChanged, EventSources.Marketplace, null, plan: plan,
                    quantity: perSeat ? current.Quantity ?? random.Next(1, 20) : null);
                break;
            case 2:
                await data.ChangeAsync(id, EventKinds.QuantityChanged, EventSources.Customer, "alice@contoso.example", quantity: random.Next(1, 200));
                break;
            case 3:
                await data.ChangeAsync(id, EventKinds.Suspended, EventSources.Marketplace, null, status: SubscriptionStatus.Suspended);
                break;
            case 4:
                await data.ChangeAsync(id, EventKinds.Reinstated, EventSources.Marketplace, null, status: SubscriptionStatus.Subscribed);
                break;
            default:
                await data.ChangeAsync(id, EventKinds.Unsubscribed, EventSources.Reconciliation, "reconciler", status: SubscriptionStatus.Unsubscribed);
                break;
        }
    }

    private static async Task<List<LiveState>> LiveAsync(TestDatabase db)
    {
        await using var connection = await db.Database.OpenAsync();
        return (await connection.QueryAsync<LiveState>("SELECT id, status, plan_id, quantity FROM subscriptions ORDER BY id")).AsList();
    }

    private static async Task<List<LiveState>> RebuildAllAsync(PointInTimeQuery query, PointInTimeRequest request, int pageSize = 7)
    {
        var all = new List<LiveState>();
        Guid? after = null;
        do
        {
            var page = await query.PageAsync(request, after, pageSize);
            all.AddRange(page.Rows.Select(r => new LiveState { Id = r.SubscriptionId, Status = r.Status, PlanId = r.PlanId, Quantity = r.Quantity }));
            after = page.Next;
        }
        while (after is not null);

        return all;
    }
}
