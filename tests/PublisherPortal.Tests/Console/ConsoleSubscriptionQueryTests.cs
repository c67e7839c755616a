using Marketplace.Models;
using PublisherPortal.Console;
using PublisherPortal.Data;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Console;

public sealed class ConsoleSubscriptionQueryTests : IAsyncLifetime
{
    private static readonly string ContosoTenant = "11111111-1111-1111-1111-111111111111";
    private static readonly string FabrikamTenant = "22222222-2222-2222-2222-222222222222";

    private TestDatabase _db = default!;
    private ConsoleSubscriptionQuery _query = default!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _query = new ConsoleSubscriptionQuery(_db.Database);
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact]
    public async Task A_page_holds_at_most_take_rows_and_the_total_counts_every_match()
    {
        for (var i = 0; i < 30; i++)
        {
            await ConsoleSeed.SubscriptionAsync(_db, name: $"Sub {i:00}");
        }

        var first = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter(), SubscriptionSortColumn.Name, Descending: false, Skip: 0, Take: 25));
        var second = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter(), SubscriptionSortColumn.Name, Descending: false, Skip: 25, Take: 25));

        Assert.Equal(30, first.TotalCount);
        Assert.Equal(25, first.Rows.Count);
        Assert.Equal(["Sub 25", "Sub 26", "Sub 27", "Sub 28", "Sub 29"], second.Rows.Select(r => r.Name));
    }

    [Fact]
    public async Task Newest_first_is_the_default_order()
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "Older");
        _db.Time.Advance(TimeSpan.FromMinutes(1));
        await ConsoleSeed.SubscriptionAsync(_db, name: "Newer");

        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter()));

        Assert.Equal(["Newer", "Older"], page.Rows.Select(r => r.Name));
    }

    [Fact]
    public async Task Status_offer_plan_and_test_filters_narrow_the_page_and_the_total()
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "wanted", status: SubscriptionStatus.Subscribed, offerId: "backup-saas", planId: "pro", isTest: true);
        await ConsoleSeed.SubscriptionAsync(_db, name: "live one", status: SubscriptionStatus.Subscribed, offerId: "backup-saas", planId: "pro", isTest: false);
        await ConsoleSeed.SubscriptionAsync(_db, name: "other plan", status: SubscriptionStatus.Subscribed, offerId: "backup-saas", planId: "basic", isTest: true);
        await ConsoleSeed.SubscriptionAsync(_db, name: "suspended", status: SubscriptionStatus.Suspended, offerId: "backup-saas", planId: "pro", isTest: true);

        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter
        {
            Status = SubscriptionStatus.Subscribed,
            OfferId = "backup-saas",
            PlanId = "pro",
            IsTest = true,
        }));

        Assert.Equal(1, page.TotalCount);
        Assert.Equal("wanted", Assert.Single(page.Rows).Name);
    }

    [Theory]
    [InlineData("analytics")]
    [InlineData("ANALYTICS")]
    [InlineData("bob@fabrikam.example")]
    [InlineData("22222222-2222-2222-2222-222222222222")]
    public async Task Search_finds_by_name_fragment_email_or_tenant(string search)
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "Fabrikam analytics", beneficiaryEmail: "bob@fabrikam.example", tenant: FabrikamTenant);
        await ConsoleSeed.SubscriptionAsync(_db, name: "Contoso backup", beneficiaryEmail: "alice@contoso.example", tenant: ContosoTenant);

        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = search }));

        Assert.Equal("Fabrikam analytics", Assert.Single(page.Rows).Name);
    }

    [Fact]
    public async Task Search_by_subscription_id_finds_exactly_that_one()
    {
        var wanted = await ConsoleSeed.SubscriptionAsync(_db, name: "one");
        await ConsoleSeed.SubscriptionAsync(_db, name: "two");

        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = wanted.ToString("D").ToUpperInvariant() }));

        Assert.Equal(wanted, Assert.Single(page.Rows).Id);
    }

    [Fact]
    public async Task Like_wildcards_in_a_search_are_taken_literally()
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "100% uptime");
        await ConsoleSeed.SubscriptionAsync(_db, name: "1000 users");

        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = "100%" }));

        Assert.Equal("100% uptime", Assert.Single(page.Rows).Name);
    }

    [Fact]
    public async Task Counts_by_status_follow_the_other_filters_but_not_the_status_filter()
    {
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, offerId: "insights-saas");
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, offerId: "insights-saas");
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Suspended, offerId: "insights-saas");
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, offerId: "backup-saas", planId: "pro");

        var counts = await _query.CountByStatusAsync(new SubscriptionFilter { OfferId = "insights-saas", Status = SubscriptionStatus.Suspended });

        Assert.Equal(
            [new StatusCount(SubscriptionStatus.Subscribed, 2), new StatusCount(SubscriptionStatus.Suspended, 1)],
            counts);
    }

    [Fact]
    public async Task An_empty_database_gives_empty_answers_not_errors()
    {
        var page = await _query.PageAsync(new SubscriptionPageRequest(new SubscriptionFilter()));

        Assert.Equal(0, page.TotalCount);
        Assert.Empty(await _query.CountByStatusAsync(new SubscriptionFilter()));
        Assert.Empty(await _query.OffersAndPlansAsync());
    }

    [Fact]
    public async Task Offers_and_plans_list_those_in_use_and_those_in_the_catalogue_once_each()
    {
        await ConsoleSeed.SubscriptionAsync(_db, offerId: "insights-saas", planId: "team");
        await ConsoleSeed.SubscriptionAsync(_db, offerId: "insights-saas", planId: "team");
        await ConsoleSeed.PlanAsync(_db, "insights-saas", "business", perSeat: true, min: 5, max: 500);

        var offersAndPlans = await _query.OffersAndPlansAsync();

        Assert.Equal([new OfferPlan("insights-saas", "business"), new OfferPlan("insights-saas", "team")], offersAndPlans);
    }
}
