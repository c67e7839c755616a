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
