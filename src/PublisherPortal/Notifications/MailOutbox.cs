using System.Data.Common;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications;

public static class MailStates
{
    public const string Pending = "Pending";

    /// <summary>Claimed by one instance's sender, under a lease; a lease that ran out means the holder died and the mail is taken over.</summary>
    public const string Sending = "Sending";

    public const string Sent = "Sent";
    public const string Failed = "Failed";
}

/// <summary>One mail owed, as rendered when its cause was committed.</summary>
public sealed record OutboxMail
{
    public long Id { get; init; }
    public string DedupeKey { get; init; } = "";
    public string Notification { get; init; } = "";
    public string EventKind { get; init; } = "";
    public string Audience { get; init; } = "";
    public Guid? SubscriptionId { get; init; }
    public long? SourceEventId { get; init; }
    public string Recipients { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Body { get; init; } = "";
    public string MessageId { get; init; } = "";
    public string State { get; init; } = MailStates.Pending;
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }

    public IReadOnlyList<string> RecipientList => Recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>What came of an operator's "send again".</summary>
public enum SendAgainResult
{
    Queued,
    NotFound,
    AlreadySent,
}

/// <summary>
/// The notification_outbox table: written by <see cref="NotificationPlanner"/> in the transaction of the change that
/// causes a mail, drained by <see cref="NotificationSender"/> under leases so two instances never send the same row.
/// </summary>
public sealed class MailOutbox(PortalDatabase database)
{
    private const string Columns = """
        id, dedupe_key, notification, event_kind, audience, subscription_id, source_event_id, recipients, subject, body,
        message_id, state, attempts, next_attempt_at, last_error, created_at, sent_at
        """;

    /// <summary>Queues a mail in the caller's transaction. False when the same dedupe key was queued before (the event was seen already).</summary>
    public async Task<bool> EnqueueAsync(OutboxMail mail, DbConnection connection, DbTransaction? tx, CancellationToken ct) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO notification_outbox (dedupe_key, notification, event_kind, audience, subscription_id, source_event_id,
                recipients, subject, body, message_id, state, attempts, next_attempt_at, created_at)
            VALUES (@DedupeKey, @Notification, @EventKind, @Audience, @SubscriptionId, @SourceEventId,
                @Recipients, @Subject, @Body, @MessageId, @State, 0, @NextAttemptAt, @CreatedAt)
            ON CONFLICT (dedupe_key) DO NOTHING
            """, mail, tx, cancellationToken: ct)) == 1;

    /// <summary>
    /// Leases due mails: Pending ones whose time has come, and Sending ones whose holder's lease ran out (it died mid-send).
    /// PostgreSQL skips rows another instance is claiming this instant; SQLite has one writer at a time anyway.
    /// </summary>
    public async Task<IReadOnlyList<OutboxMail>> ClaimDueAsync(string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int batchSize, CancellationToken ct)
    {
        const string due = """
            SELECT id FROM notification_outbox
            WHERE (state = @pending AND next_attempt_at <= @now) OR (state = @sending AND lease_until < @now)
            ORDER BY next_attempt_at, id LIMIT @batchSize
            """;
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var rows = await connection.QueryAsync<OutboxMail>(new CommandDefinition($"""
            UPDATE notification_outbox SET state = @sending, lease_owner = @owner, lease_until = @leaseUntil
            WHERE id IN ({due}{database.Sql(sqlite: "", postgres: " FOR UPDATE SKIP LOCKED")})
            RETURNING {Columns}
            """,
            new { owner, now, leaseUntil, batchSize, pending = MailStates.Pending, sending = MailStates.Sending }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return [.. rows.OrderBy(r => r.NextAttemptAt).ThenBy(r => r.Id)];
    }

    /// <summary>The SMTP server took the mail. Only the lease holder may say so; false means another instance took the row over.</summary>
    public async Task<bool> MarkSentAsync(long id, string owner, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notification_outbox
            SET state = @sent, attempts = attempts + 1, sent_at = @now, last_error = NULL, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND state = @sending
            """, new { id, owner, now, sent = MailStates.Sent, sending = MailStates.Sending }, cancellationToken: ct)) == 1;
    }

    /// <summary>A failed attempt: back to Pending at <paramref name="nextAttemptAt"/>, or Failed when <paramref name="giveUp"/>.</summary>
    public async Task RecordFailureAsync(long id, string owner, bool giveUp, DateTimeOffset nextAttemptAt, string error, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notification_outbox
            SET state = @state, attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_error = @error,
                lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND state = @sending
            """, new { id, owner, state = giveUp ? MailStates.Failed : MailStates.Pending, nextAttemptAt, error, sending = MailStates.Sending },
            cancellationToken: ct));
    }

    /// <summary>An operator's "send again" for a Failed (or waiting) mail: due now, attempts counted afresh. Sent mails are left alone.</summary>
    public async Task<SendAgainResult> SendAgainAsync(long id, DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var changed = await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE notification_outbox SET state = @pending, attempts = 0, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND state IN (@pending, @failed)
            """, new { id, now, pending = MailStates.Pending, failed = MailStates.Failed }, cancellationToken: ct));
        if (changed == 1)
        {
            return SendAgainResult.Queued;
        }

        return await FindAsync(id, ct) is null ? SendAgainResult.NotFound : SendAgainResult.AlreadySent;
    }

    public async Task<OutboxMail?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<OutboxMail>(
            new CommandDefinition($"SELECT {Columns} FROM notification_outbox WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>Mails not sent yet (Pending, Sending) or given up (Failed): what operators look at. Failed first.</summary>
    public async Task<IReadOnlyList<OutboxMail>> OpenAsync(int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<OutboxMail>(new CommandDefinition($"""
            SELECT {Columns} FROM notification_outbox
            WHERE state IN (@failed, @pending, @sending)
            ORDER BY CASE WHEN state = @failed THEN 0 ELSE 1 END, next_attempt_at, id
            LIMIT @limit
            """, new { limit, failed = MailStates.Failed, pending = MailStates.Pending, sending = MailStates.Sending }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>Every mail owed for one subscription, oldest first (tests and the subscription's story).</summary>
    public async Task<IReadOnlyList<OutboxMail>> ForSubscriptionAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<OutboxMail>(new CommandDefinition(
            $"SELECT {Columns} FROM notification_outbox WHERE subscription_id = @subscriptionId ORDER BY created_at, id",
            new { subscriptionId }, cancellationToken: ct));
        return rows.AsList();
    }
}
