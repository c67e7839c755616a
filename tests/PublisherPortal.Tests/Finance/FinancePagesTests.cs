using Bunit;
using Dapper;
using Marketplace.Models;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PublisherPortal.Data;
using PublisherPortal.Finance;
using PublisherPortal.Identity;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Finance;

/// <summary>The finance pages rendered with bUnit over a real SQLite database behind the real queries.</summary>
public sealed class FinancePagesTests : PortalTestContext, IAsyncLifetime
{
    /// <summary>Everything a finance person may press: filtering, exporting, paging, tabs and date pickers. No action changes a subscription.</summary>
    private static readonly string[] ReadOnlyButtons =
        ["Apply filters", "Clear", "Export CSV", "Show", "First page", "Previous page", "Next page", "Changes", "Point in time", ""];

    private TestDatabase _db = null!;
    private FinanceData _data = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        _data = new FinanceData(_db);
        Services.AddSingleton(_db.Database);
        Services.AddSingleton<TimeProvider>(_db.Time);
        Services.AddSingleton<FinanceHistoryQuery>();
        Services.AddSingleton<PointInTimeQuery>();
        Services.AddSingleton<FinanceSummaryQuery>();
        SignIn("finn@publisher.example", "72f988bf-0000-4000-8000-00000000c0de", Roles.Finance);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        // MudBlazor registers services that only dispose asynchronously; dispose the context here, before xunit's Dispose.
        await DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task The_history_shows_each_change_from_and_to_with_source_and_actor()
    {
        var s = await _data.ResolveAsync(name: "Alice's insights");
        _db.Time.Advance(TimeSpan.FromHours(1));
        await _data.ChangeAsync(s.Id, EventKinds.QuantityChanged, EventSources.Operator, "olivia@publisher.example", quantity: 12);

        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/history");

        cut.WaitForAssertion(() => Assert.Contains("seats 5 → 12", cut.Markup));
        Assert.Contains("Alice's insights", cut.Markup);
        Assert.Contains("olivia@publisher.example", cut.Markup);
        Assert.Contains("2026-11-01 10:00:00 UTC", cut.Markup);
        Assert.Contains("2 changes", cut.Find("[data-test=history-count]").TextContent);
    }

    [Fact]
    public async Task The_export_button_carries_the_filters_of_the_address()
    {
        await _data.ResolveAsync();

        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/history?offer=insights-saas&kind=Resolved");

        cut.WaitForAssertion(() => Assert.Equal("finance/export.csv?offer=insights-saas&kind=Resolved",
            cut.Find("[data-test=export-history]").GetAttribute("href")));
    }

