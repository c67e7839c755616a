using Dapper;
using Microsoft.Playwright;
using PublisherPortal.Finance;

namespace PublisherPortal.BrowserTests.Finance;

/// <summary>Finn filters the history and downloads it, in chromium against the shared demo portal.</summary>
[Collection(PortalCollection.Name)]
public sealed class FinanceExportBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    [BrowserFact]
    public Task Finn_filters_the_history_and_downloads_exactly_those_rows_as_csv() =>
        browser.WithPageAsync(nameof(Finn_filters_the_history_and_downloads_exactly_those_rows_as_csv), async page =>
        {
            var marker = "Browser export " + Guid.NewGuid().ToString("N")[..8];
            var mine = await portal.RecordResolvedAsync(marker, "insights-saas", "team", 5);
            await portal.RecordResolvedAsync(marker + " other offer", "backup-saas", "basic", null);

            await portal.OpenAsAsync(page, "finn", $"finance/history?subscription={mine}");
            await page.Locator("[data-test=history-grid]").GetByText(marker).First.WaitForAsync();

            var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-history]"));
            var lines = (await File.ReadAllTextAsync(await download.PathAsync())).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

            Assert.StartsWith("subscription-history-", download.SuggestedFilename);
            Assert.Equal(string.Join(',', FinanceCsvExport.HistoryHeader), lines[0]);
            var row = Assert.Single(lines[1..]);
            Assert.Contains(mine.ToString("D"), row);
            Assert.Contains(",Resolved,", row);
            await using var connection = await portal.Database.OpenAsync();
            var audited = await connection.QueryAsync<string>(
                "SELECT detail FROM audit_log WHERE actor = 'finn@publisher.example' AND action = 'FinanceHistoryExport'");
            Assert.Contains($"filters: subscription={mine}; rows: 1", audited);
            await ScreenshotsAsync(page, "finance-history");
        });

    [BrowserFact]
    public Task Finn_downloads_the_point_in_time_view() =>
        browser.WithPageAsync(nameof(Finn_downloads_the_point_in_time_view), async page =>
        {
            var marker = "Point in time " + Guid.NewGuid().ToString("N")[..8];
            var id = await portal.RecordResolvedAsync(marker, "insights-saas", "business", 12);

            await portal.OpenAsAsync(page, "finn", $"finance/point-in-time?subscription={id}");
            await page.Locator("[data-test=point-in-time-grid]").GetByText(marker).First.WaitForAsync();

            var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-point-in-time]"));
            var lines = (await File.ReadAllTextAsync(await download.PathAsync())).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

            Assert.Equal(string.Join(',', FinanceCsvExport.PointInTimeHeader), lines[0]);
            Assert.Contains($"{id:D},{marker},insights-saas,PendingFulfillmentStart,business,12,", Assert.Single(lines[1..]));
            await ScreenshotsAsync(page, "finance-point-in-time");
            await page.GotoAsync(new Uri(portal.BaseUrl, "finance/summary").ToString());
            await page.Locator("[data-test=summary-table], [data-test=summary-empty]").First.WaitForAsync();
            await ScreenshotsAsync(page, "finance-summary");
        });

    /// <summary>How the page looks at desktop and phone width, for a person to review (not compared automatically).</summary>
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
