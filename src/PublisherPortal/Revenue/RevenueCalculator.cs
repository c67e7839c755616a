using System.Globalization;

namespace PublisherPortal.Revenue;

/// <summary>
/// Turns history and prices into revenue, with no database and no clock of its own, so every rule is tested on
/// hand-computed figures. The rules (docs/architecture.md#revenue):
/// <list type="bullet">
/// <item>A subscription earns MRR only while Subscribed: not before activation, not while Suspended (the marketplace is
/// not collecting), not once Unsubscribed. Free trials and test subscriptions earn none and are counted apart.</item>
/// <item>A month's figure is the MRR in force at its end: a change on the 15th counts in full from that month on.</item>
/// <item>A month's movement of a subscription is its end MRR minus its start MRR, put in exactly one bucket: new (it paid
/// nothing at the start and never before), reactivation (it paid before), churn (it pays nothing at the end), else
/// expansion or contraction. So start + movements = end holds per subscription, and thus for every sum.</item>
/// </list>
/// </summary>
public static class RevenueCalculator
{
    /// <summary>Each subscription's revenue at <paramref name="at"/> (changes at exactly that instant included).</summary>
    public static IEnumerable<SubscriptionRevenue> At(
        IReadOnlyDictionary<Guid, RevenueSubscription> subscriptions, IEnumerable<StateChange> changes, PriceBook prices,
        DateTimeOffset at, RevenueFilter filter)
    {
        foreach (var history in BySubscription(changes))
        {
            if (!subscriptions.TryGetValue(history[0].SubscriptionId, out var subscription)
                || (filter.OfferId is not null && subscription.OfferId != filter.OfferId))
            {
                continue;
            }

            StateChange? state = null;
            foreach (var change in history)
            {
                if (change.At > at)
                {
                    break;
                }

                state = change;
            }

            if (state is null || (filter.PlanId is not null && state.PlanId != filter.PlanId))
            {
                continue;
            }

            var revenue = Evaluate(subscription, state, prices, at);
            if (filter.Currency is null || revenue.Currency == filter.Currency)
            {
                yield return revenue;
            }
        }
    }

