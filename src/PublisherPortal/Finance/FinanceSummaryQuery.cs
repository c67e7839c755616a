using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Finance;

/// <summary>Active (Subscribed) subscriptions and their seats on one plan at the end of one month.</summary>
public sealed record PlanMonthTotals
{
    public string Month { get; init; } = "";
    public string OfferId { get; init; } = "";
    public string PlanId { get; init; } = "";
    public long ActiveSubscriptions { get; init; }
    public long Seats { get; init; }

    public string PlanKey => $"{OfferId}/{PlanId}";
}

/// <summary>What moved during one month, counted from the history's transitions.</summary>
public sealed record MonthMovements
{
    public string Month { get; init; } = "";
    public long NewSubscriptions { get; init; }
    public long Activated { get; init; }
    public long Cancelled { get; init; }
    public long Suspended { get; init; }
    public long Reinstated { get; init; }
    public long PlanChanges { get; init; }
    public long SeatChanges { get; init; }
}

/// <summary>Months are "yyyy-MM" (UTC); every month of the range appears, quiet ones with zeros.</summary>
public sealed record FinanceSummary(IReadOnlyList<string> Months, IReadOnlyList<PlanMonthTotals> Totals, IReadOnlyList<MonthMovements> Movements)
{
    public IReadOnlyList<string> PlanKeys => Totals.Select(t => t.PlanKey).Distinct().Order(StringComparer.Ordinal).ToList();

    public PlanMonthTotals? TotalsFor(string month, string planKey) =>
        Totals.FirstOrDefault(t => t.Month == month && t.PlanKey == planKey);

    public long ActiveIn(string month) => Totals.Where(t => t.Month == month).Sum(t => t.ActiveSubscriptions);

    public long SeatsIn(string month) => Totals.Where(t => t.Month == month).Sum(t => t.Seats);
}

/// <summary>
/// Month by month: the active book per plan (rebuilt from the history as of each month's end, like the point-in-time
/// view) and the month's movements. Both come from subscription_events only, so they agree with the history page.
/// </summary>
public sealed class FinanceSummaryQuery(PortalDatabase database, TimeProvider time)
{
    public const int MaxMonths = 36;

    public async Task<FinanceSummary> MonthlyAsync(DateOnly firstMonth, DateOnly lastMonth, CancellationToken ct = default)
    {
        var first = new DateOnly(firstMonth.Year, firstMonth.Month, 1);
        var last = new DateOnly(lastMonth.Year, lastMonth.Month, 1);
        if (last < first)
        {
            (first, last) = (last, first);
        }

        var months = new List<DateOnly>();
        for (var m = first; m <= last && months.Count < MaxMonths; m = m.AddMonths(1))
        {
            months.Add(m);
        }

        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        var totals = new List<PlanMonthTotals>();
        foreach (var month in months)
        {
            var monthStart = Start(month);
            if (monthStart > now)
            {
                break; // the future has no book yet
            }

            // The current month is as of now; a past month as of its last tick.
            var end = Start(month.AddMonths(1)).AddTicks(-1);
            var asOf = end < now ? end : now;
            var rows = await connection.QueryAsync<PlanMonthTotals>(new CommandDefinition($"""
                SELECT @month AS month, e.offer_id, e.to_plan AS plan_id,
                       COUNT(*) AS active_subscriptions, COALESCE(SUM(e.to_quantity), 0) AS seats
                FROM subscriptions s
                JOIN subscription_events e ON e.id = (
                    SELECT l.id FROM subscription_events l
                    WHERE l.subscription_id = s.id AND l.occurred_at <= @asOf AND l.to_status IS NOT NULL AND l.to_plan IS NOT NULL
                    ORDER BY l.occurred_at DESC, l.id DESC
                    LIMIT 1)
                WHERE e.to_status = 'Subscribed'
                GROUP BY e.offer_id, e.to_plan
                """, new { month = Label(month), asOf }, cancellationToken: ct));
            totals.AddRange(rows);
        }

        var monthOf = database.Sql(
            sqlite: "substr(e.occurred_at, 1, 7)",
            postgres: "to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM')");
        var movements = (await connection.QueryAsync<MonthMovements>(new CommandDefinition($"""
            SELECT {monthOf} AS month,
                   SUM(CASE WHEN e.kind = 'Resolved' THEN 1 ELSE 0 END) AS new_subscriptions,
                   SUM(CASE WHEN e.from_status = 'PendingFulfillmentStart' AND e.to_status = 'Subscribed' THEN 1 ELSE 0 END) AS activated,
                   SUM(CASE WHEN e.to_status = 'Unsubscribed' AND (e.from_status IS NULL OR e.from_status <> 'Unsubscribed') THEN 1 ELSE 0 END) AS cancelled,
                   SUM(CASE WHEN e.to_status = 'Suspended' AND (e.from_status IS NULL OR e.from_status <> 'Suspended') THEN 1 ELSE 0 END) AS suspended,
                   SUM(CASE WHEN e.from_status = 'Suspended' AND e.to_status = 'Subscribed' THEN 1 ELSE 0 END) AS reinstated,
                   SUM(CASE WHEN e.from_plan <> e.to_plan THEN 1 ELSE 0 END) AS plan_changes,
                   SUM(CASE WHEN e.from_quantity <> e.to_quantity THEN 1 ELSE 0 END) AS seat_changes
            FROM subscription_events e
            WHERE e.occurred_at >= @from AND e.occurred_at < @to
            GROUP BY {monthOf}
            """, new { from = Start(first), to = Start(months[^1].AddMonths(1)) }, cancellationToken: ct)))
            .ToDictionary(m => m.Month);

        var labels = months.Select(Label).ToList();
        return new FinanceSummary(
            labels,
            totals,
            labels.Select(l => movements.TryGetValue(l, out var m) ? m : new MonthMovements { Month = l }).ToList());
    }

    private static DateTimeOffset Start(DateOnly month) => new(month.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static string Label(DateOnly month) => month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
}
