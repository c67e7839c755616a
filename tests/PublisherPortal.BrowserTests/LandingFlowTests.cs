using Microsoft.Playwright;
using PublisherPortal.Data;

namespace PublisherPortal.BrowserTests;

/// <summary>What a customer clicks, from the marketplace's link to an active subscription, in a real browser.</summary>
[Collection(PortalCollection.Name)]
public sealed class LandingFlowTests(PortalFixture portal, BrowserFixture browser)
{
    private static readonly (string Name, int Width, int Height)[] Widths = [("desktop", 1280, 900), ("phone", 390, 844)];

    [BrowserFact]
    public Task A_customer_activates_a_purchase_from_the_marketplace_link() => WithPageAsync(nameof(A_customer_activates_a_purchase_from_the_marketplace_link), async page =>
    {
        var purchase = await portal.PurchaseAsync("team", 5);

        await page.GotoAsync(purchase.LandingUrl!.ToString());
        await SnapAsync(page, "emulator-sign-in");
        await portal.SignInAsAsync(page, "alice");

        await page.WaitForSelectorAsync("[data-testid=wizard][data-step=Review]");
        await SnapAsync(page, "wizard-review");
        await page.ClickAsync("[data-testid=review-continue]");
        await page.WaitForSelectorAsync("[data-testid=wizard][data-step=Setup]");
        await SnapAsync(page, "wizard-account");
        await page.ClickAsync("[data-testid=setup-continue]");
        await page.WaitForSelectorAsync("[data-testid=wizard][data-step=ConfirmPlan]");
        await SnapAsync(page, "wizard-plan");

        // Refreshing mid-wizard resumes where the customer was.
        await page.ReloadAsync();
        await page.WaitForSelectorAsync("[data-testid=wizard][data-step=ConfirmPlan]");

        await page.ClickAsync("[data-testid=plan-continue]");
        await page.WaitForSelectorAsync("[data-testid=wizard][data-step=Activate]");
        await SnapAsync(page, "wizard-activate");
        await page.DblClickAsync("[data-testid=activate]");
        await page.WaitForSelectorAsync("[data-testid=activated]", new() { Timeout = 30_000 });
        await SnapAsync(page, "activated");

        Assert.Equal("Subscribed", await portal.MarketplaceStatusAsync(purchase.SubscriptionId));
        var kinds = (await portal.Store.HistoryAsync(purchase.SubscriptionId)).Select(e => e.Kind).ToList();
        Assert.Equal([EventKinds.Resolved, EventKinds.Configured, EventKinds.Activated], kinds);

        await page.ClickAsync("[data-testid=to-my-subscriptions]");
        await page.WaitForSelectorAsync($"[data-subscription-id='{purchase.SubscriptionId}']");
        await SnapAsync(page, "my-subscriptions");

        // Seats in My subscriptions: 60 on a 1–50 plan is refused inline and never sent (it used to be clamped to 50 and billed).
        var card = page.Locator($"[data-subscription-id='{purchase.SubscriptionId}']");
        await PortalFixture.WaitForInteractiveAsync(page);
        await card.Locator("[data-testid=change-seats]").ClickAsync();
        var seats = page.Locator(".mud-dialog input").First;
        await seats.FillAsync("");
        await seats.PressSequentiallyAsync("60", new() { Delay = 30 });
        await page.GetByText("60 is more than the 50 seats your plan allows.").WaitForAsync();
        Assert.True(await page.Locator(".mud-dialog [data-testid=confirm]").IsDisabledAsync());
        Assert.Equal("60", await seats.InputValueAsync());
        await SnapAsync(page, "my-subscriptions-seats-refused");

        // Escape closes the dialog, nothing sent.
        await page.Keyboard.PressAsync("Escape");
        await page.Locator(".mud-dialog").WaitForAsync(new() { State = WaitForSelectorState.Detached });
        Assert.Equal(5, (await portal.Store.FindAsync(purchase.SubscriptionId))!.Quantity);

        // Typing a count and one click: the click counts (the button followed the keystrokes, no blur needed).
        await card.Locator("[data-testid=change-seats]").ClickAsync();
        seats = page.Locator(".mud-dialog input").First;
        await seats.FillAsync("");
        await seats.PressSequentiallyAsync("7", new() { Delay = 30 });
        await page.Locator(".mud-dialog [data-testid=confirm]").ClickAsync();
        await card.Locator("[data-testid=progress]", new() { HasTextString = "Done" }).WaitForAsync(new() { Timeout = 60_000 });
        Assert.Equal(7, (await portal.Store.FindAsync(purchase.SubscriptionId))!.Quantity);
    });