    /// <summary>
    /// Month by month from <paramref name="firstMonth"/> to <paramref name="lastMonth"/> (months after <paramref name="now"/>
    /// are left out; the current month ends now). <paramref name="keepLine"/> chooses the movement lines to return (the
    /// drill-down); null keeps none, so a summary over millions of events holds no line in memory.
    /// </summary>
    public static RevenueReport Monthly(
        IReadOnlyDictionary<Guid, RevenueSubscription> subscriptions, IEnumerable<StateChange> changes, PriceBook prices,
        DateOnly firstMonth, DateOnly lastMonth, DateTimeOffset now, RevenueFilter filter, Func<MovementLine, bool>? keepLine = null)
    {
        var months = new List<DateOnly>();
        for (var m = new DateOnly(firstMonth.Year, firstMonth.Month, 1); m <= lastMonth && Start(m) <= now; m = m.AddMonths(1))
        {
            months.Add(m);
        }

        var labels = months.Select(Label).ToArray();
        // Boundaries are exclusive: the value "at the end of month k" counts changes strictly before the next month's
        // first instant, the start of month k is the end of month k−1. The current month ends now, inclusive.
        var boundaries = new DateTimeOffset[months.Count + 1];
        for (var k = 0; k < months.Count; k++)
        {
            boundaries[k] = Start(months[k]);
        }

        if (months.Count > 0)
        {
            var afterLast = Start(months[^1].AddMonths(1));
            boundaries[months.Count] = afterLast <= now ? afterLast : now.AddTicks(1);
        }

        var movements = new Dictionary<(int Month, string Currency), MonthRevenue>();
        var byPlan = new Dictionary<(int Month, string Offer, string Plan, string Currency), (decimal Mrr, int Count, int Recorded)>();
        var excluded = new Dictionary<(int Month, RevenueExclusion Reason), int>();
        var lines = new List<MovementLine>();

        MonthRevenue Row(int k, string currency)
        {
            if (!movements.TryGetValue((k, currency), out var row))
            {
                row = new MonthRevenue { Month = labels[k], Currency = currency };
                movements[(k, currency)] = row;
            }

            return row;
        }

        foreach (var history in BySubscription(changes))
        {
            if (months.Count == 0 || !subscriptions.TryGetValue(history[0].SubscriptionId, out var subscription)
                || (filter.OfferId is not null && subscription.OfferId != filter.OfferId))
            {
                continue;
            }

            var next = 0;
            StateChange? state = null;
            var paidBefore = false;
            SubscriptionRevenue? previous = null;
            StateChange? previousState = null;
            var previousAt = DateTimeOffset.MinValue;
            for (var b = 0; b <= months.Count; b++)
            {
                var boundary = boundaries[b];
                // Paid before the month being closed: what the months before it and their own spells showed.
                var paidBeforeStart = paidBefore;
                while (next < history.Count && history[next].At < boundary)
                {
                    // "Paid before" looks at every state the subscription went through, also one that began and ended
                    // inside a month, so a customer who left mid-month and came back the next is a reactivation, not new.
                    if (!paidBefore && state is not null)
                    {
                        paidBefore = Evaluate(subscription, state, prices, history[next].At.AddTicks(-1)).Mrr > 0;
                    }

                    state = history[next++];
                }

                var valuedAt = boundary.AddTicks(-1);
                var current = state is null ? null
                    : previous is not null && ReferenceEquals(state, previousState) && !prices.MayChangeBetween(previousAt, valuedAt) ? previous
                    : Evaluate(subscription, state, prices, valuedAt);
                previousState = state;
                previousAt = valuedAt;
                if (b > 0)
                {
                    var k = b - 1;
                    if (current is not null)
                    {
                        if (current.Exclusion is RevenueExclusion.FreeTrial or RevenueExclusion.Test or RevenueExclusion.Unpriced
                            && current.Status == "Subscribed")
                        {
                            excluded[(k, current.Exclusion)] = excluded.GetValueOrDefault((k, current.Exclusion)) + 1;
                        }
                        else if (current.Mrr > 0 && InSlice(current, filter))
                        {
                            var key = (k, current.OfferId, current.PlanId, current.Currency);
                            var (mrr, count, recorded) = byPlan.GetValueOrDefault(key);
                            byPlan[key] = (mrr + current.Mrr, count + 1, recorded + (current.Source == PriceSource.Recorded ? 1 : 0));
                        }
                    }

                    Move(k, previous, current, paidBeforeStart);
                }

                if (!paidBefore && current is { Mrr: > 0 })
                {
                    paidBefore = true;
                }

                previous = current;
            }

            void Move(int k, SubscriptionRevenue? start, SubscriptionRevenue? end, bool paidBeforeStart)
            {
                var startMrr = start?.Mrr ?? 0m;
                var endMrr = end?.Mrr ?? 0m;
                // Each currency is its own ledger: a subscription counts in the currency of each side.
                foreach (var currency in new[] { start?.Currency, end?.Currency }.Where(c => c is not null).Distinct())
                {
                    if (filter.Currency is not null && currency != filter.Currency)
                    {
                        continue;
                    }

                    var s = start is not null && start.Currency == currency && InSlice(start, filter) ? startMrr : 0m;
                    var e = end is not null && end.Currency == currency && InSlice(end, filter) ? endMrr : 0m;
                    if (s == 0m && e == 0m)
                    {
                        continue;
                    }

                    var row = Row(k, currency!);
                    row.StartMrr += s;
                    row.EndMrr += e;
                    row.StartCustomers += s > 0 ? 1 : 0;
                    row.EndCustomers += e > 0 ? 1 : 0;
                    if (s == e)
                    {
                        continue;
                    }

                    // The whole subscription decides the kind; the slice (plan, currency) decides the amount. A move
                    // to another plan is contraction on the old plan and expansion on the new, never churn and new.
                    MovementKind kind;
                    if (startMrr == 0m)
                    {
                        kind = paidBeforeStart ? MovementKind.Reactivation : MovementKind.New;
                    }
                    else if (endMrr == 0m)
                    {
                        kind = MovementKind.Churn;
                    }
                    else
                    {
                        kind = e > s ? MovementKind.Expansion : MovementKind.Contraction;
                    }

                    switch (kind)
                    {
                        case MovementKind.New: row.New += e - s; row.NewCustomers++; break;
                        case MovementKind.Reactivation: row.Reactivation += e - s; row.ReactivatedCustomers++; break;
                        case MovementKind.Churn: row.Churn += s - e; row.ChurnedCustomers++; break;
                        case MovementKind.Expansion: row.Expansion += e - s; break;
                        case MovementKind.Contraction: row.Contraction += s - e; break;
                    }

                    if (keepLine is not null)
                    {
                        var line = new MovementLine(labels[k], currency!, kind, subscription.Id, subscription.Name, subscription.OfferId,
                            (end is { Mrr: > 0 } ? end : start)!.PlanId, s, e);
                        if (keepLine(line))
                        {
                            lines.Add(line);
                        }
                    }
                }
            }
        }

        return new RevenueReport(
            labels,
            movements.OrderBy(m => m.Key.Month).ThenBy(m => m.Key.Currency, StringComparer.Ordinal).Select(m => m.Value).ToList(),
            byPlan.OrderBy(p => p.Key.Month).ThenBy(p => p.Key.Offer, StringComparer.Ordinal).ThenBy(p => p.Key.Plan, StringComparer.Ordinal)
                .ThenBy(p => p.Key.Currency, StringComparer.Ordinal)
                .Select(p => new PlanRevenue(labels[p.Key.Month], p.Key.Offer, p.Key.Plan, p.Key.Currency, p.Value.Mrr, p.Value.Count, p.Value.Recorded))
                .ToList(),
            lines.OrderBy(l => l.Month, StringComparer.Ordinal).ThenBy(l => l.Currency, StringComparer.Ordinal).ThenBy(l => l.Kind)
                .ThenBy(l => l.Name, StringComparer.Ordinal).ThenBy(l => l.SubscriptionId).ToList(),
            excluded.OrderBy(x => x.Key.Month).ThenBy(x => x.Key.Reason).Select(x => new ExcludedCount(labels[x.Key.Month], x.Key.Reason, x.Value)).ToList());
    }

