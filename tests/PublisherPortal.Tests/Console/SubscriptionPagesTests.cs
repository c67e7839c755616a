using PublisherPortal.Tests.Support;
using Bunit;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console.Subscriptions;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Tests.Console;

public sealed class SubscriptionPagesTests : ConsoleTestContext
{
    [Fact]
    public async Task The_grid_shows_subscriptions_and_counts_by_status()
    {
        SignInAsFinance();
        await ConsoleSeed.SubscriptionAsync(Db, name: "Active one", status: SubscriptionStatus.Subscribed);
        await ConsoleSeed.SubscriptionAsync(Db, name: "Active two", status: SubscriptionStatus.Subscribed);
        await ConsoleSeed.SubscriptionAsync(Db, name: "Suspended one", status: SubscriptionStatus.Suspended);

        var page = RenderPage<SubscriptionsPage>();

        page.WaitForAssertion(() =>
        {
            Assert.Contains("Active one", page.Find("[data-testid=subscriptions-grid]").TextContent, StringComparison.Ordinal);
            Assert.Equal("Active 2", Normalise(page.Find("[data-status=Subscribed]").TextContent));
            Assert.Equal("Suspended 1", Normalise(page.Find("[data-status=Suspended]").TextContent));
            Assert.Equal("All 3", Normalise(page.Find("[data-status=All]").TextContent));
        });
    }