    [BrowserFact]
    public Task An_invalid_or_expired_link_says_to_go_back_to_the_marketplace() => WithPageAsync(nameof(An_invalid_or_expired_link_says_to_go_back_to_the_marketplace), async page =>
    {
        var purchase = await portal.PurchaseAsync();

        // The emulator's control API cannot expire a token over HTTP; a tampered token gets the same 400 (docs/marketplace.md#landing-token).
        await page.GotoAsync(new Uri(portal.BaseUrl, $"landing?token={Uri.EscapeDataString(purchase.Token + "x")}").ToString());
        await portal.SignInAsAsync(page, "alice");

        var screen = await page.WaitForSelectorAsync("[data-problem=invalid-token]");
        Assert.Contains("Configure account", await screen!.InnerTextAsync());
        await SnapAsync(page, "invalid-token");
    });

    [BrowserFact]
    public Task Opening_the_link_of_an_active_subscription_shows_it_with_a_way_to_my_subscriptions() => WithPageAsync(nameof(Opening_the_link_of_an_active_subscription_shows_it_with_a_way_to_my_subscriptions), async page =>
    {
        var purchase = await portal.PurchaseAsync();
        await page.GotoAsync(purchase.LandingUrl!.ToString());
        await portal.SignInAsAsync(page, "alice");
        await page.ClickAsync("[data-testid=review-continue]");
        await page.ClickAsync("[data-testid=setup-continue]");
        await page.ClickAsync("[data-testid=plan-continue]");
        await page.ClickAsync("[data-testid=activate]");
        await page.WaitForSelectorAsync("[data-testid=activated]", new() { Timeout = 30_000 });

        await page.GotoAsync(purchase.LandingUrl!.ToString());

        var screen = await page.WaitForSelectorAsync("[data-problem=already-active]");
        Assert.NotNull(await screen!.QuerySelectorAsync("a[href='my/subscriptions']"));
        await SnapAsync(page, "already-active");
    });

    [BrowserFact]
    public Task Without_a_token_the_page_explains_where_the_link_comes_from() => WithPageAsync(nameof(Without_a_token_the_page_explains_where_the_link_comes_from), async page =>
    {
        await page.GotoAsync(new Uri(portal.BaseUrl, "landing").ToString());
        await portal.SignInAsAsync(page, "alice");

        await page.WaitForSelectorAsync("[data-problem=no-token]");
        await SnapAsync(page, "no-token");
    });

    /// <summary>A fresh browser context per test (no shared sign-in); a screenshot of whatever was on screen when it failed.</summary>
    private async Task WithPageAsync(string test, Func<IPage, Task> body)
    {
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        try
        {
            await body(page);
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"FAILED-{test}.png"), FullPage = true });
            throw;
        }
    }

    /// <summary>The page at desktop and phone width, for a person to look at (they are not compared automatically).</summary>
    private static async Task SnapAsync(IPage page, string name)
    {
        foreach (var (label, width, height) in Widths)
        {
            await ResizeAsync(page, width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}-{label}.png"), FullPage = true });
        }

        await ResizeAsync(page, Widths[0].Width, Widths[0].Height);
    }

    /// <summary>
    /// Resizes and waits for the portal's layout to answer. The layout answers over the circuit: the navigation drawer closes
    /// below the medium breakpoint and opens again above it, sliding the page sideways. A click sent before that
    /// settles lands where a button was, not where it is (a CI run lost "Save and continue" that way).
    /// </summary>
    private static async Task ResizeAsync(IPage page, int width, int height)
    {
        await page.SetViewportSizeAsync(width, height);
        if (await page.Locator("aside.mud-drawer").CountAsync() == 0)
        {
            return; // not the portal's layout (the emulator's sign-in page)
        }

        await page.Locator(width >= 960 ? "aside.mud-drawer--open" : "aside.mud-drawer--closed").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        // Endless animations (a spinner, an indeterminate progress bar) never finish and move nothing: ignored.
        await page.WaitForFunctionAsync(
            "() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)");
    }
}
