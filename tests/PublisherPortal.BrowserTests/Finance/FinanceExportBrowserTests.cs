using Dapper;
using Microsoft.Playwright;
using PublisherPortal.Finance;

namespace PublisherPortal.BrowserTests.Finance;

public sealed class FinanceExportBrowserTests(FinancePortalFixture portal) : IClassFixture<FinancePortalFixture>
{
    [FinanceBrowserFact]
    public async Task Finn_filters_the_history_and_downloads_exactly_those_rows_as_csv()
    {
        var marker = "Browser export " + Guid.NewGuid().ToString("N")[..8];
        var mine = await portal.ResolveAsync(marker, "insights-saas", "team", 5);
        await portal.ResolveAsync(marker + " other offer", "backup-saas", "basic", null);
        var page = await NewPageAsync(1366, 900);
        try
        {
            await portal.SignInAsAsync(page, "finn", $"/finance/history?subscription={mine}");
            await page.Locator("[data-test=history-grid]").GetByText(marker).First.WaitForAsync();

            var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-history]"));
            var file = Path.Combine(Path.GetTempPath(), $"finance-{Guid.NewGuid():N}.csv");
            await download.SaveAsAsync(file);
            var lines = await File.ReadAllLinesAsync(file);
            File.Delete(file);

            Assert.StartsWith("subscription-history-", download.SuggestedFilename);
            Assert.Equal(string.Join(',', FinanceCsvExport.HistoryHeader), lines[0]);
            var row = Assert.Single(lines[1..]);
            Assert.Contains(mine.ToString("D"), row);
            Assert.Contains(",Resolved,", row);
            await using var connection = await portal.Database.OpenAsync();
            var audited = await connection.QueryAsync<string>(
                "SELECT detail FROM audit_log WHERE actor = 'finn@publisher.example' AND action = 'FinanceHistoryExport'");
            Assert.Contains($"filters: subscription={mine}; rows: 1", audited);
            await ScreenshotsAsync(page, "history");
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = FailurePath(nameof(Finn_filters_the_history_and_downloads_exactly_those_rows_as_csv)), FullPage = true });
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    [FinanceBrowserFact]
    public async Task Finn_downloads_the_point_in_time_view()
    {
        var marker = "Point in time " + Guid.NewGuid().ToString("N")[..8];
        var id = await portal.ResolveAsync(marker, "insights-saas", "business", 12);
        var page = await NewPageAsync(1366, 900);
        try
        {
            await portal.SignInAsAsync(page, "finn", $"/finance/point-in-time?subscription={id}");
            await page.Locator("[data-test=point-in-time-grid]").GetByText(marker).First.WaitForAsync();

            var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("[data-test=export-point-in-time]"));
            var text = await File.ReadAllTextAsync(await download.PathAsync());

            var lines = text.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            Assert.Equal(string.Join(',', FinanceCsvExport.PointInTimeHeader), lines[0]);
            Assert.Contains($"{id:D},{marker},insights-saas,PendingFulfillmentStart,business,12,", Assert.Single(lines[1..]));
            await ScreenshotsAsync(page, "point-in-time");
            await page.GotoAsync(portal.BaseUrl + "/finance/summary");
            await page.Locator("[data-test=summary-table], [data-test=summary-empty]").First.WaitForAsync();
            await ScreenshotsAsync(page, "summary");
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = FailurePath(nameof(Finn_downloads_the_point_in_time_view)), FullPage = true });
            throw;
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    private async Task<IPage> NewPageAsync(int width, int height)
    {
        var context = await portal.Browser.NewContextAsync(new() { AcceptDownloads = true, ViewportSize = new() { Width = width, Height = height } });
        return await context.NewPageAsync();
    }

    /// <summary>With FINANCE_SCREENSHOTS=folder, keeps how the page looks at desktop and phone width for a person to review.</summary>
    private static async Task ScreenshotsAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("FINANCE_SCREENSHOTS");
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        await page.SetViewportSizeAsync(1366, 900);
        await page.WaitForTimeoutAsync(500);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}-desktop.png"), FullPage = true });
        await page.SetViewportSizeAsync(390, 844);
        await page.WaitForTimeoutAsync(500);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{name}-phone.png"), FullPage = true });
        await page.SetViewportSizeAsync(1366, 900);
    }

    private static string FailurePath(string test)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{test}.png");
    }
}
