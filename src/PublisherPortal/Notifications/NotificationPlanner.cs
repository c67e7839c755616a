using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using MimeKit;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

/// <summary>
/// Turns history events into mails owed: for each event, the notifications it causes (<see cref="NotificationCatalog"/>),
/// minus those an Admin switched off for the offer, rendered with the current template and queued in the outbox —
/// all in the transaction that writes the event (SubscriptionStore calls it), so the change and its mails commit together.
/// </summary>
public sealed partial class NotificationPlanner(
    MailOutbox outbox,
    NotificationSettingsStore settings,
    PortalAddress portal,
    OutboxSignal signal,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<NotificationPlanner> logger) : ISubscriptionEventFollower
{
    public async Task FollowAsync(SubscriptionEvent recorded, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var owed = NotificationCatalog.For(recorded.Kind).ToList();
        if (owed.Count == 0)
        {
            return;
        }

        var subscription = await FindAsync(recorded.SubscriptionId, connection, tx, ct);
        if (subscription is null)
        {
            return;
        }

        foreach (var notification in owed)
        {
            // A purchase is new once: a second Resolved (a landing page opened again after a lost commit) must not page operators twice.
            var dedupeKey = notification == NotificationCatalog.NewPurchase
                ? $"{notification.Name}:subscription:{subscription.Id}"
                : $"{notification.Name}:event:{recorded.Id}";
            await QueueAsync(notification, subscription, recorded, reason: null, dedupeKey, connection, tx, ct);
        }
    }

    /// <summary>
    /// An acknowledgement ended Failed: operators must act within the marketplace's patience. Called by the acknowledgement
    /// sender in the transaction that marks it Failed. The attempt count is part of the key, so a failure after an
    /// operator's retry is told again, and the same failure never twice.
    /// </summary>
    public async Task AcknowledgementFailedAsync(AcknowledgementRecord ack, string reason, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var subscription = await FindAsync(ack.SubscriptionId, connection, tx, ct)
            ?? new MailSubscription { Id = ack.SubscriptionId, Name = ack.SubscriptionId.ToString() };
        var why = $"{ack.Answer} for operation {ack.OperationId} ({ack.Action}): {reason}";
        await QueueAsync(NotificationCatalog.AcknowledgementFailed, subscription, cause: null, why,
            $"{NotificationCatalog.AcknowledgementFailed.Name}:acknowledgement:{ack.Id}:{ack.Attempts}", connection, tx, ct);
    }

    private async Task QueueAsync(
        Notification notification, MailSubscription subscription, SubscriptionEvent? cause, string? reason, string dedupeKey,
        DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var recipients = notification.Audience == Audience.Operators
            ? [.. options.Value.OperatorAddresses.Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a.Trim())]
            : notification == NotificationCatalog.ActivationDone
                ? subscription.WelcomeRecipients(await settings.IsOnAsync(subscription.OfferId, NotificationCatalog.WelcomeCopiesBeneficiary, connection, tx, ct))
                : subscription.CustomerRecipients();
        if (recipients.Count == 0)
        {
            Log.NoRecipients(logger, notification.Name, subscription.Id);
            return;
        }

        if (notification.OnlyWhileStatus is { } status && subscription.Status != status)
        {
            Log.NoLongerTrue(logger, notification.Name, subscription.Id, subscription.Status);
            return;
        }

        if (notification.AlreadyToldBy is { } earlier && await outbox.HoldsAsync(earlier, subscription.Id, connection, tx, ct))
        {
            Log.AlreadyTold(logger, notification.Name, subscription.Id, earlier);
            return;
        }

        if (subscription.OfferId.Length > 0 && !await settings.IsEnabledAsync(subscription.OfferId, notification, connection, tx, ct))
        {
            Log.SwitchedOff(logger, notification.Name, subscription.OfferId, subscription.Id);
            return;
        }

        var now = time.GetUtcNow();
        var wording = await settings.WordingAsync(notification, connection, tx, ct);
        var facts = MailFacts.Of(subscription, cause, reason, notification.Audience, portal.Base, now);
        var body = MailTemplate.Render(wording.Body, facts);
        if (notification == NotificationCatalog.ActivationDone && !body.Contains(facts["SignInUrl"]!, StringComparison.Ordinal))
        {
            // An Admin's wording may drop the placeholder; the success page promised the link, so it is added under the text.
            body += $"\n\nSign in: {facts["SignInUrl"]}";
        }

        var queued = await outbox.EnqueueAsync(new OutboxMail
        {
            DedupeKey = dedupeKey,
            Notification = notification.Name,
            EventKind = notification.EventKind,
            Audience = notification.Audience.ToString(),
            SubscriptionId = subscription.Id,
            SourceEventId = cause?.Id,
            Recipients = string.Join(',', recipients),
            Subject = MailTemplate.Render(wording.Subject, facts),
            Body = body,
            MessageId = NewMessageId(),
            State = MailStates.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        }, connection, tx, ct);

        if (queued)
        {
            // On SQLite the sender's claim waits for this transaction's write lock and then sees the row; on PostgreSQL it
            // may look before the commit and find nothing, and then the poll interval brings it.
            signal.Notify();
            Log.Queued(logger, notification.Name, subscription.Id);
        }
    }

    /// <summary>
    /// Chosen once, when the mail is queued, and sent with every attempt: a receiver that sees the same Message-ID twice
    /// (the at-least-once window in <see cref="NotificationSender"/>) knows it is one mail.
    /// </summary>
    private string NewMessageId()
    {
        var domain = MailboxAddress.TryParse(options.Value.Smtp.From, out var from) && from.Domain is { Length: > 0 } d ? d : "publisher-portal.local";
        return $"{Guid.NewGuid():N}@{domain}";
    }

    private static async Task<MailSubscription?> FindAsync(Guid id, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var found = await connection.QuerySingleOrDefaultAsync<MailSubscription>(new CommandDefinition("""
            SELECT s.id, s.name, s.offer_id, s.plan_id, s.quantity, s.status, s.beneficiary_email, s.purchaser_email,
                   s.account_admin_email, n.display_name AS offer_name
            FROM subscriptions s LEFT JOIN offer_display_names n ON n.offer_id = s.offer_id
            WHERE s.id = @id
            """, new { id }, tx, cancellationToken: ct));
        if (found is null)
        {
            return null;
        }

        // Customers read plans by name; the catalogue has them once the plan list was fetched (else the id shows).
        var plans = await connection.QueryAsync<(string PlanId, string DisplayName)>(new CommandDefinition(
            "SELECT plan_id, display_name FROM plans WHERE offer_id = @offerId", new { offerId = found.OfferId }, tx, cancellationToken: ct));
        return found with { PlanNames = plans.ToDictionary(p => p.PlanId, p => p.DisplayName, StringComparer.OrdinalIgnoreCase) };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Mail {Notification} queued for subscription {SubscriptionId}")]
        public static partial void Queued(ILogger logger, string notification, Guid subscriptionId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Mail {Notification} not queued for subscription {SubscriptionId}: switched off for offer {OfferId}")]
        public static partial void SwitchedOff(ILogger logger, string notification, string offerId, Guid subscriptionId);

        [LoggerMessage(Level = LogLevel.Information, Message = "Mail {Notification} not queued for subscription {SubscriptionId}: it is {Status} now (a late event placed into the past)")]
        public static partial void NoLongerTrue(ILogger logger, string notification, Guid subscriptionId, string status);

        [LoggerMessage(Level = LogLevel.Information, Message = "Mail {Notification} not queued for subscription {SubscriptionId}: mail {Earlier} already told the customer")]
        public static partial void AlreadyTold(ILogger logger, string notification, Guid subscriptionId, string earlier);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Mail {Notification} not queued for subscription {SubscriptionId}: no recipient (customer e-mail missing, or Notifications:OperatorAddresses empty)")]
        public static partial void NoRecipients(ILogger logger, string notification, Guid subscriptionId);
    }
}
