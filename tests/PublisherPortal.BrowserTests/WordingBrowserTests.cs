using Marketplace.Models;
using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests;

/// <summary>
/// Issue 15's wording, in chromium: the welcome mail's recipients on the success page, a cancelled subscription that
/// promises no renewal, a suspended card that says what to do, offers by their display name, statuses in words for
/// operators. Each page is kept as a screenshot at 1366 and 390 px for review.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class WordingBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    [BrowserFact]
    public Task Customers_and_operators_read_names_and_words_not_codes() =>
        browser.WithPageAsync(nameof(Customers_and_operators_read_names_and_words_not_codes), async page =>
        {
            var offerName = "Contoso Insights " + Guid.NewGuid().ToString("N")[..4];
            var kept = await portal.PurchaseAsync("team", 1);
            await page.GotoAsync(kept.LandingUrl!.ToString());
            await portal.SignInAsAsync(page, "alice");
            await ActivateAsync(page, "it-admin@contoso.example");
            Assert.Contains("sign-in link to it-admin@contoso.example.", await page.InnerTextAsync("[data-testid=welcome-recipients]"));
            await SnapAsync(page, "welcome-recipients");

            // Offers appear on the admin pages once a purchase of them reached the landing page.
            await using (var admin = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } }))
            {
                var adminPage = await admin.NewPageAsync();
                await portal.OpenAsAsync(adminPage, "ada", "admin/offers/insights-saas");
                await adminPage.FillAsync("input[data-testid=offer-display-name]", offerName);
                await adminPage.ClickAsync("[data-testid=save-display-name]");
                await adminPage.Locator("[data-testid=display-name-answer]").GetByText(offerName).WaitForAsync();
                await SnapAsync(adminPage, "admin-offer-display-name");
            }

            var cancelled = await portal.PurchaseAsync("business", 5);
            await page.GotoAsync(cancelled.LandingUrl!.ToString());
            await ActivateAsync(page, "alice@contoso.example");
            await portal.MarketplaceActsAsync(cancelled.SubscriptionId, "unsubscribe");
            await portal.MarketplaceActsAsync(kept.SubscriptionId, "suspend");
            await WaitForAsync(cancelled.SubscriptionId, SubscriptionStatus.Unsubscribed);
            await WaitForAsync(kept.SubscriptionId, SubscriptionStatus.Suspended);

            var link = (await portal.MarketplaceActsAsync(cancelled.SubscriptionId, "token")).GetProperty("landingUrl").GetString()!;
            await page.GotoAsync(link);
            var ended = await page.WaitForSelectorAsync("[data-problem=ended]");
            Assert.DoesNotContain("Renews automatically", await ended!.InnerTextAsync());
            await SnapAsync(page, "landing-cancelled");

            await page.GotoAsync(new Uri(portal.BaseUrl, "my/subscriptions").ToString());
            var card = page.Locator($"[data-subscription-id='{kept.SubscriptionId}']");
            await card.Locator("[data-testid=suspended-why]").WaitForAsync();
            Assert.Equal(offerName, (await card.Locator("[data-testid=offer]").InnerTextAsync()).Trim());
            await SnapAsync(page, "my-subscriptions-words");

            await using var console = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1366, Height = 900 } });
            var operatorPage = await console.NewPageAsync();
            await portal.OpenAsAsync(operatorPage, "olivia", $"console/subscriptions/{kept.SubscriptionId}");
            Assert.Equal("Suspended", (await operatorPage.InnerTextAsync("[data-testid=status]")).Trim());
            await operatorPage.Locator("[data-testid=history-line]").First.WaitForAsync();
            Assert.DoesNotContain("— , plan", await operatorPage.InnerTextAsync("[data-testid=history]"));
            await SnapAsync(operatorPage, "console-detail-words");
            await operatorPage.GotoAsync(new Uri(portal.BaseUrl, "console/subscriptions").ToString());
            await operatorPage.Locator("[data-testid=subscriptions-grid]").GetByText("Cancelled").First.WaitForAsync();
            Assert.DoesNotContain("Unsubscribed", await operatorPage.InnerTextAsync("[data-testid=subscriptions-grid]"));
            await SnapAsync(operatorPage, "console-grid-words");
        });

    private static async Task ActivateAsync(IPage page, string adminEmail)
    {
        await page.ClickAsync("[data-testid=review-continue]");
        await page.FillAsync("input[data-testid=admin-email]", adminEmail);
        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");
        await page.ClickAsync("[data-testid=activate]");
        await page.WaitForSelectorAsync("[data-testid=activated]", new() { Timeout = 30_000 });
    }

    private async Task WaitForAsync(Guid id, SubscriptionStatus status)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while ((await portal.Store.FindAsync(id))?.Status != status)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{id} did not become {status} in the portal");
            await Task.Delay(200);
        }
    }

    /// <summary>How the page looks at desktop and phone width, for a person to review (not compared automatically).</summary>
    private static async Task SnapAsync(IPage page, string name)
    {
        foreach (var (label, width, height) in new[] { ("1366", 1366, 900), ("390", 390, 844) })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}-{label}.png"), FullPage = true });
        }

        await page.SetViewportSizeAsync(1366, 900);
    }
}
