using System.Data.Common;
using Dapper;

namespace PublisherPortal.Data;

/// <summary>What we owe the marketplace for one of its operations, and how sending it went.</summary>
public sealed record AcknowledgementRecord
{
    public long Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public Guid OperationId { get; init; }

    /// <summary>The operation's action (ChangePlan, ChangeQuantity, Reinstate): the rules for "done" depend on it.</summary>
    public string? Action { get; init; }

    public string Answer { get; init; } = "";
    public string? Reason { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset DueBy { get; init; }
    public string State { get; init; } = AcknowledgementStates.Pending;
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? LastError { get; init; }
    /// <summary>The W3C traceparent of the processing span that queued it: the PATCH continues the delivery's trace.</summary>
    public string? TraceParent { get; init; }
}

public static class AcknowledgementAnswers
{
    /// <summary>PATCH the operation with status Success.</summary>
    public const string Success = "Success";

    /// <summary>PATCH the operation with status Failure: the change is refused.</summary>
    public const string Failure = "Failure";

    /// <summary>A reinstatement we cannot accept is answered by cancelling the subscription (docs/marketplace.md#webhook-actions).</summary>
    public const string Cancel = "Cancel";
}

public static class AcknowledgementStates
{
    public const string Pending = "Pending";
    public const string Sent = "Sent";
    public const string Failed = "Failed";
}

/// <summary>
/// The acknowledgements table: written by the webhook processor in the same transaction as its decision, drained by
/// the acknowledgement sender. Unique per operation, so a decision is queued once however often it is reached.
/// </summary>
public sealed class AcknowledgementStore(PortalDatabase database)
{
    private const string Columns = """
        id, subscription_id, operation_id, action, answer, reason, created_at, due_by, state, attempts, next_attempt_at, sent_at, last_error,
        trace_parent
        """;

    /// <summary>Queues an acknowledgement in the caller's transaction. Returns false when one was queued before.</summary>
    public async Task<bool> QueueAsync(AcknowledgementRecord ack, DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO acknowledgements (subscription_id, operation_id, action, answer, reason, created_at, due_by, state, next_attempt_at, trace_parent)
            VALUES (@SubscriptionId, @OperationId, @Action, @Answer, @Reason, @CreatedAt, @DueBy, @State, @NextAttemptAt, @TraceParent)
            ON CONFLICT (operation_id) DO NOTHING
            """, ack, tx, cancellationToken: ct)) == 1;

    /// <summary>Leases due Pending acknowledgements, the most urgent (earliest due_by) first.</summary>
    public async Task<IReadOnlyList<AcknowledgementRecord>> ClaimDueAsync(
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int batchSize, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        // A lease still set but run out means its instance died or stalled mid-send: counted as a take-over.
        var takenOver = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM acknowledgements WHERE state = @pending AND next_attempt_at <= @now AND lease_until < @now
            """, new { now, pending = AcknowledgementStates.Pending }, tx, cancellationToken: ct));
        if (takenOver > 0)
        {
            Observability.PortalTelemetry.WorkerTelemetry.LeaseTakeovers.Add(Math.Min(takenOver, batchSize), new KeyValuePair<string, object?>("queue", "acknowledgements"));
        }

        var rows = await connection.QueryAsync<AcknowledgementRecord>(new CommandDefinition(database.Sql(
            sqlite: $"""
                UPDATE acknowledgements SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM acknowledgements
                             WHERE state = @pending AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                             ORDER BY due_by, id LIMIT @batchSize)
                RETURNING {Columns}
                """,
            postgres: $"""
                UPDATE acknowledgements SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM acknowledgements
                             WHERE state = @pending AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                             ORDER BY due_by, id LIMIT @batchSize
                             FOR UPDATE SKIP LOCKED)
                RETURNING {Columns}
                """),
            new { owner, now, leaseUntil, batchSize, pending = AcknowledgementStates.Pending }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return [.. rows.OrderBy(r => r.DueBy).ThenBy(r => r.Id)];
    }

    /// <summary>Records the end of an acknowledgement (Sent or Failed). Only the lease holder may.</summary>
    public async Task<bool> TryFinishAsync(long id, string owner, string state, string? note, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await TryFinishAsync(id, owner, state, note, now, connection, null, ct);
    }

    /// <summary>The same, in the caller's transaction (a Failed one queues the operators' mail with it).</summary>
    public async Task<bool> TryFinishAsync(
        long id, string owner, string state, string? note, DateTimeOffset now, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE acknowledgements
            SET state = @state, attempts = attempts + 1, last_error = @note,
                sent_at = CASE WHEN @state = @sent THEN @now ELSE sent_at END,
                lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND state = @pending
            """, new { id, owner, state, note, now, sent = AcknowledgementStates.Sent, pending = AcknowledgementStates.Pending },
            tx, cancellationToken: ct)) == 1;
    }

    public async Task RescheduleAsync(long id, string owner, DateTimeOffset nextAttemptAt, string error, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE acknowledgements
            SET attempts = attempts + 1, next_attempt_at = @nextAttemptAt, last_error = @error, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND state = @pending
            """, new { id, owner, nextAttemptAt, error, pending = AcknowledgementStates.Pending }, cancellationToken: ct));
    }

    /// <summary>An operator asks to try a Failed (or waiting) acknowledgement again now. Sent ones are left alone.</summary>
    public async Task<bool> MakeDueAgainAsync(long id, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE acknowledgements SET state = @pending, next_attempt_at = @now, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND state <> @sent
            """, new { id, now, pending = AcknowledgementStates.Pending, sent = AcknowledgementStates.Sent }, cancellationToken: ct)) == 1;
    }

    public async Task<AcknowledgementRecord?> FindAsync(long id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AcknowledgementRecord>(
            new CommandDefinition($"SELECT {Columns} FROM acknowledgements WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<AcknowledgementRecord?> FindByOperationAsync(Guid operationId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<AcknowledgementRecord>(new CommandDefinition(
            $"SELECT {Columns} FROM acknowledgements WHERE operation_id = @operationId", new { operationId }, cancellationToken: ct));
    }

    /// <summary>Acknowledgements in one state (e.g. Failed, for the operators' attention), most urgent first.</summary>
    public async Task<IReadOnlyList<AcknowledgementRecord>> ListByStateAsync(string state, int limit, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<AcknowledgementRecord>(new CommandDefinition(
            $"SELECT {Columns} FROM acknowledgements WHERE state = @state ORDER BY next_attempt_at, id LIMIT @limit",
            new { state, limit }, cancellationToken: ct));
        return rows.AsList();
    }
}
