using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Console;

/// <summary>A suspended subscription and the marketplace's clock on it.</summary>
public sealed record SuspendedSubscription
{
    public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public string? BeneficiaryEmail { get; init; }
    public bool AccessEnabled { get; init; }

    /// <summary>The last Suspended event of its history; the row's last update when history has none (e.g. imported suspended).</summary>
    public DateTimeOffset SuspendedSince { get; init; }

    /// <summary>When the marketplace would end it if nobody pays (docs/marketplace.md#webhook-actions and
    /// docs/marketplace.md#life-cycle: 30 days).</summary>
    public DateTimeOffset EndsBy => SuspendedSince + SuspensionQuery.GracePeriod;
}

/// <summary>A reinstatement and whether the customer got access back.</summary>
public sealed record RecentReinstatement
{
    public Guid SubscriptionId { get; init; }
    public string Name { get; init; } = "";
    public string OfferId { get; init; } = "";
    public DateTimeOffset ReinstatedAt { get; init; }
    public string Source { get; init; } = "";
    public Guid? OperationId { get; init; }
    public string Status { get; init; } = "";
    public bool AccessEnabled { get; init; }
}

/// <summary>Suspended subscriptions and recent reinstatements, from the subscriptions table and its history.</summary>
public sealed class SuspensionQuery(PortalDatabase database, TimeProvider time)
{
    /// <summary>docs/marketplace.md#webhook-actions: a suspended subscription is Unsubscribed if not reinstated within 30 days.</summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromDays(30);

    /// <summary>The page lists at most this many; beyond that the subscriptions grid (filter Suspended) pages through them.</summary>
    public const int Limit = 500;

    public async Task<IReadOnlyList<SuspendedSubscription>> SuspendedAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        // The correlated MAX walks ix_events_subscription (subscription_id, occurred_at) once per suspended row.
        var rows = await connection.QueryAsync<SuspendedSubscription>(new CommandDefinition("""
            SELECT s.id, s.name, s.offer_id, s.plan_id, s.quantity, s.beneficiary_email, s.access_enabled,
                   COALESCE((SELECT MAX(e.occurred_at) FROM subscription_events e
                             WHERE e.subscription_id = s.id AND e.kind = @suspended), s.updated_at) AS suspended_since
            FROM subscriptions s
            WHERE s.status = 'Suspended'
            ORDER BY suspended_since, s.id
            LIMIT @limit
            """, new { suspended = EventKinds.Suspended, limit = Limit }, cancellationToken: ct));
        return rows.AsList();
    }

    /// <summary>Reinstatements of the last <paramref name="within"/>, newest first (ix_events_kind_time).</summary>
    public async Task<IReadOnlyList<RecentReinstatement>> ReinstatementsAsync(TimeSpan within, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var rows = await connection.QueryAsync<RecentReinstatement>(new CommandDefinition("""
            SELECT e.subscription_id, s.name, e.offer_id, e.occurred_at AS reinstated_at, e.source, e.operation_id,
                   s.status, s.access_enabled
            FROM subscription_events e
            JOIN subscriptions s ON s.id = e.subscription_id
            WHERE e.kind = @reinstated AND e.occurred_at >= @since
            ORDER BY e.occurred_at DESC, e.id DESC
            LIMIT @limit
            """, new { reinstated = EventKinds.Reinstated, since = time.GetUtcNow() - within, limit = Limit }, cancellationToken: ct));
        return rows.AsList();
    }
}
