using Dapper;
using PublisherPortal.Revenue;
using PublisherPortal.Tests.Support;

namespace PublisherPortal.Tests.Revenue;

/// <summary>The hand-computed book read back from a real database (SQLite, or PostgreSQL with PORTAL_TEST_PROVIDER=Postgres).</summary>
public sealed class RevenueQueryTests
{
    [Fact]
    public async Task The_database_book_gives_the_hand_computed_months()
    {
        await using var db = await TestDatabase.CreateAsync();
        var f = new RevenueFixture();
        await RevenueDatabase.WriteAsync(db, f);

        var report = await RevenueDatabase.Query(db).MonthlyAsync(new DateOnly(2025, 1, 1), new DateOnly(2025, 4, 1), new RevenueFilter(), _ => true);

        var usd = report.Movements.Where(m => m.Currency == "USD").Select(m => (m.Month, m.StartMrr, m.EndMrr)).ToList();
        Assert.Equal(
            [("2025-01", 149.00m, 343.58m), ("2025-02", 343.58m, 1254.58m), ("2025-03", 1254.58m, 1234.58m), ("2025-04", 1234.58m, 1175.58m)],
            usd);
        Assert.Equal(10.00m, report.Movements.Single(m => m.Month == "2025-03" && m.Currency == "USD").Expansion); // the refreshed price rise
        Assert.Equal(33.00m, report.Movements.Single(m => m.Month == "2025-04" && m.Currency == "EUR").Reactivation);
        Assert.Equal(13.00m, report.Movements.Single(m => m.Month == "2025-03" && m.Currency == "GBP").Expansion);
        Assert.All(report.Movements, m => Assert.True(m.Reconciles));

        // The database path and the pure calculator agree line for line.
        var expected = RevenueCalculator.Monthly(f.Subscriptions, f.Changes, f.Prices, new DateOnly(2025, 1, 1), new DateOnly(2025, 4, 1),
            RevenueFixture.Now, new RevenueFilter(), _ => true);
        Assert.Equal(expected.Lines, report.Lines);
        Assert.Equal(expected.ByPlan, report.ByPlan);
    }

    [Fact]
    public async Task A_price_change_at_refresh_closes_the_old_version_and_an_unchanged_refresh_adds_none()
    {
        await using var db = await TestDatabase.CreateAsync();
        await RevenueDatabase.RefreshAsync(db, RevenueFixture.At(2025, 1, 1), 49m);
        await RevenueDatabase.RefreshAsync(db, RevenueFixture.At(2025, 2, 1), 49m);
        await RevenueDatabase.RefreshAsync(db, RevenueFixture.At(2025, 3, 1), 59m);

        await using var connection = await db.Database.OpenAsync();
        var starter = (await connection.QueryAsync<(long Price, DateTimeOffset From, DateTimeOffset? To)>(
            "SELECT price_micros, valid_from, valid_to FROM plan_prices WHERE plan_id = 'starter' ORDER BY valid_from")).ToList();
        Assert.Equal(
            [(49_000_000L, RevenueFixture.At(2025, 1, 1), (DateTimeOffset?)RevenueFixture.At(2025, 3, 1)), (59_000_000L, RevenueFixture.At(2025, 3, 1), null)],
            starter);
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM plan_prices WHERE plan_id = 'team' AND currency = 'EUR'"));
        var dimension = await connection.QuerySingleAsync<(long Unit, long Included)>(
            "SELECT unit_price_micros, included_quantity_micros FROM plan_dimension_prices WHERE plan_id = 'business'");
        Assert.Equal((50_000L, 100_000_000L), dimension);
    }

