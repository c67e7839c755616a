using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests.Security;

/// <summary>
/// The pages work under the Content-Security-Policy (Security/SecurityHeaders.cs): each role opens its main pages,
/// each becomes interactive over the circuit's WebSocket, and the browser reports no CSP violation at all — neither
/// on the console nor as a securitypolicyviolation event. Every page shows the demo marker.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class SecurityBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    [BrowserFact]
    public Task A_customer_buys_and_sets_up_under_the_policy_with_no_violation_and_the_demo_marker_on_every_page() =>
        WithViolationWatchAsync(nameof(A_customer_buys_and_sets_up_under_the_policy_with_no_violation_and_the_demo_marker_on_every_page), async (page, violations) =>
        {
            var purchase = await portal.PurchaseAsync("team", 3);
            await page.GotoAsync(purchase.LandingUrl!.ToString());
            await portal.SignInAsAsync(page, "alice");
            await page.Locator("[data-testid=wizard], [data-testid=landing-problem], form").First.WaitForAsync();
            await AssertDemoMarkerAsync(page, "landing");

            await VisitAsync(page, ["", "my/subscriptions"]);
            Assert.Empty(violations);
        });

    [BrowserFact]
    public Task An_operator_an_admin_and_finance_open_their_pages_under_the_policy_with_no_violation() =>
        WithViolationWatchAsync(nameof(An_operator_an_admin_and_finance_open_their_pages_under_the_policy_with_no_violation), async (page, violations) =>
        {
            await portal.OpenAsAsync(page, "ada", "console/subscriptions");
            await VisitAsync(page,
            [
                "console/subscriptions", "console/plans", "console/suspensions", "console/operations", "console/webhooks",
                "console/approvals", "console/metering", "console/notifications", "health", "mailbox",
                "admin/offers", "admin/notifications",
            ]);
            // A dialog is MudBlazor's popover and overlay machinery, inline styles and all.
            await page.GotoAsync(Url("console/subscriptions"));
            await PortalFixture.WaitForInteractiveAsync(page);
            await page.Locator(".mud-appbar button[aria-label=Menu]").ClickAsync();
            Assert.Empty(violations);
        });

    [BrowserFact]
    public Task Finance_opens_its_pages_under_the_policy_with_no_violation() =>
        WithViolationWatchAsync(nameof(Finance_opens_its_pages_under_the_policy_with_no_violation), async (page, violations) =>
        {
            await portal.OpenAsAsync(page, "finn", "finance/history");
            await VisitAsync(page, ["finance/history", "finance/summary", "finance/point-in-time"]);
            Assert.Empty(violations);
        });

    [BrowserFact]
    public Task The_demo_marker_and_the_error_page_read_at_desktop_and_phone_width() =>
        WithViolationWatchAsync(nameof(The_demo_marker_and_the_error_page_read_at_desktop_and_phone_width), async (page, violations) =>
        {
            await page.GotoAsync(Url(""));
            await PortalFixture.WaitForInteractiveAsync(page);
            foreach (var (label, width) in new[] { ("desktop", 1366), ("phone", 390) })
            {
                await page.SetViewportSizeAsync(width, 844);
                await page.ScreenshotAsync(new() { Path = Shot($"demo-marker-home-{label}") });
                Assert.True(await page.Locator("[data-testid=demo-marker]").IsVisibleAsync(), $"no visible demo marker at {width}px");
            }

            await page.GotoAsync(Url("error"));
            await page.Locator("[data-testid=error-page]").WaitForAsync();
            foreach (var (label, width) in new[] { ("desktop", 1366), ("phone", 390) })
            {
                await page.SetViewportSizeAsync(width, 844);
                await page.ScreenshotAsync(new() { Path = Shot($"error-page-{label}"), FullPage = true });
                Assert.True(await page.Locator("[data-testid=demo-marker]").IsVisibleAsync(), $"no demo marker on the error page at {width}px");
                var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
                Assert.True(overflow <= 1, $"the error page is {overflow}px wider than a {width}px screen");
            }

            Assert.Empty(violations);
        });

    private async Task VisitAsync(IPage page, IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            await page.GotoAsync(Url(path));
            // Interactive means the circuit's WebSocket connected under connect-src.
            await PortalFixture.WaitForInteractiveAsync(page);
            await AssertDemoMarkerAsync(page, path);
        }
    }

    private static async Task AssertDemoMarkerAsync(IPage page, string path) =>
        Assert.True(await page.Locator("[data-testid=demo-marker]").IsVisibleAsync(), $"no demo marker on /{path}");

    /// <summary>Runs <paramref name="body"/> with every CSP violation the browser reports collected, by console and by event.</summary>
    private Task WithViolationWatchAsync(string test, Func<IPage, ConcurrentQueue<string>, Task> body) =>
        browser.WithPageAsync(test, async page =>
        {
            var violations = new ConcurrentQueue<string>();
            page.Console += (_, message) =>
            {
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                {
                    violations.Enqueue($"{page.Url}: {message.Text}");
                }
            };
            await page.ExposeFunctionAsync("reportCspViolation", (string report) => violations.Enqueue(report));
            await page.AddInitScriptAsync("""
                document.addEventListener('securitypolicyviolation', e =>
                    window.reportCspViolation(`${document.location.pathname}: ${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
                """);
            await body(page, violations);
            await ProveTheWatchSeesAViolationAsync(page, violations);
        }, width: 1366);

    /// <summary>
    /// After the body found none: an image from another origin, blocked by img-src, must be reported, or an empty list
    /// would prove nothing.
    /// </summary>
    private static async Task ProveTheWatchSeesAViolationAsync(IPage page, ConcurrentQueue<string> violations)
    {
        Assert.Empty(violations);
        await page.EvaluateAsync("() => { const i = document.createElement('img'); i.src = 'http://203.0.113.9/csp-probe.png'; document.body.appendChild(i); }");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!violations.Any(v => v.Contains("csp-probe", StringComparison.Ordinal) || v.Contains("img-src", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await page.WaitForTimeoutAsync(100);
        }

        Assert.Contains(violations, v => v.Contains("img-src", StringComparison.Ordinal));
    }

    private string Url(string path) => new Uri(portal.BaseUrl, path).ToString();

    private static string Shot(string name) => Path.Combine(BrowserFixture.ScreenshotFolder, name + ".png");
}