    [Fact]
    public async Task The_history_pages_forward_and_back_by_key()
    {
        var s = await _data.ResolveAsync(name: "Busy subscription");
        for (var i = 0; i < HistoryGrid.PageSize + 4; i++)
        {
            _db.Time.Advance(TimeSpan.FromMinutes(1));
            await _data.ChangeAsync(s.Id, EventKinds.QuantityChanged, quantity: 100 + i);
        }

        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/history");
        cut.WaitForAssertion(() => Assert.Contains("Page 1 · rows 1–50", cut.Find("[data-test=keyset-pager]").TextContent));

        await cut.ClickAsync("button[aria-label='Next page']");
        // The pager and the grid are rendered apart (the grid when its rows arrive): wait for both.
        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Page 2 · rows 51–55", cut.Find("[data-test=keyset-pager]").TextContent);
            Assert.Contains("Resolved", cut.Markup); // the oldest event is on the last page
        });
        Assert.True(cut.Find("button[aria-label='Next page']").HasAttribute("disabled"));

        await cut.ClickAsync("button[aria-label='Previous page']");
        cut.WaitForAssertion(() => Assert.Contains("Page 1 · rows 1–50", cut.Find("[data-test=keyset-pager]").TextContent));
    }

    [Fact]
    public async Task The_pager_counts_the_rows_of_a_first_page_that_arrives_after_the_count()
    {
        var s = await _data.ResolveAsync(name: "Slow page");
        for (var i = 0; i < 3; i++)
        {
            _db.Time.Advance(TimeSpan.FromMinutes(1));
            await _data.ChangeAsync(s.Id, EventKinds.QuantityChanged, quantity: 10 + i);
        }

        // The page's query joins subscriptions, the count reads events alone: holding subscriptions back makes the
        // count answer first, the order in which PostgreSQL often answered and the pager kept saying "No rows".
        await using var hold = await HoldSubscriptionsAsync();
        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/history");
        cut.WaitForAssertion(() => Assert.Contains("4 changes", cut.Find("[data-test=history-count]").TextContent));
        await hold.ReleaseAsync();

        cut.WaitForAssertion(() =>
        {
            Assert.Contains("Page 1 · rows 1–4", cut.Find("[data-test=keyset-pager]").TextContent);
            Assert.Contains("Slow page", cut.Find("[data-test=history-grid]").TextContent);
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_point_in_time_view_shows_the_state_of_the_day_and_that_history_agrees_with_the_live_table()
    {
        var s = await _data.ResolveAsync(name: "Alice's insights", planId: "team", quantity: 4);
        _db.Time.Advance(TimeSpan.FromDays(2));
        await _data.ChangeAsync(s.Id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);

        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/point-in-time?asof=2026-11-01");

        cut.WaitForAssertion(() => Assert.Contains("PendingFulfillmentStart", cut.Find("[data-test=point-in-time-grid]").TextContent));
        // The consistency check is its own query, answered after the grid's or before it (CI on PostgreSQL saw both).
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-test=consistency-ok]")));
        Assert.Equal("finance/point-in-time.csv?asof=2026-11-01", cut.Find("[data-test=export-point-in-time]").GetAttribute("href"));
    }

    [Fact]
    public async Task A_disagreement_between_history_and_live_table_is_shown_loudly()
    {
        var s = await _data.ResolveAsync(name: "Tampered subscription");
        await using (var connection = await _db.Database.OpenAsync())
        {
            await connection.ExecuteAsync("UPDATE subscriptions SET plan_id = 'enterprise' WHERE id = @id", new { id = s.Id });
        }

        var cut = await RenderPageAsync<FinanceHistoryPage>("finance/point-in-time");

        cut.WaitForAssertion(() => Assert.Contains("does not agree", cut.Find("[data-test=consistency-disagreement]").TextContent));
        Assert.Contains("Tampered subscription", cut.Find("[data-test=disagreements]").TextContent);
    }

    [Fact]
    public async Task Finance_pages_render_no_control_that_changes_anything()
    {
        var s = await _data.ResolveAsync();
        await _data.ChangeAsync(s.Id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);

        foreach (var address in new[] { "finance/history", "finance/point-in-time" })
        {
            var cut = await RenderPageAsync<FinanceHistoryPage>(address);
            cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll("tbody tr")));
            AssertOnlyReadOnlyButtons(cut);
        }

        var summary = await RenderPageAsync<FinanceSummaryPage>("finance/summary");
        summary.WaitForAssertion(() => Assert.NotNull(summary.Find("[data-test=summary-table]")));
        AssertOnlyReadOnlyButtons(summary);
    }

    [Fact]
    public async Task The_summary_shows_active_subscriptions_seats_and_movements_by_month()
    {
        var a = await _data.ResolveAsync(planId: "team", quantity: 5);
        var b = await _data.ResolveAsync(planId: "business", quantity: 20);
        await _data.ChangeAsync(a.Id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        await _data.ChangeAsync(b.Id, EventKinds.Activated, status: SubscriptionStatus.Subscribed);
        _db.Time.Advance(TimeSpan.FromDays(35)); // into December
        await _data.ChangeAsync(b.Id, EventKinds.Suspended, EventSources.Marketplace, null, status: SubscriptionStatus.Suspended);
        await _data.ChangeAsync(a.Id, EventKinds.QuantityChanged, quantity: 8);

        var cut = await RenderPageAsync<FinanceSummaryPage>("finance/summary?from=2026-11&to=2026-12");

        cut.WaitForAssertion(() => Assert.Equal(2, cut.Find("[data-test=summary-table]").QuerySelectorAll("tbody tr").Length));
        var rows = cut.Find("[data-test=summary-table]").QuerySelectorAll("tbody tr")
            .Select(r => string.Join("|", r.QuerySelectorAll("td").Select(td => td.TextContent.Trim())))
            .ToArray();
        // Month | Active | Seats | New | Activated | Cancelled | Suspended | Reinstated | Plan changes | Seat changes
        Assert.Equal("2026-11|2|25|2|2|0|0|0|0|0", rows[0]);
        Assert.Equal("2026-12|1|8|0|0|0|1|0|0|1", rows[1]);
        Assert.NotEmpty(cut.FindAll("[data-test=chart-active] svg, svg"));
        Assert.Contains("insights-saas/team", cut.Find("[data-test=plan-table]").TextContent);
    }

    /// <summary>
    /// On PostgreSQL, a transaction that holds an exclusive lock on subscriptions until released, so every query that
    /// reads that table waits. SQLite (WAL) never makes a reader wait for anyone, and its provider answers before the
    /// first render anyway, so there the hold is empty and the test checks the ordinary order.
    /// </summary>
    private async Task<TableHold> HoldSubscriptionsAsync()
    {
        if (_db.Database.IsSqlite)
        {
            return new TableHold(null, null);
        }

        var connection = await _db.Database.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE", transaction: tx);
        return new TableHold(connection, tx);
    }

    private sealed class TableHold(System.Data.Common.DbConnection? connection, System.Data.Common.DbTransaction? tx) : IAsyncDisposable
    {
        public async Task ReleaseAsync()
        {
            if (tx is not null)
            {
                await tx.RollbackAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (tx is not null)
            {
                await tx.DisposeAsync();
            }

            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task<IRenderedComponent<Bunit.Rendering.ContainerFragment>> RenderPageAsync<TPage>(string address) where TPage : IComponent
    {
        await DisposeComponentsAsync(); // one popover provider at a time
        Services.GetRequiredService<NavigationManager>().NavigateTo(address);
        var cut = Render(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<TPage>(1);
            b.CloseComponent();
        });
        return cut;
    }

    private static void AssertOnlyReadOnlyButtons(IRenderedComponent<Bunit.Rendering.ContainerFragment> cut)
    {
        foreach (var button in cut.FindAll("button, a.mud-button-root, [role=button]"))
        {
            var label = button.GetAttribute("aria-label") ?? button.TextContent.Trim();
            Assert.True(ReadOnlyButtons.Contains(label) || label.Length == 0 || label.StartsWith("Open", StringComparison.Ordinal) || label.StartsWith("Clear", StringComparison.Ordinal),
                $"unexpected control \"{label}\"");
        }
    }
}
