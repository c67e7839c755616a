using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Notifications.Demo;

/// <summary>One mail the demo SMTP server received.</summary>
public sealed record ReceivedMail
{
    public long Id { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public string MessageId { get; init; } = "";
    public string MailFrom { get; init; } = "";
    public string Recipients { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Body { get; init; } = "";
}

/// <summary>The demo_mailbox table: what the in-process SMTP server received, newest first.</summary>
public sealed class DemoMailboxStore(PortalDatabase database)
{
    private const string Columns = "id, received_at, message_id, mail_from, recipients, subject, body";

    /// <summary>
    /// Keeps a received mail. A second copy with the same Message-ID is dropped, as a receiver should: that is how the
    /// at-least-once window of the sender (crash after the server accepted, before Sent was recorded) stays invisible.
    /// Returns false for such a duplicate.
    /// </summary>
    public async Task<bool> KeepAsync(ReceivedMail mail, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO demo_mailbox (received_at, message_id, mail_from, recipients, subject, body)
            VALUES (@ReceivedAt, @MessageId, @MailFrom, @Recipients, @Subject, @Body)
            ON CONFLICT (message_id) DO NOTHING
            """, mail, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<ReceivedMail>> LatestAsync(int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<ReceivedMail>(new CommandDefinition(
            $"SELECT {Columns} FROM demo_mailbox ORDER BY received_at DESC, id DESC LIMIT @limit", new { limit }, cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<ReceivedMail?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ReceivedMail>(
            new CommandDefinition($"SELECT {Columns} FROM demo_mailbox WHERE id = @id", new { id }, cancellationToken: ct));
    }
}
