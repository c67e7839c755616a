using System.Diagnostics;
using Dapper;
using Marketplace.Emulator;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Demo;
using PublisherPortal.Revenue;
using PublisherPortal.Tests.Support;
using Xunit.Abstractions;

namespace PublisherPortal.Tests.Revenue;

public sealed class RevenueDemoHistoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_month_of_the_seeded_demo_adds_up_in_every_currency()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var connection = await db.Database.OpenAsync())
        await using (var tx = await db.Database.BeginWriteAsync(connection))
        {
            foreach (var offer in EmulatorCatalogue.CreateDefault())
            {
                await new PlanStore(db.Time).UpsertAsync(offer.OfferId, [.. offer.Plans], connection, tx, default);
            }

            await tx.CommitAsync();
        }

        var clock = Stopwatch.StartNew();
        await RevenueDemoHistory.WriteAsync(db.Database, db.Time, default);
        output.WriteLine($"seeded in {clock.ElapsedMilliseconds} ms");

        var now = db.Time.GetUtcNow();
        var last = new DateOnly(now.Year, now.Month, 1);
        var report = await new RevenueQuery(db.Database, db.Time, Options.Create(new RevenueOptions()))
            .MonthlyAsync(last.AddMonths(-RevenueDemoHistory.Months), last, new RevenueFilter(), _ => true);

        Assert.Equal(RevenueDemoHistory.Months + 1, report.Months.Count);
        Assert.Equal(["EUR", "GBP", "USD"], report.Currencies);
        foreach (var currency in report.Currencies)
        {
            var months = report.Movements.Where(m => m.Currency == currency).OrderBy(m => m.Month, StringComparer.Ordinal).ToList();
            Assert.All(months, m => Assert.True(m.Reconciles, $"{m.Month} {currency} does not add up"));
            for (var i = 1; i < months.Count; i++)
            {
                Assert.Equal(months[i - 1].EndMrr, months[i].StartMrr);
            }
        }

        // Every chart has a shape: each kind of movement happens, trials and tests are apart, usage is billed, and
        // at least one negotiated price is in the book.
        Assert.All(Enum.GetValues<MovementKind>(), kind => Assert.Contains(report.Lines, l => l.Kind == kind));
        Assert.Contains(report.Excluded, x => x.Reason == RevenueExclusion.FreeTrial);
        Assert.Contains(report.Excluded, x => x.Reason == RevenueExclusion.Test);
        Assert.Contains(report.Metered, m => m.Amount > 0 && m.Currency == "USD");
        Assert.Contains(report.ByPlan, p => p.RecordedPriceSubscriptions > 0);
        var usd = report.Movements.Where(m => m.Currency == "USD").ToList();
        Assert.True(usd[^1].EndMrr > usd[0].EndMrr * 3, "the book grows over the eighteen months");

        await using var check = await db.Database.OpenAsync();
        Assert.Equal(RevenueDemoHistory.Subscriptions, await check.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscriptions"));
    }
}
