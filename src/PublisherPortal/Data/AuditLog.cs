using System.Data.Common;
using Dapper;

namespace PublisherPortal.Data;

public sealed record AuditEntry
{
    public long Id { get; init; }
    public DateTimeOffset At { get; init; }
    public string Actor { get; init; } = "";
    public string Action { get; init; } = "";
    public Guid? SubscriptionId { get; init; }
    public string? Detail { get; init; }
    public string Outcome { get; init; } = "";
}

/// <summary>Who did what, when, and what came of it. Written for every operator, customer and finance action.</summary>
public sealed class AuditLog(PortalDatabase database, TimeProvider time)
{
    public async Task RecordAsync(string actor, string action, Guid? subscriptionId, string? detail, string outcome, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await RecordAsync(actor, action, subscriptionId, detail, outcome, connection, null, ct);
    }

    public Task RecordAsync(string actor, string action, Guid? subscriptionId, string? detail, string outcome,
        DbConnection connection, DbTransaction? tx, CancellationToken ct = default) =>
        connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO audit_log (at, actor, action, subscription_id, detail, outcome)
            VALUES (@at, @actor, @action, @subscriptionId, @detail, @outcome)
            """, new { at = time.GetUtcNow(), actor, action, subscriptionId, detail, outcome }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<AuditEntry>> ForSubscriptionAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<AuditEntry>(new CommandDefinition("""
            SELECT id, at, actor, action, subscription_id, detail, outcome
            FROM audit_log WHERE subscription_id = @subscriptionId ORDER BY at DESC, id DESC
            """, new { subscriptionId }, cancellationToken: ct));
        return rows.AsList();
    }
}
