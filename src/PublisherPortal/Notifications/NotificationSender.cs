using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Notifications;

/// <summary>Wakes this instance's sender when a mail was queued here; other instances' mails arrive with the poll interval.</summary>
public sealed class OutboxSignal
{
    private readonly WorkSignal _signal = new();

    public void Notify() => _signal.Notify();

    public WorkSignal Signal => _signal;
}

/// <summary>
/// Sends the outbox over SMTP with MailKit. Rows are claimed under a lease (SKIP LOCKED on PostgreSQL), so several
/// instances never send the same row at the same time; a failed attempt backs off and is retried, and after
/// <see cref="NotificationOptions.MaxAttempts"/> the mail is Failed and waits on /console/notifications for an operator.
/// <para>
/// The one window that is inherently at-least-once: the SMTP server accepted the message (250 after DATA) and this
/// process died before <see cref="MailOutbox.MarkSentAsync"/> committed. The row is still Sending; when its lease runs
/// out another instance (or this one, restarted) sends it again. No protocol closes that gap — SMTP has no two-phase
/// commit — so the mail carries a Message-ID chosen when it was queued and identical on every attempt: mail stores and
/// clients that de-duplicate by Message-ID (the demo mailbox does) drop the second copy. Once Sent is committed, a
/// restart sends nothing again.
/// </para>
/// </summary>
public sealed partial class NotificationSender(
    MailOutbox outbox,
    OutboxSignal signal,
    WorkerIdentity worker,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationSender> logger) : BackgroundService
{
    private NotificationOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Settings.RunSender)
        {
            return;
        }

        if (!Settings.Smtp.IsConfigured)
        {
            // Mails still queue (nothing is lost); they go out once an SMTP host is configured and the portal restarts.
            Log.NotConfigured(logger);
            return;
        }

        await signal.Signal.RunRoundsAsync(SendDueAsync, e => Log.RoundFailed(logger, e), Settings.PollInterval, time, stoppingToken);
    }

    /// <summary>An operator's "send again" for a Failed (or waiting) mail.</summary>
    public async Task<SendAgainResult> SendAgainAsync(long id, CancellationToken ct = default)
    {
        var result = await outbox.SendAgainAsync(id, time.GetUtcNow(), ct);
        if (result == SendAgainResult.Queued)
        {
            signal.Notify();
        }

        return result;
    }

    /// <summary>One round: claims due mails and sends them over one SMTP connection. Returns how many were claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var claimed = await outbox.ClaimDueAsync(worker.Id, now, now + Settings.LeaseDuration, Settings.BatchSize, ct);
        if (claimed.Count == 0)
        {
            return 0;
        }

        var smtp = new SmtpClient { Timeout = (int)Settings.Smtp.Timeout.TotalMilliseconds };
        try
        {
            foreach (var mail in claimed)
            {
                smtp = await SendOneAsync(smtp, mail, ct);
            }
        }
        finally
        {
            if (smtp.IsConnected)
            {
                try
                {
                    await smtp.DisconnectAsync(quit: true, ct);
                }
                catch (Exception e) when (e is IOException or MailKit.ProtocolException or OperationCanceledException)
                {
                    // Every mail of the round is already recorded; a rude goodbye changes nothing.
                }
            }

            smtp.Dispose();
        }

        return claimed.Count;
    }

    /// <summary>Sends one mail and records the outcome. Returns the client to use for the next mail (a fresh one after a broken connection).</summary>
    private async Task<SmtpClient> SendOneAsync(SmtpClient smtp, OutboxMail mail, CancellationToken ct)
    {
        try
        {
            await EnsureConnectedAsync(smtp, ct);
            await smtp.SendAsync(ToMessage(mail), ct);
        }
        catch (SmtpCommandException e) when (!ct.IsCancellationRequested)
        {
            // The server answered: a 5xx on a sender or recipient will be the same answer next time; anything else may pass later.
            var permanent = (int)e.StatusCode >= 500 && e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.SenderNotAccepted;
            await RecordFailureAsync(mail, $"SMTP {(int)e.StatusCode}: {e.Message}", permanent, ct);
            return smtp;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
        {
            // Connection refused, TLS or authentication trouble, a dropped line: the client is not reusable.
            await RecordFailureAsync(mail, $"{e.GetType().Name}: {e.Message}", permanent: false, ct);
            smtp.Dispose();
            return new SmtpClient { Timeout = (int)Settings.Smtp.Timeout.TotalMilliseconds };
        }

        // The at-least-once window is here: accepted by the server, not yet recorded (see the class comment).
        if (await outbox.MarkSentAsync(mail.Id, worker.Id, time.GetUtcNow(), ct))
        {
            Log.Sent(logger, mail.Id, mail.Notification, mail.SubscriptionId);
        }
        else
        {
            Log.LeaseLost(logger, mail.Id, mail.Notification);
        }

        return smtp;
    }

    private async Task EnsureConnectedAsync(SmtpClient smtp, CancellationToken ct)
    {
        if (smtp.IsConnected)
        {
            return;
        }

        var settings = Settings.Smtp;
        var host = settings.Host ?? throw new InvalidOperationException("Notifications:Smtp:Host is not set.");
        await smtp.ConnectAsync(host, settings.Port, settings.Security, ct);
        if (!string.IsNullOrEmpty(settings.UserName))
        {
            await smtp.AuthenticateAsync(settings.UserName, settings.Password ?? "", ct);
        }
    }

    private MimeMessage ToMessage(OutboxMail mail)
    {
        var message = new MimeMessage
        {
            MessageId = mail.MessageId,
            Date = mail.CreatedAt,
            Subject = mail.Subject,
            Body = new TextPart("plain") { Text = mail.Body },
        };
        message.From.Add(MailboxAddress.Parse(Settings.Smtp.From));
        message.To.AddRange(mail.RecipientList.Select(MailboxAddress.Parse));
        // Lets a mailbox rule sort the portal's mails by kind without parsing the subject.
        message.Headers.Add("X-Portal-Notification", mail.Notification);
        return message;
    }

    private async Task RecordFailureAsync(OutboxMail mail, string error, bool permanent, CancellationToken ct)
    {
        var attempt = mail.Attempts + 1;
        var giveUp = permanent || attempt >= Settings.MaxAttempts;
        var next = time.GetUtcNow() + Backoff.For(attempt, Settings.RetryBaseDelay, Settings.MaxRetryDelay);
        await outbox.RecordFailureAsync(mail.Id, worker.Id, giveUp, next, error, ct);
        if (giveUp)
        {
            Log.GaveUp(logger, mail.Id, mail.Notification, attempt, error);
        }
        else
        {
            Log.WillRetry(logger, mail.Id, mail.Notification, attempt, next, error);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Mail {MailId} ({Notification}) sent for subscription {SubscriptionId}")]
        public static partial void Sent(ILogger logger, long mailId, string notification, Guid? subscriptionId);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Notification}) was sent, but its lease had passed to another instance, which will send it again (same Message-ID)")]
        public static partial void LeaseLost(ILogger logger, long mailId, string notification);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {MailId} ({Notification}), attempt {Attempt} failed; next at {NextAttemptAt}: {Error}")]
        public static partial void WillRetry(ILogger logger, long mailId, string notification, int attempt, DateTimeOffset nextAttemptAt, string error);

        [LoggerMessage(Level = LogLevel.Error, Message = "Mail {MailId} ({Notification}) failed for good after {Attempt} attempts: {Error}")]
        public static partial void GaveUp(ILogger logger, long mailId, string notification, int attempt, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Notifications:Smtp:Host is not set: mails are queued in the outbox but not sent")]
        public static partial void NotConfigured(ILogger logger);

        [LoggerMessage(Level = LogLevel.Error, Message = "Mail round failed")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
