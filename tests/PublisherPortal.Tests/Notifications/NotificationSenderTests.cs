using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Notifications;

/// <summary>
/// The sender against a real SMTP server on loopback (SmtpServer package) and MailKit: what arrives, and that a mail is
/// sent exactly once across crashes, racing instances and restarts.
/// </summary>
public sealed class NotificationSenderTests
{
    private static async Task<Guid> SuspendAsync(MailHarness mail)
    {
        var id = await mail.BuyAsync(Samples.Subscription());
        await mail.ChangeAsync(new SubscriptionChange(id, EventKinds.Suspended, EventSources.Marketplace, "test")
        {
            Status = SubscriptionStatus.Suspended,
            AccessEnabled = false,
        });
        return id;
    }

    [Fact]
    public async Task A_queued_mail_arrives_with_its_subject_body_recipients_and_message_id()
    {
        await using var smtp = await LoopbackSmtp.StartAsync();
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, smtp.Port);
        var id = await SuspendAsync(mail);

        Assert.Equal(1, await mail.NewSenderInstance().SendDueAsync());

        var queued = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        var received = Assert.Single(smtp.Received);
        Assert.Equal("Contoso analytics is suspended", received.Subject);
        Assert.Contains("Access to Contoso analytics is suspended", received.TextBody);
        Assert.Equal(["alice@contoso.example"], received.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("portal@publisher.example", received.From.Mailboxes.Single().Address);
        Assert.Equal(queued.MessageId, received.MessageId);
        Assert.Equal("Suspended", received.Headers["X-Portal-Notification"]);
        Assert.Equal((MailStates.Sent, 1), (queued.State, queued.Attempts));
    }

    [Fact]
    public async Task A_change_committed_before_a_crash_is_sent_exactly_once_by_the_instances_that_come_after()
    {
        await using var smtp = await LoopbackSmtp.StartAsync();
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, smtp.Port);

        // The change commits with its mail; the process "dies" before any sender ran.
        var id = await SuspendAsync(mail);
        Assert.Empty(smtp.Received);

        // Two instances come up and race for the outbox.
        var first = mail.NewSenderInstance();
        var second = mail.NewSenderInstance();
        var claimed = await Task.WhenAll(first.SendDueAsync(), second.SendDueAsync());

        Assert.Equal(1, claimed.Sum());
        Assert.Single(smtp.Received);

        // A restart later: nothing marked Sent goes out again.
        Assert.Equal(0, await mail.NewSenderInstance().SendDueAsync());
        db.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await mail.NewSenderInstance().SendDueAsync());
        Assert.Single(smtp.Received);
        Assert.Equal(MailStates.Sent, Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).State);
    }

    [Fact]
    public async Task A_mail_whose_sender_died_mid_send_is_taken_over_after_the_lease_with_the_same_message_id()
    {
        await using var smtp = await LoopbackSmtp.StartAsync();
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, smtp.Port);
        var id = await SuspendAsync(mail);

        // An instance claims the mail and dies before finishing: the row stays Sending under its lease.
        var now = db.Time.GetUtcNow();
        var dead = Assert.Single(await mail.Outbox.ClaimDueAsync("dead-instance", now, now + mail.Options.Value.LeaseDuration, 10, default));
        Assert.Equal(0, await mail.NewSenderInstance().SendDueAsync());

        db.Time.Advance(mail.Options.Value.LeaseDuration + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await mail.NewSenderInstance().SendDueAsync());

        var received = Assert.Single(smtp.Received);
        Assert.Equal(dead.MessageId, received.MessageId);
        Assert.Equal(MailStates.Sent, Assert.Single(await mail.Outbox.ForSubscriptionAsync(id)).State);
        // The dead instance's late word does not count once the row moved on.
        Assert.False(await mail.Outbox.MarkSentAsync(dead.Id, "dead-instance", db.Time.GetUtcNow(), default));
    }

    [Fact]
    public async Task An_unreachable_server_is_retried_with_backoff_then_the_mail_fails_and_an_operator_can_send_it_again()
    {
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, LoopbackSmtp.FreePort());
        var id = await SuspendAsync(mail);
        var sender = mail.NewSenderInstance();

        await sender.SendDueAsync();
        var afterFirst = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal((MailStates.Pending, 1), (afterFirst.State, afterFirst.Attempts));
        Assert.InRange(afterFirst.NextAttemptAt - db.Time.GetUtcNow(), TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.2));
        Assert.Equal(0, await sender.SendDueAsync());

        db.Time.Advance(TimeSpan.FromSeconds(2));
        await sender.SendDueAsync();
        db.Time.Advance(TimeSpan.FromSeconds(5));
        await sender.SendDueAsync();

        var failed = Assert.Single(await mail.Outbox.OpenAsync(10));
        Assert.Equal((MailStates.Failed, 3), (failed.State, failed.Attempts));
        Assert.Contains("SocketException", failed.LastError);

        // The relay is back: an operator's "send again" delivers it.
        await using var smtp = await LoopbackSmtp.StartAsync();
        var repaired = new MailHarness(db, smtp.Port);
        var afterRepair = repaired.NewSenderInstance();
        Assert.Equal(SendAgainResult.Queued, await afterRepair.SendAgainAsync(failed.Id));
        Assert.Equal(1, await afterRepair.SendDueAsync());

        Assert.Single(smtp.Received);
        Assert.Empty(await mail.Outbox.OpenAsync(10));
        Assert.Equal(SendAgainResult.AlreadySent, await afterRepair.SendAgainAsync(failed.Id));
        Assert.Equal(SendAgainResult.NotFound, await afterRepair.SendAgainAsync(999_999));
    }

    [Fact]
    public async Task A_recipient_the_server_refuses_for_good_fails_at_once()
    {
        await using var smtp = await LoopbackSmtp.StartAsync();
        await using var db = await TestDatabase.CreateAsync();
        var mail = new MailHarness(db, smtp.Port);
        var id = await mail.BuyAsync(Samples.Subscription() with
        {
            Beneficiary = new Party { EmailId = $"nobody@{LoopbackSmtp.RejectedDomain}", TenantId = "11111111-1111-1111-1111-111111111111" },
            Purchaser = new Party { EmailId = $"nobody@{LoopbackSmtp.RejectedDomain}", TenantId = "11111111-1111-1111-1111-111111111111" },
        });
        await mail.ChangeAsync(new SubscriptionChange(id, EventKinds.Reinstated, EventSources.Marketplace, "test") { Status = SubscriptionStatus.Subscribed });

        await mail.NewSenderInstance().SendDueAsync();

        var failed = Assert.Single(await mail.Outbox.ForSubscriptionAsync(id));
        Assert.Equal((MailStates.Failed, 1), (failed.State, failed.Attempts));
        Assert.Contains("SMTP 550", failed.LastError);
        Assert.Empty(smtp.Received);
    }
}
