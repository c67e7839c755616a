using Dapper;
using Microsoft.Playwright;

namespace PublisherPortal.BrowserTests.Notifications;

/// <summary>
/// Demo mode end to end: a customer opens the marketplace link, the portal queues the operators' "new purchase" mail with
/// the Resolved event, sends it over SMTP to its in-process server, and Olivia reads it on /mailbox.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class MailboxBrowserTests(PortalFixture portal, BrowserFixture browser)
{
    private sealed record KeptMail(string Subject, string MessageId, string Recipients);

    [BrowserFact]
    public async Task Olivia_reads_the_new_purchase_mail_in_the_demo_mailbox()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1366, Height = 900 } });
        var page = await context.NewPageAsync();
        try
        {
            var purchase = await portal.PurchaseAsync("team", 5);
            await page.GotoAsync(purchase.LandingUrl!.ToString());
            await portal.SignInAsAsync(page, "alice");
            await page.WaitForSelectorAsync("[data-testid=wizard]");

            var kept = await WaitForMailAboutAsync(purchase.SubscriptionId);
            Assert.StartsWith("New purchase:", kept.Subject);
            Assert.Contains("olivia@publisher.example", kept.Recipients);

            await context.ClearCookiesAsync();
            await portal.OpenAsAsync(page, "olivia", "/mailbox");
            var item = page.Locator("[data-testid=mail-item]", new() { HasText = kept.Subject }).First;
            await item.WaitForAsync(new() { Timeout = 30_000 });
            await item.ClickAsync();

            await Assertions.Expect(page.Locator("[data-testid=mail-message-id]")).ToHaveTextAsync($"<{kept.MessageId}>");
            Assert.Contains(purchase.SubscriptionId.ToString(), await page.Locator("[data-testid=mail-body]").InnerTextAsync());
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "mailbox-desktop.png"), FullPage = true });
        }
        catch
        {
            await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "mailbox-failure.png"), FullPage = true });
            throw;
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    /// <summary>The sender wakes when the mail is queued, or within its one-second poll; a loaded CI machine gets more room.</summary>
    private async Task<KeptMail> WaitForMailAboutAsync(Guid subscriptionId)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (DateTimeOffset.UtcNow < deadline)
        {
            await using var connection = await portal.Database.OpenAsync();
            var kept = await connection.QueryFirstOrDefaultAsync<KeptMail>(
                "SELECT subject AS Subject, message_id AS MessageId, recipients AS Recipients FROM demo_mailbox WHERE body LIKE @about",
                new { about = $"%{subscriptionId}%" });
            if (kept is not null)
            {
                return kept;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"No mail about {subscriptionId} reached the demo mailbox.");
    }
}
