using System.Data.Common;
using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Revenue;

/// <summary>Settings of the revenue report.</summary>
public sealed class RevenueOptions
{
    /// <summary>The currency of a subscription for which no Admin recorded another (the marketplace does not say).</summary>
    public string DefaultCurrency { get; set; } = "USD";
}

/// <summary>
/// Reads history, prices and accepted usage from the database and hands them to <see cref="RevenueCalculator"/>. Read-only:
/// finance sees figures, nobody edits them.
/// </summary>
public sealed class RevenueQuery(PortalDatabase database, TimeProvider time, IOptions<RevenueOptions> options)
{
    public const int MaxMonths = 36;

    public async Task<RevenueReport> MonthlyAsync(
        DateOnly firstMonth, DateOnly lastMonth, RevenueFilter filter, Func<MovementLine, bool>? keepLine = null, CancellationToken ct = default)
    {
        if (lastMonth < firstMonth)
        {
            (firstMonth, lastMonth) = (lastMonth, firstMonth);
        }

        if (firstMonth.AddMonths(MaxMonths - 1) < lastMonth)
        {
            firstMonth = lastMonth.AddMonths(-(MaxMonths - 1));
        }

        var now = time.GetUtcNow();
        var end = RevenueCalculator.Start(new DateOnly(lastMonth.Year, lastMonth.Month, 1).AddMonths(1));
        await using var connection = await database.OpenAsync(ct);
        var (subscriptions, changes, prices) = await LoadAsync(connection, filter, end < now ? end : now, ct);
        var report = RevenueCalculator.Monthly(subscriptions, changes, prices, firstMonth, lastMonth, now, filter, keepLine);
        var usage = await AcceptedUsageAsync(connection, RevenueCalculator.Start(new DateOnly(firstMonth.Year, firstMonth.Month, 1)), end, ct);
        var metered = RevenueCalculator.Metered(subscriptions, usage, prices, filter);
        foreach (var m in report.Movements)
        {
            m.Metered = metered.Where(x => x.Month == m.Month && x.Currency == m.Currency).Sum(x => x.Amount);
        }

        return report with { Metered = metered };
    }

    /// <summary>Each subscription's revenue at <paramref name="at"/>, streamed in name order for the export.</summary>
    public async Task<IReadOnlyList<SubscriptionRevenue>> AtAsync(DateTimeOffset at, RevenueFilter filter, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var (subscriptions, changes, prices) = await LoadAsync(connection, filter, at.AddTicks(1), ct);
        return RevenueCalculator.At(subscriptions, changes, prices, at, filter)
            .OrderBy(r => r.Name, StringComparer.Ordinal).ThenBy(r => r.SubscriptionId).ToList();
    }

