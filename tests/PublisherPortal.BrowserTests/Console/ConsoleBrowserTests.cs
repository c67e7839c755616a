using System.Globalization;
using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests.Console;

/// <summary>
/// The operator console in chromium against the shared demo portal (<see cref="PortalFixture"/>): an operator changes
/// seats and plan and watches each operation finish; finance and a customer are refused the change.
/// Each test buys and activates its own subscription so the tests do not depend on each other's order.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ConsoleBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    private static readonly string[] ConsolePages =
        ["console/subscriptions", "console/plans", "console/suspensions", "console/operations", "console/webhooks"];

    [BrowserFact]
    public Task Every_console_page_renders_for_an_operator_without_an_error_and_fits_desktop_and_phone() =>
        browser.WithPageAsync(nameof(Every_console_page_renders_for_an_operator_without_an_error_and_fits_desktop_and_phone), async page =>
        {
            await portal.OpenAsAsync(page, "olivia", ConsolePages[0]);

            foreach (var path in ConsolePages)
            {
                await page.GotoAsync(Url(path));
                await WaitForInteractiveAsync(page);
                foreach (var (label, width, height) in new[] { ("desktop", 1366, 900), ("phone", 390, 844) })
                {
                    await page.SetViewportSizeAsync(width, height);
                    await page.ScreenshotAsync(new() { Path = Shot($"console-{path.Replace('/', '-')}-{label}"), FullPage = true });

                    Assert.Equal(0, await page.Locator("[data-testid=error]").CountAsync());
                    var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
                    Assert.True(overflow <= 1, $"{path} is {overflow}px wider than a {width}px screen");
                }
            }
        });

    [BrowserFact]
    public Task An_operator_changes_the_seats_and_then_the_plan_of_an_active_subscription_and_sees_each_operation_finish() =>
        browser.WithPageAsync(nameof(An_operator_changes_the_seats_and_then_the_plan_of_an_active_subscription_and_sees_each_operation_finish), async page =>
        {
            var subscriptionId = await ActivatedSubscriptionAsync("team", 5);

            await portal.OpenAsAsync(page, "olivia", $"console/subscriptions/{subscriptionId}");
            await page.WaitForSelectorAsync("[data-testid=change-seats]");
            await WaitForInteractiveAsync(page);

            var seats = page.Locator("[data-testid=seats-input] input, input[data-testid=seats-input]").First;
            // Out of the plan's bounds (1-50): refused inline, the button stays off, nothing is clamped.
            await seats.FillAsync("");
            await seats.PressSequentiallyAsync("60", new() { Delay = 30 });
            await page.GetByText("The plan allows at most 50 seats.").WaitForAsync();
            Assert.True(await page.Locator("[data-testid=change-seats]").IsDisabledAsync());
            Assert.Equal("60", await seats.InputValueAsync());

            // Typing a count, then one click, with no blur in between: the click is the one that counts.
            await seats.FillAsync("");
            await seats.PressSequentiallyAsync("6", new() { Delay = 30 });
            await page.Locator("[data-testid=change-seats]").ClickAsync();
            var effect = page.Locator("[data-testid=billing-effect]");
            await effect.WaitForAsync();
            Assert.Contains("× 5 seats", await effect.InnerTextAsync());
            Assert.Contains("× 6 seats", await effect.InnerTextAsync());
            await page.ScreenshotAsync(new() { Path = Shot("console-seats-confirm"), FullPage = true });
            // Escape closes the confirmation and sends nothing; the change is sent only once confirmed.
            await page.Keyboard.PressAsync("Escape");
            await effect.WaitForAsync(new() { State = WaitForSelectorState.Detached });
            Assert.Equal(5, (await portal.Store.FindAsync(subscriptionId))!.Quantity);
            await page.Locator("[data-testid=change-seats]").ClickAsync();
            await page.Locator("[data-testid=confirm-change]").ClickAsync();
            var seatsDone = page.Locator("[data-testid=operation-progress][data-status=Succeeded]", new() { HasTextString = "6 seats" });
            await seatsDone.WaitForAsync(new() { Timeout = 60_000 });
            await page.ScreenshotAsync(new() { Path = Shot("console-seats-changed"), FullPage = true });

            // The page re-reads the subscription when the operation ends; the plan control is enabled again then.
            await page.Locator("[data-testid=plan-select]").First.ClickAsync();
            await page.Locator(".mud-popover-open .mud-list-item", new() { HasTextString = "(business)" }).ClickAsync();
            await page.Locator("[data-testid=change-plan]").ClickAsync();
            Assert.Contains("Business", await page.Locator("[data-testid=billing-effect]").InnerTextAsync());
            await page.Locator("[data-testid=confirm-change]").ClickAsync();
            var planDone = page.Locator("[data-testid=operation-progress][data-status=Succeeded]", new() { HasTextString = "Business" });
            await planDone.WaitForAsync(new() { Timeout = 60_000 });
            await page.ScreenshotAsync(new() { Path = Shot("console-plan-changed"), FullPage = true });

            var stored = await portal.Store.FindAsync(subscriptionId);
            Assert.Equal(("business", 6), (stored!.PlanId, stored.Quantity));
        });

    [BrowserFact]
    public Task Finance_reads_an_active_subscription_but_sees_no_change_control() =>
        browser.WithPageAsync(nameof(Finance_reads_an_active_subscription_but_sees_no_change_control), async page =>
        {
            var subscriptionId = await ActivatedSubscriptionAsync("team", 3);

            await portal.OpenAsAsync(page, "finn", $"console/subscriptions/{subscriptionId}");
            await page.WaitForSelectorAsync("[data-testid=marketplace-facts]");
            await WaitForInteractiveAsync(page);

            Assert.Equal(0, await page.Locator("[data-testid=operator-actions]").CountAsync());
            Assert.Equal(0, await page.Locator("[data-testid=change-seats], [data-testid=change-plan], [data-testid=cancel-subscription]").CountAsync());
            var stored = await portal.Store.FindAsync(subscriptionId);
            Assert.Equal(("team", 3), (stored!.PlanId, stored.Quantity));
        });

    [BrowserFact]
    public Task A_customer_gets_the_denied_page_on_every_console_page() =>
        browser.WithPageAsync(nameof(A_customer_gets_the_denied_page_on_every_console_page), async page =>
        {
            var subscriptionId = await ActivatedSubscriptionAsync("team", 2);
            await portal.OpenAsAsync(page, "alice", ConsolePages[0]);

            foreach (var path in ConsolePages.Append($"console/subscriptions/{subscriptionId}"))
            {
                await page.GotoAsync(Url(path));
                await page.GetByText("You don't have access to this page").WaitForAsync();
                Assert.Equal(0, await page.Locator("[data-testid=operator-actions], [data-testid=subscriptions-grid]").CountAsync());
            }

            await page.ScreenshotAsync(new() { Path = Shot("console-denied-customer"), FullPage = true });
        });

    /// <summary>Buys in the marketplace and walks the landing wizard as Alice, in its own browser context, up to "activated".</summary>
    private async Task<Guid> ActivatedSubscriptionAsync(string planId, int seats)
    {
        var purchase = await portal.PurchaseAsync(planId, seats);
        await browser.WithPageAsync("activate-" + purchase.SubscriptionId, async page =>
        {
            await page.GotoAsync(purchase.LandingUrl!.ToString());
            await portal.SignInAsAsync(page, "alice");
            await page.ClickAsync("[data-testid=review-continue]");
            await page.ClickAsync("[data-testid=setup-continue]");
            await page.ClickAsync("[data-testid=plan-continue]");
            await page.ClickAsync("[data-testid=activate]");
            await page.WaitForSelectorAsync("[data-testid=activated]", new() { Timeout = 30_000 });
        });
        return purchase.SubscriptionId;
    }

    // The page is prerendered, then becomes interactive over the circuit; a click before that is lost.
    private static async Task WaitForInteractiveAsync(IPage page)
    {
        await page.WaitForSelectorAsync("h1");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.WaitForFunctionAsync("() => window.Blazor !== undefined");
        await page.WaitForTimeoutAsync(500);
    }

    private string Url(string path) => new Uri(portal.BaseUrl, path).ToString();

    private static string Shot(string name) =>
        Path.Combine(BrowserFixture.ScreenshotFolder, name.ToString(CultureInfo.InvariantCulture) + ".png");
}
