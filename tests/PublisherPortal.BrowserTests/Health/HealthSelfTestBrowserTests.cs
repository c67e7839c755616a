using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests.Health;

/// <summary>
/// Olivia runs the self-test in demo mode: the in-process emulator sends a signed test delivery to the portal's own
/// webhook, and the page reports it validated, stored as a test and not applied.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class HealthSelfTestBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    [BrowserFact]
    public async Task Olivia_runs_the_self_test_and_sees_the_test_delivery_pass_end_to_end()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        try
        {
            await page.GotoAsync(new Uri(portal.BaseUrl, "account/signin?returnUrl=/health").ToString());
            await portal.SignInAsAsync(page, "olivia");
            await page.Locator("[data-test=check-webhooks]").WaitForAsync();

            await page.ClickAsync("[data-test=self-test]");
            var result = page.Locator("[data-test=self-test-result]");
            await result.WaitForAsync(new() { Timeout = 60_000 });

            Assert.Equal("Healthy", await result.GetAttributeAsync("data-state"));
            var text = await result.InnerTextAsync();
            Assert.Contains("answered 200", text);
            Assert.Contains("marked as a test", text);
            Assert.Contains("self-test delivery: validated and stored, never applied", text);
            Assert.NotEqual("Unknown", await page.Locator("[data-test=check-marketplace-token]").GetAttributeAsync("data-state"));

            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "health-desktop.png"), FullPage = true });
            await page.SetViewportSizeAsync(390, 844);
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "health-phone.png"), FullPage = true });
            var overflow = await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth + 1");
            Assert.False(overflow, "The health page scrolls sideways on a phone.");
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "health-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await context.CloseAsync();
        }
    }
}
