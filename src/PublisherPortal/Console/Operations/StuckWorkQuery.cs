using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>One of our operations that has not ended well, with the subscription it belongs to.</summary>
public sealed record StuckOperation
{
    public Guid Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string SubscriptionName { get; init; } = "";
    public string Action { get; init; } = "";
    public string? RequestedPlanId { get; init; }
    public int? RequestedQuantity { get; init; }
    public string Status { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset NextPollAt { get; init; }
    public int PollCount { get; init; }
    public string? ErrorMessage { get; init; }

    public bool IsPending => Status == OperationStates.InProgress;
}

/// <summary>An answer we owe the marketplace (docs/marketplace.md#answering-deliveries) that is not sent yet, or failed.</summary>
public sealed record OpenAcknowledgement
{
    public long Id { get; init; }
    public Guid SubscriptionId { get; init; }
    public string? SubscriptionName { get; init; }
    public Guid OperationId { get; init; }
    public string Answer { get; init; } = "";
    public string? Reason { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset DueBy { get; init; }
    public string State { get; init; } = "";
    public int Attempts { get; init; }
    public DateTimeOffset NextAttemptAt { get; init; }
    public string? LastError { get; init; }
}

/// <summary>What needs an operator's eye: operations still in flight or ended badly, acknowledgements not sent.</summary>
public sealed class StuckWorkQuery(PortalDatabase database)
{
    public const int Limit = 200;

    public async Task<IReadOnlyList<StuckOperation>> OperationsAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // ix_operations_status_requested: three small ranges of the index, newest first.
        var rows = await connection.QueryAsync<StuckOperation>(new CommandDefinition("""
            SELECT o.id, o.subscription_id, s.name AS subscription_name, o.action, o.requested_plan_id, o.requested_quantity,
                   o.status, o.requested_by, o.requested_at, o.next_poll_at, o.poll_count, o.error_message
            FROM operations o
            JOIN subscriptions s ON s.id = o.subscription_id
            WHERE o.status IN (@inProgress, @failed, @timedOut)
            ORDER BY o.requested_at DESC
            LIMIT @limit
            """,
            new { inProgress = OperationStates.InProgress, failed = OperationStates.Failed, timedOut = OperationStates.TimedOut, limit = Limit },
            cancellationToken: ct));
        return rows.AsList();
    }

    public async Task<IReadOnlyList<OpenAcknowledgement>> AcknowledgementsAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // ix_acknowledgements_due (state, next_attempt_at).
        var rows = await connection.QueryAsync<OpenAcknowledgement>(new CommandDefinition("""
            SELECT a.id, a.subscription_id, s.name AS subscription_name, a.operation_id, a.answer, a.reason, a.created_at,
                   a.due_by, a.state, a.attempts, a.next_attempt_at, a.last_error
            FROM acknowledgements a
            LEFT JOIN subscriptions s ON s.id = a.subscription_id
            WHERE a.state IN ('Pending', 'Failed')
            ORDER BY a.created_at DESC
            LIMIT @limit
            """, new { limit = Limit }, cancellationToken: ct));
        return rows.AsList();
    }
}
