using Marketplace.Emulator;
using Microsoft.Playwright;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Revenue;

namespace PublisherPortal.BrowserTests.Finance;

/// <summary>
/// Finn reads the revenue page over the demo's eighteen months of history. The history goes into a portal of its own
/// (a few hundred subscriptions would crowd the shared portal the other browser tests count on).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class RevenueBrowserTests(BrowserFixture browser)
{
    [BrowserFact]
    public async Task Finn_reads_revenue_and_opens_the_subscriptions_behind_a_figure()
    {
        var portal = new PortalFixture();
        await portal.InitializeAsync();
        try
        {
            await using (var connection = await portal.Database.OpenAsync())
            await using (var tx = await portal.Database.BeginWriteAsync(connection))
            {
                foreach (var offer in EmulatorCatalogue.CreateDefault())
                {
                    await new PlanStore(TimeProvider.System).UpsertAsync(offer.OfferId, [.. offer.Plans], connection, tx, default);
                }

                await tx.CommitAsync();
            }

            await RevenueDemoHistory.WriteAsync(portal.Database, TimeProvider.System, default);

            await browser.WithPageAsync(nameof(Finn_reads_revenue_and_opens_the_subscriptions_behind_a_figure), async page =>
            {
                await portal.OpenAsAsync(page, "finn", "finance/revenue");
                await page.Locator("[data-test=revenue-USD] [data-test=movements-table]").WaitForAsync();
                Assert.True(await page.Locator("[data-test=revenue-EUR]").IsVisibleAsync());
                await ScreenshotsAsync(page, "finance-revenue");

                // The first New figure of the dollar table opens the subscriptions behind it, and they add up to it.
                var link = page.Locator("[data-test=revenue-USD] a[data-test$='-New']").First;
                var figure = (await link.InnerTextAsync()).Trim();
                await link.ClickAsync();
                var drill = page.Locator("[data-test=revenue-drill-down]");
                await drill.WaitForAsync();
                Assert.Contains(figure, await drill.Locator("h2").InnerTextAsync());
                Assert.Contains("(history)", await drill.InnerTextAsync());
                await ScreenshotsAsync(page, "finance-revenue-drill-down");
            });
        }
        finally
        {
            await portal.DisposeAsync();
        }
    }

    private static async Task ScreenshotsAsync(IPage page, string name)
    {
        foreach (var (label, width, height) in new[] { ("desktop", 1366, 900), ("phone", 390, 844) })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}-{label}.png"), FullPage = true });
        }

        await page.SetViewportSizeAsync(1366, 900);
    }
}
