using Dapper;
using Marketplace.Models;
using Microsoft.Extensions.Logging.Abstractions;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Notifications.Demo;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Notifications;

/// <summary>Demo mode's in-process SMTP server, fed by the real sender over MailKit, keeps what it receives in the database.</summary>
public sealed class DemoMailServerTests
{
    [Fact]
    public async Task The_demo_server_keeps_a_sent_mail_and_drops_a_resend_of_the_same_message_id()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = DemoMailPort.PickFree();
        var mailbox = new DemoMailboxStore(db.Database);
        using var server = new DemoMailServer(mailbox, port, db.Time, NullLogger<DemoMailServer>.Instance);
        await server.StartAsync(default);
        try
        {
            var mail = new MailHarness(db, port.Port, o => o.MaxAttempts = 100);
            var id = await mail.BuyAsync(Samples.Subscription());
            await mail.ChangeAsync(new SubscriptionChange(id, EventKinds.Reinstated, EventSources.Marketplace, "test") { Status = SubscriptionStatus.Subscribed });

            await SendWhenListeningAsync(mail);

            var kept = Assert.Single(await mailbox.LatestAsync(10));
            var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
            Assert.Equal(("Contoso analytics is available again", queued.MessageId, "alice@contoso.example"), (kept.Subject, kept.MessageId, kept.Recipients));
            Assert.Contains("portal@publisher.example", kept.MailFrom);

            // The at-least-once window, forced: the server accepted, but "Sent" was never recorded, so the row is sent again.
            await using (var connection = await db.Database.OpenAsync())
            {
                await connection.ExecuteAsync("UPDATE notification_outbox SET state = @pending WHERE id = @id", new { pending = MailStates.Pending, id = queued.Id });
            }

            Assert.Equal(1, await mail.NewSenderInstance().SendDueAsync());
            Assert.Equal(MailStates.Sent, (await mail.Outbox.FindAsync(queued.Id))!.State);
            Assert.Single(await mailbox.LatestAsync(10));
        }
        finally
        {
            await server.StopAsync(default);
        }
    }

    /// <summary>The server binds in the background: the first rounds may find nothing listening and reschedule.</summary>
    private static async Task SendWhenListeningAsync(MailHarness mail)
    {
        var sender = mail.NewSenderInstance();
        for (var i = 0; i < 50; i++)
        {
            await sender.SendDueAsync();
            if ((await mail.Outbox.OpenAsync(1)).Count == 0)
            {
                return;
            }

            mail.Db.Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(50);
        }

        throw new TimeoutException("The demo mail server never accepted the mail.");
    }
}