    [Fact]
    public async Task Metered_revenue_counts_what_the_marketplace_accepted_beyond_the_included_units()
    {
        await using var db = await TestDatabase.CreateAsync();
        var f = new RevenueFixture();
        await RevenueDatabase.WriteAsync(db, f);
        await using (var connection = await db.Database.OpenAsync())
        {
            // J (business, USD) in January: 150 accepted, 80 held by the marketplace for a duplicate (we reported 500),
            // and 1,000 that failed: 230 billed, 100 included, 130 × 0.05 = 6.50 USD.
            foreach (var (hour, state, reported, billed) in new[]
                     {
                         (RevenueFixture.At(2025, 1, 10, 10), "Accepted", 150L, (long?)150L),
                         (RevenueFixture.At(2025, 1, 11, 10), "Duplicate", 500L, 80L),
                         (RevenueFixture.At(2025, 1, 12, 10), "Failed", 1000L, null),
                     })
            {
                await connection.ExecuteAsync("""
                    INSERT INTO usage_hours (subscription_id, dimension, hour_start, quantity_micros, state, plan_id, billed_quantity_micros, created_at, updated_at)
                    VALUES (@id, 'reports-generated', @hour, @reported, @state, 'business', @billed, @hour, @hour)
                    """, new { id = f.J, hour, reported = reported * 1_000_000, state, billed = billed * 1_000_000 });
            }
        }

        var report = await RevenueDatabase.Query(db).MonthlyAsync(new DateOnly(2025, 1, 1), new DateOnly(2025, 4, 1), new RevenueFilter());

        var jan = Assert.Single(report.Metered);
        Assert.Equal(("2025-01", "USD", "business", "reports-generated", 230m, 100m, 130m, 6.50m),
            (jan.Month, jan.Currency, jan.PlanId, jan.Dimension, jan.BilledUnits, jan.IncludedUnits, jan.ChargedUnits, jan.Amount));
        Assert.Equal(6.50m, report.Movements.Single(m => m.Month == "2025-01" && m.Currency == "USD").Metered);
    }

    [Fact]
    public async Task Per_subscription_revenue_at_an_instant_says_list_or_recorded()
    {
        await using var db = await TestDatabase.CreateAsync();
        var f = new RevenueFixture();
        await RevenueDatabase.WriteAsync(db, f);

        var rows = (await RevenueDatabase.Query(db).AtAsync(RevenueFixture.At(2025, 3, 15), new RevenueFilter())).ToDictionary(r => r.SubscriptionId);

        Assert.Equal((1000.00m, PriceSource.Recorded), (rows[f.E].Mrr, rows[f.E].Source));
        Assert.Equal((70.00m, PriceSource.List), (rows[f.B].Mrr, rows[f.B].Source));
        Assert.Equal(RevenueExclusion.NotSubscribed, rows[f.A].Exclusion);
        Assert.Equal(["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"], rows.Values.OrderBy(r => r.Name).Select(r => r.Name));
    }

    [Fact]
    public async Task A_recorded_price_is_audited_and_bad_input_is_refused_with_a_reason()
    {
        await using var db = await TestDatabase.CreateAsync();
        var f = new RevenueFixture();
        await RevenueDatabase.WriteAsync(db, f);
        var store = new RecordedPriceStore(db.Database, new PublisherPortal.Data.AuditLog(db.Database, db.Time), db.Time);

        var audit = await new PublisherPortal.Data.AuditLog(db.Database, db.Time).ForSubscriptionAsync(f.E);
        var entry = Assert.Single(audit, a => a.Action == "RevenuePriceRecorded");
        Assert.Equal("ada@publisher.example", entry.Actor);
        Assert.StartsWith("USD 12000.00 per P1Y", entry.Detail);

        Assert.Contains("three-letter", (await store.RecordAsync(new RecordPriceRequest(f.E, "dollars", null, 1m, false, RevenueFixture.Now, null), "ada")).Problem);
        Assert.Contains("billing term", (await store.RecordAsync(new RecordPriceRequest(f.E, "USD", "monthly", 1m, false, RevenueFixture.Now, null), "ada")).Problem);
        Assert.Contains("between 0", (await store.RecordAsync(new RecordPriceRequest(f.E, "USD", null, -1m, false, RevenueFixture.Now, null), "ada")).Problem);
        Assert.Contains("no subscription", (await store.RecordAsync(new RecordPriceRequest(Guid.NewGuid(), "USD", null, 1m, false, RevenueFixture.Now, null), "ada")).Problem);
        await using var connection = await db.Database.OpenAsync();
        Assert.Equal(f.Recorded.Count, await connection.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM subscription_prices"));
    }
}
