using PublisherPortal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Bunit;
using PublisherPortal.Demo;
using PublisherPortal.Notifications.Demo;

namespace PublisherPortal.Tests.Notifications;

/// <summary>The demo mailbox: empty, full, one mail read.</summary>
public sealed class MailboxPageTests : NotificationPagesContext
{
    private Task KeepAsync(string subject, DateTimeOffset at, string messageId) =>
        Services.GetRequiredService<DemoMailboxStore>().KeepAsync(new ReceivedMail
        {
            ReceivedAt = at,
            MessageId = messageId,
            MailFrom = "\"Contoso Portal\" <portal@publisher.example>",
            Recipients = "alice@contoso.example",
            Subject = subject,
            Body = $"Body of {subject}",
        });

    [Fact]
    public void An_empty_mailbox_says_where_mails_come_from()
    {
        SignInAsOperator();

        var cut = RenderPage<MailboxPage>();

        cut.WaitForAssertion(() => Assert.Contains("No mail yet", cut.Find("[data-testid=mailbox-empty]").TextContent));
    }

    [Fact]
    public async Task A_full_mailbox_lists_the_newest_first_and_shows_the_newest_mail_with_its_message_id()
    {
        SignInAsOperator();
        var at = Db.Time.GetUtcNow();
        await KeepAsync("Contoso analytics is active", at, "first@publisher.example");
        await KeepAsync("Contoso analytics now has 15 seats", at.AddMinutes(1), "second@publisher.example");

        var cut = RenderPage<MailboxPage>();

        cut.WaitForAssertion(() => Assert.Equal(2, cut.FindAll("[data-testid=mail-item]").Count));
        Assert.Contains("now has 15 seats", cut.FindAll("[data-testid=mail-item]")[0].TextContent);
        Assert.Equal("Contoso analytics now has 15 seats", cut.Find("[data-testid=mail-subject]").TextContent.Trim());
        Assert.Equal("<second@publisher.example>", cut.Find("[data-testid=mail-message-id]").TextContent);
        Assert.Contains("alice@contoso.example", cut.Find("[data-testid=mail-to]").TextContent);

        await cut.ClickAsync("[data-testid=mail-item]", index: 1);

        cut.WaitForAssertion(() => Assert.Equal("Contoso analytics is active", cut.Find("[data-testid=mail-subject]").TextContent.Trim()));
        Assert.Equal("Body of Contoso analytics is active", cut.Find("[data-testid=mail-body]").TextContent.Trim());
    }

    [Fact]
    public async Task The_same_message_id_is_kept_once()
    {
        var at = Db.Time.GetUtcNow();
        await KeepAsync("Contoso analytics is active", at, "same@publisher.example");
        await KeepAsync("Contoso analytics is active", at.AddSeconds(5), "same@publisher.example");

        Assert.Single(await Services.GetRequiredService<DemoMailboxStore>().LatestAsync(10));
    }
}

/// <summary>In real mode the mailbox page says it is a demo feature instead of showing an empty box.</summary>
public sealed class MailboxPageRealModeTests : NotificationPagesContext
{
    public MailboxPageRealModeTests() => Mode = PortalMode.Real;

    [Fact]
    public void In_real_mode_the_page_says_it_is_demo_only()
    {
        SignInAsOperator();

        var cut = RenderPage<MailboxPage>();

        Assert.Contains("demo mode only", cut.Find("[data-testid=demo-only]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=mail-list]"));
    }
}
