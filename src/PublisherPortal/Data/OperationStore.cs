using System.Data.Common;
using Dapper;

namespace PublisherPortal.Data;

/// <summary>An operation we started in the marketplace (plan or seat change, cancellation), followed until it ends.</summary>
public sealed record OperationRecord
{
    public Guid Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string Action { get; init; } = "";
    public string? RequestedPlanId { get; init; }
    public int? RequestedQuantity { get; init; }
    public string Status { get; init; } = OperationStates.InProgress;
    public string Source { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset RequestedAt { get; init; }
    public string Location { get; init; } = "";
    public Guid CorrelationId { get; init; }
    public DateTimeOffset NextPollAt { get; init; }
    public int PollCount { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public string? ErrorMessage { get; init; }

    public bool IsPending => Status == OperationStates.InProgress;
}

public static class OperationStates
{
    public const string InProgress = "InProgress";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string Conflict = "Conflict";
    public const string TimedOut = "TimedOut";
}

/// <summary>The operations table.</summary>
public sealed class OperationStore(PortalDatabase database)
{
    private const string SelectColumns = """
        SELECT id, subscription_id, action, requested_plan_id, requested_quantity, status, source, requested_by,
               requested_at, location, correlation_id, next_poll_at, poll_count, completed_at, error_message
        FROM operations
        """;

    private const string ReturningColumns = """

         RETURNING id, subscription_id, action, requested_plan_id, requested_quantity, status, source, requested_by,
                   requested_at, location, correlation_id, next_poll_at, poll_count, completed_at, error_message
        """;

    /// <summary>
    /// Records a started operation. Returns false when another one is already pending for the subscription:
    /// the unique index on pending operations decides, so two operators racing cannot both win.
    /// </summary>
    public async Task<bool> TryRecordStartedAsync(OperationRecord operation, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var inserted = await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO operations (id, subscription_id, action, requested_plan_id, requested_quantity, status, source,
                                    requested_by, requested_at, location, correlation_id, next_poll_at)
            VALUES (@Id, @SubscriptionId, @Action, @RequestedPlanId, @RequestedQuantity, @Status, @Source,
                    @RequestedBy, @RequestedAt, @Location, @CorrelationId, @NextPollAt)
            ON CONFLICT DO NOTHING
            """, operation, tx, cancellationToken: ct));
        return inserted == 1;
    }

    public Task CloseStalePendingAsync(Guid subscriptionId, string reason, DateTimeOffset now, DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        connection.ExecuteAsync(new CommandDefinition("""
            UPDATE operations SET status = @timedOut, completed_at = @now, error_message = @reason
            WHERE subscription_id = @subscriptionId AND status = @inProgress
            """, new { subscriptionId, reason, now, timedOut = OperationStates.TimedOut, inProgress = OperationStates.InProgress }, tx, cancellationToken: ct));

    /// <summary>
    /// Leases up to <paramref name="batchSize"/> pending operations whose next poll is due (or only <paramref name="onlyId"/>)
    /// to the tracker instance <paramref name="owner"/>. A lease that ran out (its instance died) is taken over.
    /// </summary>
    public async Task<IReadOnlyList<OperationRecord>> ClaimDueAsync(
        string owner, DateTimeOffset now, DateTimeOffset leaseUntil, int batchSize, Guid? onlyId = null, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var rows = await connection.QueryAsync<OperationRecord>(new CommandDefinition(database.Sql(
            sqlite: """
                UPDATE operations SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM operations
                             WHERE status = @inProgress AND next_poll_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                               AND (@onlyId IS NULL OR id = @onlyId)
                             ORDER BY next_poll_at, id LIMIT @batchSize)
                """,
            postgres: """
                UPDATE operations SET lease_owner = @owner, lease_until = @leaseUntil
                WHERE id IN (SELECT id FROM operations
                             WHERE status = @inProgress AND next_poll_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                               AND (CAST(@onlyId AS TEXT) IS NULL OR id = CAST(@onlyId AS TEXT))
                             ORDER BY next_poll_at, id LIMIT @batchSize
                             FOR UPDATE SKIP LOCKED)
                """) + ReturningColumns,
            new { owner, now, leaseUntil, batchSize, onlyId, inProgress = OperationStates.InProgress }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return rows.AsList();
    }

    /// <summary>The operation is still running: poll again at <paramref name="nextPollAt"/>.</summary>
    public async Task RescheduleAsync(Guid id, string owner, DateTimeOffset nextPollAt, string? note, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE operations
            SET next_poll_at = @nextPollAt, poll_count = poll_count + 1, error_message = @note, lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND status = @inProgress
            """, new { id, owner, nextPollAt, note, inProgress = OperationStates.InProgress }, cancellationToken: ct));
    }

    /// <summary>
    /// Ends a pending operation this owner holds, in the caller's transaction. False when the lease was lost or the
    /// operation ended already: the caller rolls back, so the subscription changes once.
    /// </summary>
    public async Task<bool> TryCompleteAsync(Guid id, string owner, string status, string? errorMessage, DateTimeOffset now,
        DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE operations
            SET status = @status, error_message = @errorMessage, completed_at = @now, poll_count = poll_count + 1,
                lease_owner = NULL, lease_until = NULL
            WHERE id = @id AND lease_owner = @owner AND status = @inProgress
            """, new { id, owner, status, errorMessage, now, inProgress = OperationStates.InProgress }, tx, cancellationToken: ct)) == 1;

    /// <summary>"Check now": the next poll is due at once.</summary>
    public async Task<bool> MakeDueAsync(Guid id, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE operations SET next_poll_at = @now WHERE id = @id AND status = @inProgress",
            new { id, now, inProgress = OperationStates.InProgress }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> HasPendingForAsync(Guid subscriptionId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default) =>
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM operations WHERE subscription_id = @subscriptionId AND status = @inProgress",
            new { subscriptionId, inProgress = OperationStates.InProgress }, tx, cancellationToken: ct)) > 0;

    /// <summary>Is this operation one of ours? The marketplace must never be asked to acknowledge its own publisher's operations.</summary>
    public async Task<bool> ExistsAsync(Guid id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM operations WHERE id = @id", new { id }, cancellationToken: ct)) > 0;
    }

    public async Task<OperationRecord?> FindAsync(Guid id, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<OperationRecord>(
            new CommandDefinition(SelectColumns + " WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public async Task<OperationRecord?> FindPendingForAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<OperationRecord>(new CommandDefinition(
            SelectColumns + " WHERE subscription_id = @subscriptionId AND status = @status",
            new { subscriptionId, status = OperationStates.InProgress }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<OperationRecord>> ListForSubscriptionAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<OperationRecord>(new CommandDefinition(
            SelectColumns + " WHERE subscription_id = @subscriptionId ORDER BY requested_at DESC",
            new { subscriptionId }, cancellationToken: ct));
        return rows.AsList();
    }
}
