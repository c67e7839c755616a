using System.Runtime.CompilerServices;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Finance;

/// <summary>A subscription's status, plan and seats as the history says they were at one instant.</summary>
public sealed record PointInTimeRow
{
    public Guid SubscriptionId { get; init; }
    public string SubscriptionName { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string Status { get; init; } = "";
    public string PlanId { get; init; } = "";
    public int? Quantity { get; init; }
    public DateTimeOffset LastChangeAt { get; init; }
    public string LastChangeKind { get; init; } = "";
}

/// <summary>Which subscriptions the point-in-time view shows, and as of when (inclusive).</summary>
public sealed record PointInTimeRequest(DateTimeOffset AsOf)
{
    public string? OfferId { get; init; }
    public string? PlanId { get; init; }
    public string? Status { get; init; }
    public Guid? SubscriptionId { get; init; }
    public string? Customer { get; init; }

    /// <summary>The last instant of a UTC day: times are stored to the tick, so this includes everything that day.</summary>
    public static DateTimeOffset EndOf(DateOnly day) =>
        new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddTicks(-1);
}

public sealed record PointInTimePage(IReadOnlyList<PointInTimeRow> Rows, Guid? Next);

/// <summary>A subscription whose live row and rebuilt history disagree. Null rebuilt values mean no history at all.</summary>
public sealed record StateDisagreement
{
    public Guid SubscriptionId { get; init; }
    public string SubscriptionName { get; init; } = "";
    public string LiveStatus { get; init; } = "";
    public string LivePlan { get; init; } = "";
    public int? LiveQuantity { get; init; }
    public string? RebuiltStatus { get; init; }
    public string? RebuiltPlan { get; init; }
    public int? RebuiltQuantity { get; init; }

    public bool HasNoHistory => RebuiltStatus is null;
}

public sealed record ConsistencyReport(DateTimeOffset CheckedAt, int SubscriptionsChecked, IReadOnlyList<StateDisagreement> Disagreements, bool MoreThanShown)
{
    public bool Agrees => Disagreements.Count == 0;
}

/// <summary>
/// Rebuilds every subscription's state at a chosen instant from subscription_events alone: the last event at or before
/// that instant carries the state in its to_* columns (SubscriptionStore.ApplyChangeAsync writes all three on every change).
/// Events that record something without carrying a state (to_status or to_plan empty) are passed over.
/// </summary>
public sealed class PointInTimeQuery(PortalDatabase database, TimeProvider time)
{
    public const int DisagreementsShown = 100;

    // For each subscription one index seek on ix_events_subscription (subscription_id, occurred_at, id), walking back
    // from @asOf: the cost grows with the number of subscriptions, not with the length of the history.
    private const string LastStateEventAsOf = """
        SELECT l.id FROM subscription_events l
        WHERE l.subscription_id = s.id AND l.occurred_at <= @asOf AND l.to_status IS NOT NULL AND l.to_plan IS NOT NULL
        ORDER BY l.occurred_at DESC, l.id DESC
        LIMIT 1
        """;

    private const string SelectAsOf = $"""
        SELECT s.id AS subscription_id, s.name AS subscription_name, s.offer_id,
               e.to_status AS status, e.to_plan AS plan_id, e.to_quantity AS quantity,
               e.occurred_at AS last_change_at, e.kind AS last_change_kind
        FROM subscriptions s
        JOIN subscription_events e ON e.id = ({LastStateEventAsOf})
        """;

    public async Task<PointInTimePage> PageAsync(PointInTimeRequest request, Guid? after, int pageSize, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var (conditions, parameters) = Where(request);
        if (after is { } afterId)
        {
            conditions.Add("s.id > @afterId");
            parameters.Add("afterId", afterId);
        }

        parameters.Add("limit", pageSize + 1);
        var sql = SelectAsOf + WhereClause(conditions) + " ORDER BY s.id LIMIT @limit";
        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<PointInTimeRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
        if (rows.Count <= pageSize)
        {
            return new PointInTimePage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        return new PointInTimePage(rows, rows[^1].SubscriptionId);
    }

    /// <summary>Every matching subscription's state, read one row at a time for the export.</summary>
    public async IAsyncEnumerable<PointInTimeRow> StreamAsync(PointInTimeRequest request, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (conditions, parameters) = Where(request);
        var sql = SelectAsOf + WhereClause(conditions) + " ORDER BY s.id";
        await using var connection = await database.OpenAsync(ct);
        await foreach (var row in connection.QueryUnbufferedAsync<PointInTimeRow>(sql, parameters).WithCancellation(ct))
        {
            yield return row;
        }
    }

    /// <summary>
    /// Rebuilds "now" and compares it with the live subscriptions table. Any difference means a change bypassed
    /// ApplyChangeAsync (or its event was lost): the history could no longer be trusted for the past either.
    /// </summary>
    public async Task<ConsistencyReport> CheckAgainstLiveAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        const string disagreements = $"""
            SELECT s.id AS subscription_id, s.name AS subscription_name,
                   s.status AS live_status, s.plan_id AS live_plan, s.quantity AS live_quantity,
                   e.to_status AS rebuilt_status, e.to_plan AS rebuilt_plan, e.to_quantity AS rebuilt_quantity
            FROM subscriptions s
            LEFT JOIN subscription_events e ON e.id = ({LastStateEventAsOf})
            WHERE e.id IS NULL
               OR e.to_status <> s.status
               OR e.to_plan <> s.plan_id
               OR (e.to_quantity IS NULL) <> (s.quantity IS NULL)
               OR e.to_quantity <> s.quantity
            ORDER BY s.id
            LIMIT @limit
            """;

        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<StateDisagreement>(new CommandDefinition(
            disagreements, new { asOf = now, limit = DisagreementsShown + 1 }, cancellationToken: ct))).AsList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT COUNT(*) FROM subscriptions", cancellationToken: ct));
        var more = rows.Count > DisagreementsShown;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new ConsistencyReport(now, total, rows, more);
    }

    private static string WhereClause(List<string> conditions) =>
        conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);

    private static (List<string> Conditions, DynamicParameters Parameters) Where(PointInTimeRequest request)
    {
        var conditions = new List<string>();
        var parameters = new DynamicParameters();
        parameters.Add("asOf", request.AsOf);
        if (request.OfferId is { } offer)
        {
            conditions.Add("s.offer_id = @offerId");
            parameters.Add("offerId", offer);
        }

        if (request.PlanId is { } plan)
        {
            conditions.Add("e.to_plan = @planId");
            parameters.Add("planId", plan);
        }

        if (request.Status is { } status)
        {
            conditions.Add("e.to_status = @status");
            parameters.Add("status", status);
        }

        if (request.SubscriptionId is { } subscriptionId)
        {
            conditions.Add("s.id = @subscriptionId");
            parameters.Add("subscriptionId", subscriptionId);
        }

        if (request.Customer is { } customer)
        {
            conditions.Add(FinanceHistoryQuery.CustomerSubscriptions("s.id"));
            parameters.Add("customer", customer.ToLowerInvariant());
        }

        return (conditions, parameters);
    }
}
