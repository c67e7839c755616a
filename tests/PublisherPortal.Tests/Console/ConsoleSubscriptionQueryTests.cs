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

    [Theory]
    [InlineData("22222222")]
    [InlineData("22222222-2222-2")]
    [InlineData("22222222-2222-2222-2222-22222222222")]
    [InlineData("  22222222-22  ")]
    public async Task The_first_characters_of_a_tenant_id_find_that_tenants_subscriptions(string typed)
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "Fabrikam analytics", tenant: FabrikamTenant);
        await ConsoleSeed.SubscriptionAsync(_db, name: "Contoso backup", tenant: ContosoTenant);
        await ConsoleSeed.SubscriptionAsync(_db, name: "Near miss", tenant: "22222223-2222-2222-2222-222222222222");

        var rows = await _query.RowsAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = typed }));
        var counts = await _query.CountByStatusAsync(new SubscriptionFilter { Search = typed });

        Assert.Equal("Fabrikam analytics", Assert.Single(rows).Name);
        Assert.Equal([new StatusCount(SubscriptionStatus.Subscribed, 1)], counts);
    }

    [Fact]
    public async Task The_first_characters_of_a_subscription_id_find_it_in_any_letter_case()
    {
        var wanted = await ConsoleSeed.SubscriptionAsync(_db, name: "one");
        await ConsoleSeed.SubscriptionAsync(_db, name: "two");

        var rows = await _query.RowsAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = wanted.ToString("D")[..13].ToUpperInvariant() }));

        Assert.Equal(wanted, Assert.Single(rows).Id);
    }

    [Theory]
    [InlineData("cafe", "Cafe 2000")]                         // hex digits, but shorter than an id's first group
    [InlineData("1234567890ab", "Branch 1234567890AB")]       // no '-' where a GUID has one
    public async Task Hex_looking_text_that_cannot_start_an_id_is_searched_in_names(string typed, string name)
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: name);
        await ConsoleSeed.SubscriptionAsync(_db, name: "Other");

        var rows = await _query.RowsAsync(new SubscriptionPageRequest(new SubscriptionFilter { Search = typed }));

        Assert.Equal(name, Assert.Single(rows).Name);
    }

    [Fact]
    public async Task A_tenant_search_pages_newest_first_over_both_tenant_columns_and_lists_each_subscription_once()
    {
        // Fabrikam is beneficiary of some, purchaser (a reseller case) of others, and both of one.
        var names = new[] { "b1", "p1", "both", "b2", "p2", "b3" };
        foreach (var name in names)
        {
            await ConsoleSeed.SubscriptionAsync(_db, name: name,
                tenant: name.StartsWith('p') ? ContosoTenant : FabrikamTenant,
                purchaserTenant: name.StartsWith('b') && name != "both" ? ContosoTenant : FabrikamTenant);
            await ConsoleSeed.SubscriptionAsync(_db, name: "contoso only " + name, tenant: ContosoTenant);
            _db.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var filter = new SubscriptionFilter { Search = FabrikamTenant };
        var first = await _query.RowsAsync(new SubscriptionPageRequest(filter, Take: 4));
        var second = await _query.RowsAsync(new SubscriptionPageRequest(filter, Skip: 4, Take: 4));
        var counted = StatusCount.Matching(await _query.CountByStatusAsync(filter), status: null);

        Assert.Equal(["b3", "p2", "b2", "both"], first.Select(r => r.Name));
        Assert.Equal(["p1", "b1"], second.Select(r => r.Name));
        Assert.Equal((6, false), counted);
    }

    [Fact]
    public async Task A_tenant_search_keeps_the_other_filters_and_the_chosen_order()
    {
        await ConsoleSeed.SubscriptionAsync(_db, name: "Zeta", tenant: FabrikamTenant, planId: "team");
        await ConsoleSeed.SubscriptionAsync(_db, name: "Alpha", tenant: FabrikamTenant, planId: "team");
        await ConsoleSeed.SubscriptionAsync(_db, name: "Beta", tenant: FabrikamTenant, planId: "business");
        await ConsoleSeed.SubscriptionAsync(_db, name: "Gamma", tenant: FabrikamTenant, planId: "team", status: SubscriptionStatus.Suspended);

        var rows = await _query.RowsAsync(new SubscriptionPageRequest(
            new SubscriptionFilter { Search = FabrikamTenant, PlanId = "team", Status = SubscriptionStatus.Subscribed },
            SubscriptionSortColumn.Name, Descending: false));

        Assert.Equal(["Alpha", "Zeta"], rows.Select(r => r.Name));
    }

    [Fact]
    public void The_grid_total_is_every_chip_without_a_status_filter_and_that_statuss_chip_with_one()
    {
        IReadOnlyList<StatusCount> counts =
            [new(SubscriptionStatus.Subscribed, ConsoleSubscriptionQuery.CountCap, MoreThanCounted: true), new(SubscriptionStatus.Suspended, 7)];

        Assert.Equal((ConsoleSubscriptionQuery.CountCap + 7, true), StatusCount.Matching(counts, null));
        Assert.Equal((7, false), StatusCount.Matching(counts, SubscriptionStatus.Suspended));
        Assert.Equal((0, false), StatusCount.Matching(counts, SubscriptionStatus.Unsubscribed));
    }

    [Fact]
    public async Task Offers_and_plans_in_use_are_each_listed_once_however_many_subscriptions_use_them()
    {
        foreach (var (offer, plan) in new[] { ("insights-saas", "team"), ("backup-saas", "pro"), ("insights-saas", "business"), ("backup-saas", "basic") })
        {
            await ConsoleSeed.SubscriptionAsync(_db, offerId: offer, planId: plan);
            await ConsoleSeed.SubscriptionAsync(_db, offerId: offer, planId: plan);
        }

        var offersAndPlans = await _query.OffersAndPlansAsync();

        Assert.Equal(
            [new OfferPlan("backup-saas", "basic"), new OfferPlan("backup-saas", "pro"), new OfferPlan("insights-saas", "business"), new OfferPlan("insights-saas", "team")],
            offersAndPlans);
    }

    [Theory]
    [InlineData(null, "team")]                                     // counted per status through (status, plan_id, …)
    [InlineData("22222222-2222-2222-2222-222222222222", null)]     // counted in one pass over the tenant's matches
    public async Task Counts_by_status_under_a_plan_or_a_search_count_only_the_matches(string? search, string? planId)
    {
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, planId: "team", tenant: FabrikamTenant);
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Suspended, planId: "team", tenant: FabrikamTenant);
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, planId: "team", tenant: FabrikamTenant);
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Subscribed, planId: "business", tenant: ContosoTenant);
        await ConsoleSeed.SubscriptionAsync(_db, status: SubscriptionStatus.Unsubscribed, planId: "business", tenant: ContosoTenant);

        var counts = await _query.CountByStatusAsync(new SubscriptionFilter { Search = search, PlanId = planId });

        Assert.Equal([new StatusCount(SubscriptionStatus.Subscribed, 2), new StatusCount(SubscriptionStatus.Suspended, 1)], counts);
    }
}
