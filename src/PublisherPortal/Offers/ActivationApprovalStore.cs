using System.Data.Common;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Offers;

public static class ApprovalStates
{
    public const string Pending = "Pending";
    public const string Approved = "Approved";
    public const string Rejected = "Rejected";
}

/// <summary>An activation that needed (or needs) an operator's decision.</summary>
public sealed record ActivationApproval
{
    public Guid SubscriptionId { get; init; }
    public string OfferId { get; init; } = "";
    public string State { get; init; } = ApprovalStates.Pending;
    public DateTimeOffset RequestedAt { get; init; }
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset? DecidedAt { get; init; }
    public string? DecidedBy { get; init; }
    public string? Reason { get; init; }

    public bool IsPending => State == ApprovalStates.Pending;
}

/// <summary>
/// The activation_approvals table. A request is written once per subscription; a decision moves it out of Pending once,
/// by a conditional update, so of two operators deciding at once exactly one wins and the other reads who did.
/// </summary>
public sealed class ActivationApprovalStore(PortalDatabase database)
{
    private const string SelectColumns = """
        SELECT subscription_id, offer_id, state, requested_at, requested_by, decided_at, decided_by, reason
        FROM activation_approvals
        """;

    public async Task<ActivationApproval?> FindAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await FindAsync(subscriptionId, connection, null, ct);
    }

    public Task<ActivationApproval?> FindAsync(Guid subscriptionId, DbConnection connection, DbTransaction? tx, CancellationToken ct = default) =>
        connection.QuerySingleOrDefaultAsync<ActivationApproval>(new CommandDefinition(
            SelectColumns + " WHERE subscription_id = @subscriptionId", new { subscriptionId }, tx, cancellationToken: ct));

    /// <summary>Records the request; false when one exists already (a second tab, a double click).</summary>
    public async Task<bool> TryRequestAsync(Guid subscriptionId, string offerId, string requestedBy, DateTimeOffset now,
        DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO activation_approvals (subscription_id, offer_id, state, requested_at, requested_by)
            VALUES (@subscriptionId, @offerId, @pending, @now, @requestedBy)
            ON CONFLICT (subscription_id) DO NOTHING
            """, new { subscriptionId, offerId, pending = ApprovalStates.Pending, now, requestedBy }, tx, cancellationToken: ct)) == 1;

    /// <summary>Moves a pending request to <paramref name="state"/>; false when it was no longer pending (someone decided first).</summary>
    public async Task<bool> TryDecideAsync(Guid subscriptionId, string state, string decidedBy, string? reason, DateTimeOffset now,
        DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE activation_approvals
            SET state = @state, decided_by = @decidedBy, decided_at = @now, reason = @reason
            WHERE subscription_id = @subscriptionId AND state = @pending
            """, new { subscriptionId, state, decidedBy, now, reason, pending = ApprovalStates.Pending }, tx, cancellationToken: ct)) == 1;
}
