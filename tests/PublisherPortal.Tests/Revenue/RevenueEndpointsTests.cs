using System.Net;
using Dapper;
using PublisherPortal.Identity;
using PublisherPortal.Revenue;
using PublisherPortal.Tests.Finance;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Revenue;

/// <summary>The revenue exports over real HTTP on loopback, with the portal's policies: the hand-computed book, as CSV.</summary>
public sealed class RevenueEndpointsTests
{
    [Fact]
    public async Task Finance_downloads_the_monthly_movements_and_each_row_is_the_hand_computed_month()
    {
        await using var db = await TestDatabase.CreateAsync();
        await RevenueDatabase.WriteAsync(db, new RevenueFixture());
        await using var host = await FinanceEndpointsTests.FinanceHost.StartAsync(db);

        using var response = await host.Client("finn@publisher.example", Roles.Finance)
            .GetAsync($"{RevenueExtensions.MovementsExportPath}?from=2025-01&to=2025-04&currency=USD");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("revenue-movements-", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        var (header, rows) = FinanceCsvExportTests.Parse(new StringReader(await response.Content.ReadAsStringAsync()));
        Assert.Equal(RevenueCsvExport.MovementsHeader, header);
        Assert.Equal(["2025-01", "2025-02", "2025-03", "2025-04"], rows.Select(r => r["month"]));
        var feb = rows[1];
        Assert.Equal(("USD", "343.58", "1000.00", "36.00", "0.00", "125.00", "0.00", "1254.58", "0.2000"),
            (feb["currency"], feb["start_mrr"], feb["new"], feb["expansion"], feb["contraction"], feb["churn"], feb["reactivation"], feb["end_mrr"], feb["logo_churn_rate"]));
        await using var connection = await db.Database.OpenAsync();
        Assert.Contains("rows: 4", await connection.QuerySingleAsync<string>(
            "SELECT detail FROM audit_log WHERE action = 'RevenueMovementsExport' AND actor = 'finn@publisher.example'"));
    }

    [Fact]
    public async Task Finance_downloads_each_subscriptions_revenue_at_an_instant_saying_list_or_recorded()
    {
        await using var db = await TestDatabase.CreateAsync();
        var f = new RevenueFixture();
        await RevenueDatabase.WriteAsync(db, f);
        await using var host = await FinanceEndpointsTests.FinanceHost.StartAsync(db);

        using var response = await host.Client("finn@publisher.example", Roles.Finance)
            .GetAsync($"{RevenueExtensions.SubscriptionsExportPath}?at=2025-03-15T00:00:00Z");

        var (_, rows) = FinanceCsvExportTests.Parse(new StringReader(await response.Content.ReadAsStringAsync()));
        Assert.Equal(11, rows.Count);
        var e = rows.Single(r => r["subscription_id"] == f.E.ToString("D"));
        Assert.Equal(("1000.00", "12000.00", "Recorded", "USD", "P1Y"), (e["mrr"], e["arr"], e["price_source"], e["currency"], e["term_unit"]));
        var a = rows.Single(r => r["subscription_id"] == f.A.ToString("D"));
        Assert.Equal(("0.00", "Suspended", "NotSubscribed"), (a["mrr"], a["status"], a["excluded_because"]));
        Assert.Equal("FreeTrial", rows.Single(r => r["subscription_id"] == f.F.ToString("D"))["excluded_because"]);
    }

    [Theory]
    [InlineData(RevenueExtensions.MovementsExportPath)]
    [InlineData(RevenueExtensions.SubscriptionsExportPath)]
    public async Task An_operator_is_refused_the_revenue_exports(string path)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var host = await FinanceEndpointsTests.FinanceHost.StartAsync(db);

        using var response = await host.Client("olivia@publisher.example", Roles.Operator).GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
