using System.Globalization;
using PublisherPortal.Finance;

namespace PublisherPortal.Revenue;

/// <summary>
/// The revenue exports, written through the finance exports' chunked CSV writer. The figures are computed in memory
/// first (the calculator needs each subscription's whole history), then streamed row by row.
/// </summary>
public sealed class RevenueCsvExport(RevenueQuery revenue)
{
    public static readonly string[] MovementsHeader =
    [
        "month", "currency", "start_mrr", "new", "expansion", "contraction", "churn", "reactivation", "end_mrr", "end_arr",
        "metered", "start_customers", "end_customers", "new_customers", "churned_customers", "reactivated_customers",
        "logo_churn_rate", "revenue_churn_rate", "net_revenue_retention",
    ];

    public static readonly string[] SubscriptionsHeader =
    [
        "as_of_utc", "subscription_id", "subscription_name", "offer_id", "plan_id", "status", "quantity", "currency", "term_unit",
        "mrr", "arr", "price_source", "excluded_because",
    ];

    public async Task WriteMovementsAsync(Stream destination, RevenueAddress address, ExportProgress progress, CancellationToken ct)
    {
        var report = await revenue.MonthlyAsync(address.FirstMonth, address.LastMonth, address.Filter, ct: ct);
        await FinanceCsvExport.WriteAsync(destination, MovementsHeader, report.Movements.ToAsyncEnumerable(), (csv, m) =>
        {
            csv.WriteField(m.Month);
            csv.WriteField(m.Currency);
            foreach (var amount in new[] { m.StartMrr, m.New, m.Expansion, m.Contraction, m.Churn, m.Reactivation, m.EndMrr, m.Arr, m.Metered })
            {
                csv.WriteField(Money(amount));
            }

            foreach (var count in new[] { m.StartCustomers, m.EndCustomers, m.NewCustomers, m.ChurnedCustomers, m.ReactivatedCustomers })
            {
                csv.WriteField(count.ToString(CultureInfo.InvariantCulture));
            }

            csv.WriteField(Rate(m.LogoChurnRate));
            csv.WriteField(Rate(m.RevenueChurnRate));
            csv.WriteField(Rate(m.NetRevenueRetention));
        }, progress, ct);
    }

    public async Task WriteSubscriptionsAsync(Stream destination, RevenueAddress address, ExportProgress progress, CancellationToken ct)
    {
        var rows = await revenue.AtAsync(address.At, address.Filter, ct);
        var asOf = FinanceCsvExport.Time(address.At);
        await FinanceCsvExport.WriteAsync(destination, SubscriptionsHeader, rows.ToAsyncEnumerable(), (csv, r) =>
        {
            csv.WriteField(asOf);
            csv.WriteField(r.SubscriptionId.ToString("D"));
            csv.WriteField(r.Name);
            csv.WriteField(r.OfferId);
            csv.WriteField(r.PlanId);
            csv.WriteField(r.Status);
            csv.WriteField(r.Quantity?.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(r.Currency);
            csv.WriteField(r.TermUnit);
            csv.WriteField(Money(r.Mrr));
            csv.WriteField(Money(r.Arr));
            csv.WriteField(r.Source?.ToString());
            csv.WriteField(r.Exclusion == RevenueExclusion.None ? null : r.Exclusion.ToString());
        }, progress, ct);
    }

    /// <summary>Plain decimal with two places and a dot, whatever the server's culture: spreadsheets and ledgers read it as is.</summary>
    public static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    private static string? Rate(decimal? rate) => rate?.ToString("0.0000", CultureInfo.InvariantCulture);
}