    /// <summary>
    /// Metered revenue per month: for each subscription, dimension and month, the units the marketplace accepted beyond the
    /// plan's included units for a month, times the unit price in force at the month's end, rounded to the cent per
    /// subscription. Test subscriptions and free trials are left out, like their recurring revenue.
    /// </summary>
    public static IReadOnlyList<MeteredRevenue> Metered(
        IReadOnlyDictionary<Guid, RevenueSubscription> subscriptions, IEnumerable<AcceptedUsage> usage, PriceBook prices, RevenueFilter filter)
    {
        var totals = new Dictionary<(string Month, string Currency, string Offer, string Plan, string Dimension), (decimal Billed, decimal Included, decimal Charged, decimal Amount, int Count, int Unpriced)>();
        foreach (var u in usage)
        {
            if (!subscriptions.TryGetValue(u.SubscriptionId, out var subscription) || subscription.IsTest || subscription.IsFreeTrial
                || (filter.OfferId is not null && subscription.OfferId != filter.OfferId) || (filter.PlanId is not null && u.PlanId != filter.PlanId))
            {
                continue;
            }

            var monthEnd = Start(DateOnly.ParseExact(u.Month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).AddMonths(1)).AddTicks(-1);
            var currency = prices.CurrencyOf(u.SubscriptionId, monthEnd);
            if (filter.Currency is not null && currency != filter.Currency)
            {
                continue;
            }

            var billed = u.BilledMicros / 1_000_000m;
            var price = prices.Dimension(subscription.OfferId, u.PlanId, u.Dimension, currency, monthEnd);
            var included = price?.IncludedPerMonth ?? 0m;
            var charged = Math.Max(0m, billed - included);
            var amount = price is null ? 0m : decimal.Round(charged * price.UnitPrice, 2, MidpointRounding.AwayFromZero);
            var key = (u.Month, currency, subscription.OfferId, u.PlanId, u.Dimension);
            var t = totals.GetValueOrDefault(key);
            totals[key] = (t.Billed + billed, t.Included + Math.Min(included, billed), t.Charged + (price is null ? 0m : charged), t.Amount + amount,
                t.Count + 1, t.Unpriced + (price is null ? 1 : 0));
        }

        return totals.OrderBy(t => t.Key.Month, StringComparer.Ordinal).ThenBy(t => t.Key.Currency, StringComparer.Ordinal)
            .ThenBy(t => t.Key.Offer, StringComparer.Ordinal).ThenBy(t => t.Key.Plan, StringComparer.Ordinal).ThenBy(t => t.Key.Dimension, StringComparer.Ordinal)
            .Select(t => new MeteredRevenue(t.Key.Month, t.Key.Currency, t.Key.Offer, t.Key.Plan, t.Key.Dimension, t.Value.Billed, t.Value.Included,
                t.Value.Charged, t.Value.Amount, t.Value.Count, t.Value.Unpriced))
            .ToList();
    }

