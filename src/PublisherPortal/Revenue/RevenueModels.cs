namespace PublisherPortal.Revenue;

/// <summary>What the calculator needs of a subscription: the fields that never come from history.</summary>
public sealed record RevenueSubscription(Guid Id, string Name, string OfferId, string? TermUnit, bool IsTest, bool IsFreeTrial);

/// <summary>A history event that sets status, plan and seats (subscription_events with to_status and to_plan).</summary>
public sealed record StateChange(long EventId, Guid SubscriptionId, DateTimeOffset At, string Kind, string Status, string PlanId, int? Quantity);

/// <summary>Why a subscription adds nothing to revenue at an instant.</summary>
public enum RevenueExclusion
{
    None,
    NotSubscribed,
    FreeTrial,
    Test,
    Unpriced,
}

/// <summary>One subscription's revenue at an instant (the per-subscription export and the drill-down).</summary>
public sealed record SubscriptionRevenue(
    Guid SubscriptionId, string Name, string OfferId, string PlanId, string Status, int? Quantity, string Currency, string TermUnit,
    decimal Mrr, PriceSource? Source, RevenueExclusion Exclusion)
{
    public decimal Arr => Mrr * 12m;
}

/// <summary>Where a month's change of one subscription's MRR goes.</summary>
public enum MovementKind
{
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

/// <summary>One subscription's movement in one month: the line behind a movement figure.</summary>
public sealed record MovementLine(
    string Month, string Currency, MovementKind Kind, Guid SubscriptionId, string Name, string OfferId, string PlanId,
    decimal StartMrr, decimal EndMrr)
{
    /// <summary>The movement's size, positive: what the figure of its kind adds (new, expansion, reactivation) or takes away.</summary>
    public decimal Amount => Math.Abs(EndMrr - StartMrr);
}

/// <summary>Filters a finance reader sets; null means all.</summary>
public sealed record RevenueFilter(string? OfferId = null, string? PlanId = null, string? Currency = null);

/// <summary>One month in one currency: start + new + expansion − contraction − churn + reactivation = end, to the cent.</summary>
public sealed record MonthRevenue
{
    public string Month { get; init; } = "";
    public string Currency { get; init; } = "";
    public decimal StartMrr { get; set; }
    public decimal New { get; set; }
    public decimal Expansion { get; set; }
    public decimal Contraction { get; set; }
    public decimal Churn { get; set; }
    public decimal Reactivation { get; set; }
    public decimal EndMrr { get; set; }
    public int StartCustomers { get; set; }
    public int EndCustomers { get; set; }
    public int NewCustomers { get; set; }
    public int ChurnedCustomers { get; set; }
    public int ReactivatedCustomers { get; set; }

    /// <summary>Metered revenue billed in the month (usage the marketplace accepted beyond included quantities).</summary>
    public decimal Metered { get; set; }

    public decimal Arr => EndMrr * 12m;

    /// <summary>Does the month add up? It always should; the page and the tests check it rather than assume it.</summary>
    public bool Reconciles => StartMrr + New + Expansion - Contraction - Churn + Reactivation == EndMrr;

    /// <summary>Customers paying at the start who paid nothing at the end, over customers paying at the start.</summary>
    public decimal? LogoChurnRate => StartCustomers == 0 ? null : (decimal)ChurnedCustomers / StartCustomers;

    /// <summary>Gross revenue churn: MRR lost to churn and contraction over starting MRR.</summary>
    public decimal? RevenueChurnRate => StartMrr == 0 ? null : (Churn + Contraction) / StartMrr;

    /// <summary>Net revenue retention: what the customers paying at the start pay at the end, new customers left out.</summary>
    public decimal? NetRevenueRetention => StartMrr == 0 ? null : (StartMrr + Expansion - Contraction - Churn) / StartMrr;
}

/// <summary>MRR at a month's end by offer, plan and currency (the table under the chart).</summary>
public sealed record PlanRevenue(string Month, string OfferId, string PlanId, string Currency, decimal Mrr, int Subscriptions, int RecordedPriceSubscriptions);

/// <summary>What the revenue page shows for a range of months.</summary>
public sealed record RevenueReport(
    IReadOnlyList<string> Months,
    IReadOnlyList<MonthRevenue> Movements,
    IReadOnlyList<PlanRevenue> ByPlan,
    IReadOnlyList<MovementLine> Lines,
    IReadOnlyList<ExcludedCount> Excluded)
{
    public IReadOnlyList<MeteredRevenue> Metered { get; init; } = [];

    public IReadOnlyList<string> Currencies => Movements.Select(m => m.Currency).Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>Subscriptions left out of revenue at a month's end, and why (trials and test subscriptions shown apart).</summary>
public sealed record ExcludedCount(string Month, RevenueExclusion Reason, int Subscriptions);

/// <summary>Usage the marketplace accepted for one subscription, plan and dimension in one month, in whole millionths.</summary>
public sealed record AcceptedUsage(Guid SubscriptionId, string PlanId, string Dimension, string Month, long BilledMicros);

/// <summary>Metered revenue of one month: units billed beyond what the plan includes, at the dimension's unit price.</summary>
public sealed record MeteredRevenue(
    string Month, string Currency, string OfferId, string PlanId, string Dimension, decimal BilledUnits, decimal IncludedUnits,
    decimal ChargedUnits, decimal Amount, int Subscriptions, int UnpricedSubscriptions);

/// <summary>What the revenue filters offer.</summary>
public sealed record RevenueChoices(IReadOnlyList<(string OfferId, string PlanId)> Plans, IReadOnlyList<string> Currencies)
{
    public IReadOnlyList<string> Offers => Plans.Select(p => p.OfferId).Distinct().ToList();
}
