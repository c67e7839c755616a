using Bunit;
using Marketplace.Models;
using Microsoft.Extensions.DependencyInjection;
using PublisherPortal.Console.Approvals;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Tests.Console;

namespace PublisherPortal.Tests.Offers;

/// <summary>The approval queue page over a real SQLite file: empty, full, and who sees the decision buttons.</summary>
public sealed class ApprovalsPageTests : ConsoleTestContext
{
    [Fact]
    public void An_empty_queue_says_nothing_waits_and_where_requests_come_from()
    {
        AddApprovalServices();
        SignInAsOperator();

        var page = RenderPage<ApprovalsPage>();

        page.WaitForAssertion(() => Assert.Contains("Nothing waits for approval", page.Find("[data-testid=queue-empty]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("[data-testid=queue]"));
    }

    [Fact]
    public async Task A_waiting_request_shows_subscription_customer_offer_plan_answers_and_since_when_with_the_operator_s_buttons()
    {
        AddApprovalServices();
        var id = await WaitingRequestAsync();
        SignInAsOperator();

        var page = RenderPage<ApprovalsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=queue] tbody tr.mud-table-row")));
        var row = page.Find("[data-testid=queue] tbody tr.mud-table-row");
        Assert.Contains("Contoso archive", row.TextContent, StringComparison.Ordinal);
        Assert.Equal($"console/subscriptions/{id}", row.QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("Contoso Ltd", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("alice@contoso.example", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("backup-saas / pro", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("Retention (days)", row.QuerySelector("[data-field=retention-days] th")!.TextContent);
        Assert.Equal("30", row.QuerySelector("[data-field=retention-days] td")!.TextContent);
        Assert.Contains("2026-11-01 09:00:00 UTC", row.TextContent, StringComparison.Ordinal);
        Assert.Equal("waiting", row.QuerySelector("[data-testid=state]")!.TextContent.Trim());
        Assert.NotNull(row.QuerySelector("[data-testid=approve]"));
        Assert.NotNull(row.QuerySelector("[data-testid=reject]"));
    }

    [Fact]
    public async Task Finance_reads_the_queue_without_any_decision_button()
    {
        AddApprovalServices();
        await WaitingRequestAsync();
        SignInAsFinance();

        var page = RenderPage<ApprovalsPage>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=queue] tbody tr.mud-table-row")));
        Assert.Empty(page.FindAll("[data-testid=approve]"));
        Assert.Empty(page.FindAll("[data-testid=reject]"));
    }

    [Fact]
    public async Task Approve_shows_what_billing_starts_and_decides_nothing_until_confirmed()
    {
        AddApprovalServices();
        var id = await WaitingRequestAsync();
        await ConsoleSeed.PlanAsync(Db, "backup-saas", "pro", perSeat: true, min: 1, max: 100);
        SignInAsOperator();
        Render<MudBlazor.MudPopoverProvider>();
        var dialogs = Render<MudBlazor.MudDialogProvider>();
        var page = Render<ApprovalsPage>();
        page.WaitForElement("[data-testid=approve]");

        _ = page.InvokeAsync(() => page.Find("[data-testid=approve]").ClickAsync(new Microsoft.AspNetCore.Components.Web.MouseEventArgs()));

        dialogs.WaitForAssertion(() => Assert.Equal(
            "Approving activates the subscription: the marketplace starts billing pro (pro) × 40 seats from today.",
            dialogs.Find("[data-testid=billing-effect]").TextContent.Trim()));
        Assert.Equal(ApprovalStates.Pending, (await new ActivationApprovalStore(Db.Database).FindAsync(id))!.State);

        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=keep]").Click());

        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=billing-effect]")));
        Assert.Equal(ApprovalStates.Pending, (await new ActivationApprovalStore(Db.Database).FindAsync(id))!.State);
    }

    private void AddApprovalServices()
    {
        Services.AddOfferServices();
        Services.AddSingleton<LandingStore>();
        Services.AddScoped<LandingService>();
        Services.AddOptions<LandingOptions>();
    }

    /// <summary>A backup-saas purchase whose customer finished the wizard and waits, as the landing page leaves it.</summary>
    private async Task<Guid> WaitingRequestAsync()
    {
        await OffersHosting.SaveAsync(Db.Database, OfferPolicy.DefaultFor("backup-saas") with
        {
            Activation = ActivationMode.OperatorApproval,
            CustomFields = [new CustomField { Name = "retention-days", Label = "Retention (days)", Type = CustomFieldType.Number, Required = true }],
        });
        var id = await ConsoleSeed.SubscriptionAsync(Db, name: "Contoso archive", status: SubscriptionStatus.PendingFulfillmentStart, offerId: "backup-saas", planId: "pro", quantity: 40);
        await using var connection = await Db.Database.OpenAsync();
        await using var tx = await Db.Database.BeginWriteAsync(connection);
        await Dapper.SqlMapper.ExecuteAsync(connection, """
            UPDATE subscriptions SET account_organisation = 'Contoso Ltd', account_settings = @settings, configured_at = @now WHERE id = @id
            """, new { id, now = Db.Time.GetUtcNow(), settings = """{"DataRegion":"westeurope","Fields":{"retention-days":"30"}}""" }, tx);
        await new ActivationApprovalStore(Db.Database).TryRequestAsync(id, "backup-saas", "alice@contoso.example", Db.Time.GetUtcNow(), connection, tx);
        await tx.CommitAsync();
        return id;
    }
}