    [Fact]
    public async Task Statuses_read_as_words_in_the_grid_never_as_the_marketplace_codes()
    {
        SignInAsOperator();
        await ConsoleSeed.SubscriptionAsync(Db, name: "Waiting one", status: SubscriptionStatus.PendingFulfillmentStart);
        await ConsoleSeed.SubscriptionAsync(Db, name: "Gone one", status: SubscriptionStatus.Unsubscribed);

        var page = RenderPage<SubscriptionsPage>();

        page.WaitForAssertion(() =>
        {
            var grid = page.Find("[data-testid=subscriptions-grid]").TextContent;
            Assert.Contains("Waiting for activation", grid, StringComparison.Ordinal);
            Assert.Contains("Cancelled", grid, StringComparison.Ordinal);
            Assert.Equal("Waiting for activation 1", Normalise(page.Find("[data-status=PendingFulfillmentStart]").TextContent));
            Assert.DoesNotContain("PendingFulfillmentStart", page.Find("[data-testid=status-counts]").TextContent + grid, StringComparison.Ordinal);
            Assert.DoesNotContain("Unsubscribed", grid, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task The_detail_page_names_the_status_in_words_and_history_lines_without_state_have_no_empty_plan()
    {
        SignInAsOperator();
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Waiting one", status: SubscriptionStatus.PendingFulfillmentStart);
        await using (var connection = await Db.Database.OpenAsync())
        {
            await using var tx = await Db.Database.BeginWriteAsync(connection);
            await new SubscriptionStore(Db.Database, Db.Time).AppendEventAsync(new SubscriptionEvent
            {
                SubscriptionId = id,
                OfferId = "insights-saas",
                OccurredAt = Db.Time.GetUtcNow(),
                Kind = EventKinds.Configured,
                Source = EventSources.Customer,
                Actor = "alice@contoso.example",
                Detail = "Organisation Contoso, administrator alice@contoso.example, data region westeurope.",
            }, connection, tx);
            await tx.CommitAsync();
        }

        var page = RenderPage<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, id));

        page.WaitForAssertion(() => Assert.Equal("Waiting for activation", page.Find("[data-testid=status]").TextContent.Trim()));
        var lines = page.FindAll("[data-testid=history-line]").Select(l => Normalise(l.TextContent)).ToList();
        Assert.Contains("Account set up", lines);
        Assert.DoesNotContain(lines, l => l.Contains(", plan", StringComparison.Ordinal) && !l.Contains("plan team", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("— ,", StringComparison.Ordinal) || l.EndsWith('—'));
    }

    [Fact]
    public async Task Picking_a_status_chip_narrows_the_grid()
    {
        SignInAsFinance();
        await ConsoleSeed.SubscriptionAsync(Db, name: "Active one", status: SubscriptionStatus.Subscribed);
        await ConsoleSeed.SubscriptionAsync(Db, name: "Suspended one", status: SubscriptionStatus.Suspended);
        var page = RenderPage<SubscriptionsPage>();
        page.WaitForAssertion(() => page.Find("[data-status=Suspended]"));

        await page.ClickAsync("[data-status=Suspended]");

        page.WaitForAssertion(() =>
        {
            var grid = page.Find("[data-testid=subscriptions-grid]").TextContent;
            Assert.Contains("Suspended one", grid, StringComparison.Ordinal);
            Assert.DoesNotContain("Active one", grid, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void An_empty_grid_says_how_to_see_more()
    {
        SignInAsFinance();

        var page = RenderPage<SubscriptionsPage>();

        page.WaitForAssertion(() => Assert.Contains("No subscription matches", page.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_operator_sees_the_actions_on_the_detail_page()
    {
        SignInAsOperator();
        var id = await ActiveInEmulatorAsync();

        var page = RenderPage<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, id));

        page.WaitForAssertion(() =>
        {
            Assert.NotNull(page.Find("[data-testid=operator-actions]"));
            Assert.NotNull(page.Find("[data-testid=change-seats]"));
            Assert.NotNull(page.Find("[data-testid=cancel-subscription]"));
            Assert.NotNull(page.Find("[data-testid=sync-now]"));
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Finance_sees_every_fact_but_no_action()
    {
        SignInAsFinance();
        var id = await ActiveInEmulatorAsync();

        var page = RenderPage<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, id));

        page.WaitForAssertion(() => Assert.Contains(id.ToString(), page.Find("[data-testid=marketplace-facts]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=operator-actions]"));
        Assert.Empty(page.FindAll("button[data-testid=change-seats], button[data-testid=cancel-subscription]"));
        Assert.Contains("Activated", page.Find("[data-testid=history]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_operation_shows_who_asked_for_what_while_it_runs()
    {
        SignInAsFinance();
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Busy one");
        await PendingOperationAsync(id, requestedBy: "ada@publisher.example", quantity: 12);

        var page = RenderPage<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, id));

        page.WaitForAssertion(() =>
        {
            var progress = page.Find("[data-testid=operation-progress]");
            Assert.Equal(OperationStates.InProgress, progress.GetAttribute("data-status"));
            Assert.Contains("12 seats", progress.TextContent, StringComparison.Ordinal);
            Assert.Contains("ada@publisher.example", progress.TextContent, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void An_unknown_subscription_gets_a_not_found_message()
    {
        SignInAsFinance();

        var page = RenderPage<SubscriptionDetailPage>(p => p.Add(x => x.SubscriptionId, Guid.NewGuid()));

        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=not-found]")));
    }

    private static string Normalise(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>A purchase activated in the emulator and recorded here with its Activated event.</summary>
    private async Task<Guid> ActiveInEmulatorAsync()
    {
        var purchase = await Emulator.Simulator.PurchaseAsync(new Marketplace.Emulator.PurchaseRequest { OfferId = "insights-saas", PlanId = "team", Quantity = 5 });
        var client = Services.GetRequiredService<Marketplace.IFulfillmentClient>();
        await client.ActivateAsync(purchase.SubscriptionId, new ActivationRequest("team", 5), Guid.NewGuid());
        var remote = await client.GetSubscriptionAsync(purchase.SubscriptionId, Guid.NewGuid());
        var store = Services.GetRequiredService<SubscriptionStore>();
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await store.RecordFromMarketplaceAsync(remote with { SaasSubscriptionStatus = SubscriptionStatus.PendingFulfillmentStart }, connection, tx);
        await store.ApplyChangeAsync(new SubscriptionChange(remote.Id, EventKinds.Activated, EventSources.Customer, "alice@contoso.example")
        {
            Status = SubscriptionStatus.Subscribed,
            AccessEnabled = true,
        }, connection, tx);
        await tx.CommitAsync();
        return remote.Id;
    }

    private async Task PendingOperationAsync(Guid subscriptionId, string requestedBy, int quantity)
    {
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Services.GetRequiredService<OperationStore>().TryRecordStartedAsync(new OperationRecord
        {
            Id = Guid.NewGuid(),
            SubscriptionId = subscriptionId,
            Action = "ChangeQuantity",
            RequestedQuantity = quantity,
            Source = EventSources.Operator,
            RequestedBy = requestedBy,
            RequestedAt = Db.Time.GetUtcNow(),
            Location = "https://marketplace.example/operations/1",
            CorrelationId = Guid.NewGuid(),
            NextPollAt = Db.Time.GetUtcNow(),
        }, connection, tx);
        await tx.CommitAsync();
    }
}
