using Microsoft.Playwright;
using Xunit.Abstractions;

namespace PublisherPortal.BrowserTests.Console;

/// <summary>
/// The console in a real chromium against a running demo portal (PORTAL_BASE_URL, e.g. http://127.0.0.1:5617/) whose
/// emulator holds an active per-seat subscription. Until the landing branch's PortalFixture is merged these tests use
/// that external portal; without it they are skipped with a message, unless PORTAL_REQUIRE_BROWSER=1.
/// </summary>
public sealed class ConsoleBrowserTests(ITestOutputHelper output)
{
    private static readonly string? BaseUrl = Environment.GetEnvironmentVariable("PORTAL_BASE_URL");
    private static readonly string ScreenshotFolder =
        Environment.GetEnvironmentVariable("CONSOLE_SCREENSHOTS") ?? Path.Combine(Path.GetTempPath(), "console-screenshots");

    private static readonly string[] Pages =
        ["console/subscriptions", "console/plans", "console/suspensions", "console/operations", "console/webhooks"];

    [Theory]
    [InlineData(1366, 900, "desktop")]
    [InlineData(390, 844, "phone")]
    public async Task Every_console_page_renders_without_an_error_and_fits_the_screen(int width, int height, string name)
    {
        if (!Available(out var skip))
        {
            // xunit 2 has no dynamic skip: say why in the output and stop.
            output.WriteLine("Skipped: " + skip);
            return;
        }

        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        await SignInAsync(page, "olivia", Pages[0]);

        foreach (var path in Pages)
        {
            await page.GotoAsync(BaseUrl!.TrimEnd('/') + "/" + path);
            await page.WaitForSelectorAsync("h1");
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot($"{name}-{path.Replace('/', '-')}"), FullPage = true });

            Assert.Equal(0, await page.Locator("[data-testid=error]").CountAsync());
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 1, $"{path} is {overflow}px wider than a {width}px screen");
        }
    }

    [Fact]
    public async Task An_operator_changes_seats_and_sees_the_operation_finish()
    {
        if (!Available(out var skip))
        {
            // xunit 2 has no dynamic skip: say why in the output and stop.
            output.WriteLine("Skipped: " + skip);
            return;
        }

        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        await SignInAsync(page, "olivia", "console/subscriptions?status=Subscribed&plan=team");

        // Whatever the portal heard so far, the marketplace's list is the truth: bring every subscription in first.
        await page.Locator("[data-testid=reconcile-all]").ClickAsync();
        await page.Locator("[data-testid=action-answer]").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await page.Locator("[data-testid=subscriptions-grid] tbody tr a").First.WaitForAsync();
        await page.Locator("[data-testid=subscriptions-grid] tbody tr a").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=change-seats]");
        await WaitForInteractiveAsync(page);

        var seats = page.Locator("input[data-testid=seats-input]");
        var current = int.Parse(await seats.InputValueAsync(), System.Globalization.CultureInfo.InvariantCulture);
        await seats.FillAsync((current + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await seats.BlurAsync();
        await page.Locator("[data-testid=change-seats]").ClickAsync();

        var progress = page.Locator("[data-testid=operation-progress][data-status=Succeeded]");
        await progress.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Shot("seats-changed"), FullPage = true });
        Assert.Contains($"{current + 1} seats", await progress.TextContentAsync() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Finance_reads_a_subscription_without_any_change_control()
    {
        if (!Available(out var skip))
        {
            // xunit 2 has no dynamic skip: say why in the output and stop.
            output.WriteLine("Skipped: " + skip);
            return;
        }

        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        await SignInAsync(page, "finn", "console/subscriptions");
        await page.Locator("[data-testid=subscriptions-grid] tbody tr a").First.ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=marketplace-facts]");

        Assert.Equal(0, await page.Locator("[data-testid=operator-actions]").CountAsync());
    }

    private static bool Available(out string reason)
    {
        var required = Environment.GetEnvironmentVariable("PORTAL_REQUIRE_BROWSER") == "1";
        reason = !File.Exists("/usr/bin/chromium") ? "chromium is not installed at /usr/bin/chromium"
            : BaseUrl is null ? "PORTAL_BASE_URL is not set: start the portal in demo mode with an active subscription and set it"
            : "";
        if (reason.Length > 0 && required)
        {
            throw new InvalidOperationException($"PORTAL_REQUIRE_BROWSER=1 but {reason}.");
        }

        return reason.Length == 0;
    }

    private static async Task<IBrowser> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>Opens a protected page, which sends us to the emulator's demo sign-in, and picks the identity.</summary>
    private static async Task SignInAsync(IPage page, string identity, string path)
    {
        await page.GotoAsync(BaseUrl!.TrimEnd('/') + "/" + path);
        await page.Locator($"[data-identity={identity}]").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(BaseUrl!.TrimEnd('/'), StringComparison.Ordinal) && !url.Contains("signin", StringComparison.Ordinal));
        await WaitForInteractiveAsync(page);
    }

    // The page is prerendered and then becomes interactive over the circuit; a click before that is lost.
    private static async Task WaitForInteractiveAsync(IPage page)
    {
        await page.WaitForSelectorAsync("h1");
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        await page.WaitForTimeoutAsync(1500);
    }

    private static string Shot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        return Path.Combine(ScreenshotFolder, name + ".png");
    }
}