    /// <summary>The offers and plans the filters offer, and the currencies any price or recorded price is in.</summary>
    public async Task<RevenueChoices> ChoicesAsync(CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var plans = await connection.QueryAsync<(string OfferId, string PlanId)>(new CommandDefinition(
            "SELECT offer_id, plan_id FROM plans ORDER BY offer_id, plan_id", cancellationToken: ct));
        var currencies = await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT currency FROM plan_prices UNION SELECT currency FROM subscription_prices ORDER BY 1
            """, cancellationToken: ct));
        return new RevenueChoices(plans.ToList(), currencies.Append(options.Value.DefaultCurrency).Distinct().Order(StringComparer.Ordinal).ToList());
    }

    private async Task<(Dictionary<Guid, RevenueSubscription>, List<StateChange>, PriceBook)> LoadAsync(
        DbConnection connection, RevenueFilter filter, DateTimeOffset before, CancellationToken ct)
    {
        // The offer filter is written into the SQL only when set: PostgreSQL cannot type a bare null parameter.
        var byOffer = filter.OfferId is null ? "" : "AND offer_id = @offerId";
        var subscriptions = (await connection.QueryAsync<SubscriptionRow>(new CommandDefinition($"""
                SELECT id, name, offer_id, term_unit, is_test, is_free_trial FROM subscriptions
                WHERE 1 = 1 {byOffer}
                """, new { offerId = filter.OfferId }, cancellationToken: ct)))
            .ToDictionary(s => s.Id, s => new RevenueSubscription(s.Id, s.Name, s.OfferId, s.TermUnit, s.IsTest, s.IsFreeTrial));

        // Only events that set status and plan move money; milestones repeat them. Ordered as the calculator walks them.
        // Read with a plain data reader: at a million events, mapping each row through Dapper's handlers (a general
        // time parse, a GUID parse per row) was most of the report's time; here a subscription's id is parsed once
        // and the fixed-width time text directly.
        var changes = new List<StateChange>();
        await using (var reader = await connection.ExecuteReaderAsync(new CommandDefinition($"""
                SELECT id, subscription_id, occurred_at, kind, to_status, to_plan, to_quantity
                FROM subscription_events
                WHERE to_status IS NOT NULL AND to_plan IS NOT NULL AND occurred_at < @before
                  {byOffer}
                ORDER BY subscription_id, occurred_at, id
                """, new { before, offerId = filter.OfferId }, cancellationToken: ct)))
        {
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            string Shared(string text) => names.TryGetValue(text, out var known) ? known : names[text] = text;
            string? lastId = null;
            var subscriptionId = Guid.Empty;
            while (await reader.ReadAsync(ct))
            {
                var idText = reader.GetValue(1).ToString()!;
                if (idText != lastId)
                {
                    (lastId, subscriptionId) = (idText, Guid.Parse(idText));
                }

                changes.Add(new StateChange(
                    reader.GetInt64(0), subscriptionId, ReadTime(reader.GetValue(2)), Shared(reader.GetString(3)), Shared(reader.GetString(4)),
                    Shared(reader.GetString(5)), reader.IsDBNull(6) ? null : Convert.ToInt32(reader.GetValue(6), System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        var (list, dimensions) = await PlanPriceStore.LoadAsync(connection, ct);
        var recorded = await RecordedPriceStore.LoadAsync(connection, ct);
        return (subscriptions, changes, new PriceBook(list, recorded, dimensions, options.Value.DefaultCurrency));
    }

    private async Task<IReadOnlyList<AcceptedUsage>> AcceptedUsageAsync(DbConnection connection, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        // What the marketplace holds for each hour (billed_quantity_micros), not what the product reported to us.
        var monthOf = database.Sql(
            sqlite: "substr(h.hour_start, 1, 7)",
            postgres: "to_char(h.hour_start AT TIME ZONE 'UTC', 'YYYY-MM')");
        var rows = await connection.QueryAsync<UsageRow>(new CommandDefinition($"""
            SELECT h.subscription_id, COALESCE(h.plan_id, s.plan_id) AS plan_id, h.dimension, {monthOf} AS month,
                   SUM(h.billed_quantity_micros) AS billed_micros
            FROM usage_hours h JOIN subscriptions s ON s.id = h.subscription_id
            WHERE h.state IN ('Accepted', 'Duplicate') AND h.billed_quantity_micros IS NOT NULL
              AND h.hour_start >= @from AND h.hour_start < @to
            GROUP BY h.subscription_id, COALESCE(h.plan_id, s.plan_id), h.dimension, {monthOf}
            """, new { from, to }, cancellationToken: ct));
        return rows.Select(r => new AcceptedUsage(r.SubscriptionId, r.PlanId, r.Dimension, r.Month, r.BilledMicros)).ToList();
    }

    private sealed record SubscriptionRow
    {
        public Guid Id { get; init; }
        public string Name { get; init; } = "";
        public string OfferId { get; init; } = "";
        public string? TermUnit { get; init; }
        public bool IsTest { get; init; }
        public bool IsFreeTrial { get; init; }
    }

    /// <summary>A time as either engine returns it: PostgreSQL a UTC DateTime, SQLite the fixed-width text 'yyyy-MM-ddTHH:mm:ss.fffffffZ'.</summary>
    private static DateTimeOffset ReadTime(object value)
    {
        switch (value)
        {
            case DateTimeOffset dto:
                return dto;
            case DateTime dt:
                return new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc));
            case string { Length: 28 } s when s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[27] == 'Z':
                static int N(string t, int from, int count)
                {
                    var n = 0;
                    for (var i = from; i < from + count; i++)
                    {
                        n = (n * 10) + (t[i] - '0');
                    }

                    return n;
                }

                return new DateTimeOffset(new DateTime(N(s, 0, 4), N(s, 5, 2), N(s, 8, 2), N(s, 11, 2), N(s, 14, 2), N(s, 17, 2), DateTimeKind.Utc)
                    .AddTicks(N(s, 20, 7)));
            default:
                return DateTimeOffset.Parse(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!,
                    System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        }
    }

    private sealed record UsageRow
    {
        public Guid SubscriptionId { get; init; }
        public string PlanId { get; init; } = "";
        public string Dimension { get; init; } = "";
        public string Month { get; init; } = "";
        public long BilledMicros { get; init; }
    }
}