    public static string Label(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public static DateTimeOffset Start(DateOnly month) => new(new DateTime(month.Year, month.Month, 1, 0, 0, 0, DateTimeKind.Utc));

    private static bool InSlice(SubscriptionRevenue r, RevenueFilter filter) => filter.PlanId is null || r.PlanId == filter.PlanId;

    private static SubscriptionRevenue Evaluate(RevenueSubscription subscription, StateChange state, PriceBook prices, DateTimeOffset at)
    {
        var term = subscription.TermUnit ?? "P1M";
        SubscriptionRevenue Nothing(RevenueExclusion why, string currency) => new(
            subscription.Id, subscription.Name, subscription.OfferId, state.PlanId, state.Status, state.Quantity, currency, term, 0m, null, why);

        if (state.Status != "Subscribed")
        {
            return Nothing(RevenueExclusion.NotSubscribed, prices.CurrencyOf(subscription.Id, at));
        }

        if (subscription.IsTest)
        {
            return Nothing(RevenueExclusion.Test, prices.CurrencyOf(subscription.Id, at));
        }

        if (subscription.IsFreeTrial)
        {
            return Nothing(RevenueExclusion.FreeTrial, prices.CurrencyOf(subscription.Id, at));
        }

        var value = prices.Value(subscription.Id, subscription.OfferId, state.PlanId, state.Quantity, subscription.TermUnit, at);
        return value is null
            ? Nothing(RevenueExclusion.Unpriced, prices.CurrencyOf(subscription.Id, at))
            : new SubscriptionRevenue(subscription.Id, subscription.Name, subscription.OfferId, state.PlanId, state.Status, state.Quantity,
                value.Currency, value.TermUnit, value.Mrr, value.Source, RevenueExclusion.None);
    }

    /// <summary>Groups changes per subscription in history order; the caller's order is trusted when already grouped.</summary>
    private static IEnumerable<List<StateChange>> BySubscription(IEnumerable<StateChange> changes)
    {
        List<StateChange>? group = null;
        var seen = new HashSet<Guid>();
        var needsSort = false;
        var buffered = new Dictionary<Guid, List<StateChange>>();
        foreach (var change in changes)
        {
            if (group is not null && group[0].SubscriptionId == change.SubscriptionId)
            {
                group.Add(change);
                continue;
            }

            if (group is not null)
            {
                buffered[group[0].SubscriptionId] = group;
            }

            if (!seen.Add(change.SubscriptionId))
            {
                needsSort = true; // interleaved input: append to the earlier group
                group = buffered[change.SubscriptionId];
                group.Add(change);
                continue;
            }

            group = [change];
        }

        if (group is not null)
        {
            buffered[group[0].SubscriptionId] = group;
        }

        foreach (var g in buffered.Values)
        {
            if (needsSort || !IsOrdered(g))
            {
                g.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.EventId.CompareTo(b.EventId));
            }

            yield return g;
        }
    }

    private static bool IsOrdered(List<StateChange> g)
    {
        for (var i = 1; i < g.Count; i++)
        {
            if (g[i - 1].At > g[i].At || (g[i - 1].At == g[i].At && g[i - 1].EventId > g[i].EventId))
            {
                return false;
            }
        }

        return true;
    }
}
