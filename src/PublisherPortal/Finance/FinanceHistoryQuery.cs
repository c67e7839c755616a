using System.Runtime.CompilerServices;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Finance;

/// <summary>One change in the history as finance reads it: the event plus the subscription's name.</summary>
public sealed record HistoryRow
{
    public long Id { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public Guid SubscriptionId { get; init; }
    public string SubscriptionName { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? FromStatus { get; init; }
    public string? ToStatus { get; init; }
    public string? FromPlan { get; init; }
    public string? ToPlan { get; init; }
    public int? FromQuantity { get; init; }
    public int? ToQuantity { get; init; }
    public string Source { get; init; } = "";
    public string? Actor { get; init; }
    public Guid? OperationId { get; init; }
    public string? Detail { get; init; }
}

/// <summary>Where a page of history ends: the next page starts strictly after this (time, id) pair.</summary>
public readonly record struct HistoryCursor(DateTimeOffset OccurredAt, long Id);

/// <summary>A page of history, newest first, and where the next (older) page starts; null when this is the last.</summary>
public sealed record HistoryPage(IReadOnlyList<HistoryRow> Rows, HistoryCursor? Next);

/// <summary>
/// The history across every subscription, filtered the way finance asks. Pages go by key over (occurred_at, id) —
/// never OFFSET, which would read and throw away every earlier row of a history that grows to millions — and each
/// filter has an index behind it (0001_initial.sql and 0002_finance_history_filters.sql).
/// </summary>
public sealed class FinanceHistoryQuery(PortalDatabase database)
{
    /// <summary>Counting stops here: the page says "more than" instead of scanning millions of rows for an exact figure.</summary>
    public const int CountCap = 10_000;

    private const string SelectRows = """
        SELECT e.id, e.occurred_at, e.subscription_id, s.name AS subscription_name, e.offer_id, e.kind,
               e.from_status, e.to_status, e.from_plan, e.to_plan, e.from_quantity, e.to_quantity,
               e.source, e.actor, e.operation_id, e.detail
        FROM subscription_events e
        JOIN subscriptions s ON s.id = e.subscription_id
        """;

    // The first term gives both databases an index range on occurred_at; the second settles ties inside one instant.
    private const string OlderThanCursor = "e.occurred_at <= @cursorTime AND (e.occurred_at < @cursorTime OR e.id < @cursorId)";

    public async Task<HistoryPage> PageAsync(FinanceFilter filter, HistoryCursor? after, int pageSize, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var (conditions, parameters) = Where(filter);
        if (after is { } cursor)
        {
            conditions.Add(OlderThanCursor);
            parameters.Add("cursorTime", cursor.OccurredAt);
            parameters.Add("cursorId", cursor.Id);
        }

        // One row more than asked tells whether another page exists without counting.
        parameters.Add("limit", pageSize + 1);
        var sql = SelectRows + WhereClause(conditions) + " ORDER BY e.occurred_at DESC, e.id DESC LIMIT @limit";

        await using var connection = await database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<HistoryRow>(new CommandDefinition(sql, parameters, cancellationToken: ct))).AsList();
        if (rows.Count <= pageSize)
        {
            return new HistoryPage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        var last = rows[^1];
        return new HistoryPage(rows, new HistoryCursor(last.OccurredAt, last.Id));
    }

    /// <summary>How many rows match, counted up to <see cref="CountCap"/> + 1 so the answer stays cheap.</summary>
    public async Task<int> CountUpToCapAsync(FinanceFilter filter, CancellationToken ct = default)
    {
        var (conditions, parameters) = Where(filter);
        parameters.Add("cap", CountCap + 1);
        var sql = "SELECT COUNT(*) FROM (SELECT 1 FROM subscription_events e" + WhereClause(conditions) + " LIMIT @cap) AS capped";
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition(sql, parameters, cancellationToken: ct));
    }

    /// <summary>
    /// Every matching row, oldest first (the order a spreadsheet reads), read one at a time from the database so an
    /// export of millions of rows holds only the row being written.
    /// </summary>
    public async IAsyncEnumerable<HistoryRow> StreamAsync(FinanceFilter filter, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (conditions, parameters) = Where(filter);
        var sql = SelectRows + WhereClause(conditions) + " ORDER BY e.occurred_at, e.id";
        await using var connection = await database.OpenAsync(ct);
        await foreach (var row in connection.QueryUnbufferedAsync<HistoryRow>(sql, parameters).WithCancellation(ct))
        {
            yield return row;
        }
    }

    private static string WhereClause(List<string> conditions) =>
        conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);

    /// <summary>
    /// Only the filters that are set become conditions: "(@x IS NULL OR col = @x)" would hide the indexes from the planner.
    /// </summary>
    private static (List<string> Conditions, DynamicParameters Parameters) Where(FinanceFilter filter)
    {
        var conditions = new List<string>();
        var parameters = new DynamicParameters();
        if (filter.FromInstant is { } from)
        {
            conditions.Add("e.occurred_at >= @fromTime");
            parameters.Add("fromTime", from);
        }

        if (filter.ToInstantExclusive is { } to)
        {
            conditions.Add("e.occurred_at < @toTime");
            parameters.Add("toTime", to);
        }

        if (filter.OfferId is { } offer)
        {
            conditions.Add("e.offer_id = @offerId");
            parameters.Add("offerId", offer);
        }

        if (filter.PlanId is { } plan)
        {
            conditions.Add("(e.from_plan = @planId OR e.to_plan = @planId)");
            parameters.Add("planId", plan);
        }

        if (filter.Kind is { } kind)
        {
            conditions.Add("e.kind = @kind");
            parameters.Add("kind", kind);
        }

        if (filter.Source is { } source)
        {
            conditions.Add("e.source = @source");
            parameters.Add("source", source);
        }

        if (filter.SubscriptionId is { } subscriptionId)
        {
            conditions.Add("e.subscription_id = @subscriptionId");
            parameters.Add("subscriptionId", subscriptionId);
        }

        if (filter.Customer is { } customer)
        {
            conditions.Add(CustomerSubscriptions("e.subscription_id"));
            parameters.Add("customer", customer.ToLowerInvariant());
        }

        return (conditions, parameters);
    }

    /// <summary>
    /// The subscriptions whose beneficiary or purchaser matches @customer (already lower case) by e-mail or tenant.
    /// The lower(...) expression indexes of 0002_finance_history_filters.sql serve each arm.
    /// </summary>
    internal static string CustomerSubscriptions(string idColumn) => $"""
        {idColumn} IN (
            SELECT c.id FROM subscriptions c
            WHERE lower(c.beneficiary_email) = @customer OR lower(c.purchaser_email) = @customer
               OR lower(c.beneficiary_tenant_id) = @customer OR lower(c.purchaser_tenant_id) = @customer)
        """;
}
