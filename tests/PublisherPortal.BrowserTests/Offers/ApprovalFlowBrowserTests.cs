using Microsoft.Playwright;
using PublisherPortal.Data;
using PublisherPortal.Offers;

namespace PublisherPortal.BrowserTests.Offers;

/// <summary>
/// Operator approval as people click it: customer Alice finishes the wizard of an offer that needs approval and sees
/// "awaiting approval"; operator Olivia approves (the emulator shows Subscribed) or rejects with a reason (the emulator
/// shows Unsubscribed and Alice sees the reason). Admin Ada's offer pages are photographed on the way.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ApprovalFlowBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    private const string Offer = "backup-saas";

    [BrowserFact]
    public async Task A_customer_waits_for_approval_and_an_operator_s_approval_activates_the_subscription()
    {
        await RequireApprovalAsync();
        var purchase = await portal.PurchaseAsync("pro", 10, offerId: Offer);

        await AsAsync("approve-customer", "alice", purchase.LandingUrl!.ToString(), async page =>
        {
            await FinishWizardAsync(page);
            await SnapAsync(page, "awaiting-approval");
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("[data-problem=awaiting-approval]");
        });

        await AsAsync("approve-operator", "olivia", new Uri(portal.BaseUrl, "console/approvals").ToString(), async page =>
        {
            var row = Row(page, purchase.SubscriptionId);
            await row.WaitForAsync();
            Assert.Contains("30", await row.InnerTextAsync());
            await SnapAsync(page, "approvals-queue");
            await row.Locator("[data-testid=approve]").ClickAsync();
            // Approving starts billing: the confirmation says what, and nothing is sent before it is confirmed.
            var effect = page.Locator("[data-testid=billing-effect]");
            await effect.WaitForAsync();
            Assert.Contains("× 10 seats", await effect.InnerTextAsync());
            Assert.Equal("PendingFulfillmentStart", await portal.MarketplaceStatusAsync(purchase.SubscriptionId));
            await page.Locator("[data-testid=confirm-change]").ClickAsync();
            var answer = page.Locator("[data-testid=action-answer]");
            await answer.WaitForAsync(new() { Timeout = 30_000 });
            Assert.Contains("Approved", await answer.InnerTextAsync());
        });

        Assert.Equal("Subscribed", await portal.MarketplaceStatusAsync(purchase.SubscriptionId));
        var kinds = (await portal.Store.HistoryAsync(purchase.SubscriptionId)).Select(e => e.Kind).ToList();
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.AwaitingApproval, EventKinds.ApprovalGranted, EventKinds.Activated], kinds);

        await AsAsync("approve-customer-after", "alice", purchase.LandingUrl!.ToString(), async page =>
            await page.WaitForSelectorAsync("[data-problem=already-active]"));
    }

    [BrowserFact]
    public async Task An_operator_s_rejection_cancels_in_the_marketplace_and_the_customer_sees_the_reason()
    {
        await RequireApprovalAsync();
        var purchase = await portal.PurchaseAsync("pro", 10, offerId: Offer);
        const string reason = "We cannot host backups in your region yet.";

        await AsAsync("reject-customer", "alice", purchase.LandingUrl!.ToString(), FinishWizardAsync);

        await AsAsync("reject-operator", "olivia", new Uri(portal.BaseUrl, "console/approvals").ToString(), async page =>
        {
            var row = Row(page, purchase.SubscriptionId);
            await row.WaitForAsync();
            await row.Locator("[data-testid=reject]").ClickAsync();
            await page.WaitForSelectorAsync("[data-testid=reject-dialog]");
            Assert.Contains("Reject: ", await page.Locator(".mud-dialog").InnerTextAsync());
            await page.FillAsync("textarea[data-testid=reject-reason]", reason);
            await SnapAsync(page, "reject-dialog");
            await page.ClickAsync("[data-testid=confirm-reject]");
            var answer = page.Locator("[data-testid=action-answer]");
            await answer.WaitForAsync(new() { Timeout = 30_000 });
            Assert.Contains("Rejected", await answer.InnerTextAsync());
        });

        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (await portal.MarketplaceStatusAsync(purchase.SubscriptionId) != "Unsubscribed" && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.Equal("Unsubscribed", await portal.MarketplaceStatusAsync(purchase.SubscriptionId));
        var rejected = Assert.Single(await portal.Store.HistoryAsync(purchase.SubscriptionId), e => e.Kind == EventKinds.ApprovalRejected);
        Assert.Equal(reason, rejected.Detail);

        await AsAsync("reject-customer-after", "alice", purchase.LandingUrl!.ToString(), async page =>
        {
            await page.WaitForSelectorAsync("[data-problem=approval-rejected]");
            Assert.Equal(reason, (await page.InnerTextAsync("[data-testid=rejection-reason]")).Trim());
            await SnapAsync(page, "approval-rejected");
        });
    }

    [BrowserFact]
    public async Task An_admin_sees_each_offer_s_settings_and_saves_a_change_rule()
    {
        await RequireApprovalAsync();

        await AsAsync("admin-offers", "ada", new Uri(portal.BaseUrl, "admin/offers").ToString(), async page =>
        {
            var row = page.Locator($"[data-offer-id='{Offer}']");
            await row.WaitForAsync();
            Assert.Contains(Offer, await row.InnerTextAsync());
            Assert.Contains("operator approval", await page.Locator("[data-testid=offers]").InnerTextAsync());
            await SnapAsync(page, "admin-offers");

            await row.Locator("[data-testid=edit-offer]").ClickAsync();
            await page.WaitForSelectorAsync("[data-testid=change-rules]");
            await page.GetByText("Plan and seat changes are accepted").ClickAsync();
            await page.ClickAsync("[data-testid=save]");
            var answer = page.Locator("[data-testid=save-answer]");
            await answer.WaitForAsync();
            Assert.Contains("no plan or seat changes", await answer.InnerTextAsync());
            await SnapAsync(page, "admin-offer-settings");
        });

        var stored = await new OfferPolicyStore(portal.Database).FindAsync(Offer);
        Assert.False(stored.AcceptChanges);

        // Leave the offer accepting changes for the other tests of the collection.
        await SaveAsync(stored with { AcceptChanges = true });
    }

    private static ILocator Row(IPage page, Guid subscriptionId) =>
        page.Locator("[data-testid=queue] tr.mud-table-row").Filter(new() { Has = page.Locator($"[data-subscription-id='{subscriptionId}']") });

    /// <summary>Review, account (with the offer's own question), plan, and the last button, which submits for approval.</summary>
    private static async Task FinishWizardAsync(IPage page)
    {
        await page.ClickAsync("[data-testid=review-continue]");
        await page.FillAsync("input[data-testid=field-retention-days]", "30");
        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");
        // The button's text is upper-cased by the theme; the words are what matter.
        Assert.Contains("submit for approval", await page.InnerTextAsync("[data-testid=activate]"), StringComparison.OrdinalIgnoreCase);
        await page.ClickAsync("[data-testid=activate]");
        await page.WaitForSelectorAsync("[data-problem=awaiting-approval]", new() { Timeout = 30_000 });
    }

    /// <summary>The offer needs approval and asks for retention; saved straight into the portal's database, as an admin's save leaves it.</summary>
    private async Task RequireApprovalAsync()
    {
        var current = await new OfferPolicyStore(portal.Database).FindAsync(Offer);
        if (current.RequiresApproval)
        {
            return;
        }

        await SaveAsync(current with
        {
            Activation = ActivationMode.OperatorApproval,
            CustomFields = [new CustomField { Name = "retention-days", Label = "Keep backups for (days)", Type = CustomFieldType.Number, Required = true, Min = 7, Max = 365 }],
        });
    }

    private async Task SaveAsync(OfferPolicy policy)
    {
        var store = new OfferPolicyStore(portal.Database);
        var before = await store.FindAsync(policy.OfferId);
        await using var connection = await portal.Database.OpenAsync();
        await using var tx = await portal.Database.BeginWriteAsync(connection);
        Assert.IsType<PolicySaveOutcome.Saved>(await store.SaveAsync(policy with { Version = before.Version }, before.Version, "browser-test", DateTimeOffset.UtcNow, connection, tx));
        await tx.CommitAsync();
    }

    /// <summary>A fresh browser context signed in as <paramref name="identity"/> at <paramref name="url"/>; a screenshot if it fails.</summary>
    private async Task AsAsync(string name, string identity, string url, Func<IPage, Task> body)
    {
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        try
        {
            await page.GotoAsync(url);
            await portal.SignInAsAsync(page, identity);
            await body(page);
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"FAILED-{name}.png"), FullPage = true });
            throw;
        }
    }

    private static Task SnapAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}.png"), FullPage = true });
}
