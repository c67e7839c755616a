using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

public sealed class FinanceHistoryQueryTests
{
    [Fact]
    public async Task Paging_by_key_visits_every_event_once_newest_first_even_when_events_share_an_instant()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync();
        for (var i = 0; i < 36; i++)
        {
            // Three changes per instant: the id must settle the order inside one instant, or a page boundary drops or repeats rows.
            if (i % 3 == 0)
            {
                db.Time.Advance(TimeSpan.FromMinutes(1));
            }

            await data.ChangeAsync(s.Id, EventKinds.QuantityChanged, quantity: i + 10);
        }

        var query = new FinanceHistoryQuery(db.Database);
        var seen = new List<HistoryRow>();
        HistoryCursor? after = null;
        var pages = 0;
        do
        {
            var page = await query.PageAsync(FinanceFilter.None, after, pageSize: 5);
            seen.AddRange(page.Rows);
            after = page.Next;
            pages++;
        }
        while (after is not null);

        var expected = (await data.Store.HistoryAsync(s.Id)).OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id).Select(e => e.Id);
        Assert.Equal(expected, seen.Select(r => r.Id));
        Assert.Equal(8, pages); // 37 events in pages of 5
    }

    [Fact]
    public async Task The_last_page_says_there_is_no_next_page()
    {
        await using var db = await TestDatabase.CreateAsync();
        await new FinanceData(db).ResolveAsync();

        var page = await new FinanceHistoryQuery(db.Database).PageAsync(FinanceFilter.None, null, pageSize: 1);

        Assert.Single(page.Rows);
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task Each_filter_keeps_only_the_matching_changes()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var alice = await data.ResolveAsync(name: "Alice's insights", planId: "team");
        db.Time.Advance(TimeSpan.FromDays(3));
        var bob = await data.ResolveAsync(name: "Bob's backup", offerId: "backup-saas", planId: "basic", quantity: null,
            email: "bob@fabrikam.example", tenant: "22222222-2222-2222-2222-222222222222", purchaserEmail: "Carla@CSP-Reseller.example");
        db.Time.Advance(TimeSpan.FromDays(3));
        await data.ChangeAsync(alice.Id, EventKinds.PlanChanged, EventSources.Operator, plan: "business");
        await data.ChangeAsync(bob.Id, EventKinds.Suspended, EventSources.Marketplace, null, status: SubscriptionStatus.Suspended);
        var query = new FinanceHistoryQuery(db.Database);
        var day0 = DateOnly.FromDateTime(new DateTime(2026, 11, 1));

        async Task<string[]> Kinds(FinanceFilter f) =>
            (await query.PageAsync(f, null, 100)).Rows.OrderBy(r => r.Id).Select(r => $"{r.SubscriptionName}:{r.Kind}").ToArray();

        Assert.Equal(new[] { "Bob's backup:Resolved", "Bob's backup:Suspended" }, await Kinds(new FinanceFilter { OfferId = "backup-saas" }));
        Assert.Equal(new[] { "Alice's insights:Resolved", "Alice's insights:PlanChanged" }, await Kinds(new FinanceFilter { PlanId = "team" }));
        Assert.Equal(new[] { "Alice's insights:PlanChanged" }, await Kinds(new FinanceFilter { PlanId = "business" }));
        Assert.Equal(new[] { "Bob's backup:Suspended" }, await Kinds(new FinanceFilter { Kind = EventKinds.Suspended }));
        Assert.Equal(new[] { "Alice's insights:PlanChanged" }, await Kinds(new FinanceFilter { Source = EventSources.Operator }));
        Assert.Equal(new[] { "Alice's insights:Resolved", "Alice's insights:PlanChanged" }, await Kinds(new FinanceFilter { SubscriptionId = alice.Id }));
        Assert.Equal(new[] { "Alice's insights:Resolved" }, await Kinds(new FinanceFilter { From = day0, To = day0 }));
        Assert.Equal(new[] { "Bob's backup:Resolved" }, await Kinds(new FinanceFilter { From = day0.AddDays(1), To = day0.AddDays(3) }));
        Assert.Equal(new[] { "Bob's backup:Resolved", "Bob's backup:Suspended" }, await Kinds(new FinanceFilter { Customer = "carla@csp-reseller.example" }));
        Assert.Equal(new[] { "Bob's backup:Resolved", "Bob's backup:Suspended" }, await Kinds(new FinanceFilter { Customer = "22222222-2222-2222-2222-222222222222" }));
        Assert.Equal(new[] { "Alice's insights:Resolved", "Alice's insights:PlanChanged" }, await Kinds(new FinanceFilter { Customer = "ALICE@contoso.example" }));
        Assert.Empty(await Kinds(new FinanceFilter { OfferId = "backup-saas", Source = EventSources.Operator }));
    }

    [Fact]
    public async Task Counting_stops_just_above_the_cap()
    {
        await using var db = await TestDatabase.CreateAsync();
        var data = new FinanceData(db);
        var s = await data.ResolveAsync();
        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            for (var i = 0; i < FinanceHistoryQuery.CountCap + 5; i++)
            {
                await data.Store.AppendEventAsync(new SubscriptionEvent
                {
                    SubscriptionId = s.Id, OfferId = s.OfferId, OccurredAt = db.Time.GetUtcNow(), Kind = EventKinds.Renewed, Source = EventSources.Marketplace,
                }, connection, tx);
            }

            await tx.CommitAsync();
        }

        var query = new FinanceHistoryQuery(db.Database);

        Assert.Equal(FinanceHistoryQuery.CountCap + 1, await query.CountUpToCapAsync(FinanceFilter.None));
        Assert.Equal(1, await query.CountUpToCapAsync(new FinanceFilter { Kind = EventKinds.Resolved }));
    }

    [Fact]
    public void A_filter_survives_the_trip_through_an_address()
    {
        var filter = new FinanceFilter
        {
            From = new DateOnly(2026, 1, 2), To = new DateOnly(2026, 3, 4), OfferId = "insights-saas", PlanId = "team & co",
            Kind = EventKinds.PlanChanged, Source = EventSources.Customer, SubscriptionId = Guid.NewGuid(), Customer = "a+b@contoso.example",
        };

        Assert.Equal(filter, FinanceFilter.FromQueryString(filter.ToQueryString()));
        Assert.Equal("", FinanceFilter.None.ToQueryString());
    }
}
