using PublisherPortal.Revenue;

namespace PublisherPortal.Tests.Revenue;

/// <summary>Every expected figure below is worked out by hand in RevenueFixture's comments.</summary>
public sealed class RevenueCalculatorTests
{
    private readonly RevenueFixture _f = new();

    private RevenueReport Report(RevenueFilter? filter = null, Func<MovementLine, bool>? keep = null) =>
        RevenueCalculator.Monthly(_f.Subscriptions, _f.Changes, _f.Prices, new DateOnly(2025, 1, 1), new DateOnly(2025, 6, 1),
            RevenueFixture.Now, filter ?? new RevenueFilter(), keep ?? (_ => true));

    private static MonthRevenue Month(RevenueReport r, string month, string currency) =>
        Assert.Single(r.Movements, m => m.Month == month && m.Currency == currency);

    [Fact]
    public void Usd_movements_match_the_hand_computed_months()
    {
        var r = Report();

        Assert.Equal(["2025-01", "2025-02", "2025-03", "2025-04"], r.Months); // May and June are in the future

        var jan = Month(r, "2025-01", "USD");
        Assert.Equal((149.00m, 194.58m, 0m, 0m, 0m, 0m, 343.58m), Figures(jan));
        Assert.Equal((2, 5, 3), (jan.StartCustomers, jan.EndCustomers, jan.NewCustomers));

        var feb = Month(r, "2025-02", "USD");
        Assert.Equal((343.58m, 1000.00m, 36.00m, 0m, 125.00m, 0m, 1254.58m), Figures(feb));
        Assert.Equal(0.2m, feb.LogoChurnRate);
        Assert.Equal(125.00m / 343.58m, feb.RevenueChurnRate);
        Assert.Equal((343.58m + 36m - 125m) / 343.58m, feb.NetRevenueRetention);

        var mar = Month(r, "2025-03", "USD");
        Assert.Equal((1254.58m, 0m, 10.00m, 30.00m, 0m, 0m, 1234.58m), Figures(mar));

        var apr = Month(r, "2025-04", "USD");
        Assert.Equal((1234.58m, 0m, 0m, 0m, 59.00m, 0m, 1175.58m), Figures(apr));
        Assert.Equal(1175.58m * 12m, apr.Arr);
    }

    [Fact]
    public void Each_currency_is_its_own_ledger()
    {
        var r = Report();

        Assert.Equal(["EUR", "GBP", "USD"], r.Currencies);
        Assert.DoesNotContain(r.Movements, m => m.Month == "2025-01" && m.Currency == "EUR"); // D starts on 1 February
        Assert.Equal((0m, 33.00m, 0m, 0m, 0m, 0m, 33.00m), Figures(Month(r, "2025-02", "EUR")));
        Assert.Equal((33.00m, 0m, 0m, 0m, 33.00m, 0m, 0m), Figures(Month(r, "2025-03", "EUR"))); // suspended: not collected
        Assert.Equal((0m, 0m, 0m, 0m, 0m, 33.00m, 33.00m), Figures(Month(r, "2025-04", "EUR"))); // reinstated: reactivation

        Assert.Equal((0m, 15.00m, 0m, 0m, 0m, 0m, 15.00m), Figures(Month(r, "2025-01", "GBP")));
        Assert.Equal((15.00m, 0m, 0m, 0m, 0m, 0m, 15.00m), Figures(Month(r, "2025-02", "GBP")));
        Assert.Equal((15.00m, 0m, 13.00m, 0m, 0m, 0m, 28.00m), Figures(Month(r, "2025-03", "GBP")));
    }

    [Fact]
    public void Every_month_of_every_currency_reconciles()
    {
        var r = Report();
        Assert.NotEmpty(r.Movements);
        Assert.All(r.Movements, m => Assert.True(m.Reconciles, $"{m.Month} {m.Currency} does not add up"));
        // Each month starts where the one before ended.
        foreach (var currency in r.Currencies)
        {
            var months = r.Movements.Where(m => m.Currency == currency).ToList();
            for (var i = 1; i < months.Count; i++)
            {
                if (DateOnly.ParseExact(months[i].Month + "-01", "yyyy-MM-dd").AddMonths(-1).ToString("yyyy-MM") == months[i - 1].Month)
                {
                    Assert.Equal(months[i - 1].EndMrr, months[i].StartMrr);
                }
            }
        }
    }

    [Fact]
    public void Drill_down_lines_add_up_to_each_figure_and_name_the_subscriptions()
    {
        var r = Report();
        foreach (var m in r.Movements)
        {
            decimal Sum(MovementKind k) => r.Lines.Where(l => l.Month == m.Month && l.Currency == m.Currency && l.Kind == k).Sum(l => l.Amount);
            Assert.Equal(m.New, Sum(MovementKind.New));
            Assert.Equal(m.Expansion, Sum(MovementKind.Expansion));
            Assert.Equal(m.Contraction, Sum(MovementKind.Contraction));
            Assert.Equal(m.Churn, Sum(MovementKind.Churn));
            Assert.Equal(m.Reactivation, Sum(MovementKind.Reactivation));
        }

        var febNew = r.Lines.Where(l => l.Month == "2025-02" && l.Currency == "USD" && l.Kind == MovementKind.New).ToList();
        Assert.Equal([_f.E], febNew.Select(l => l.SubscriptionId));
        Assert.Equal([_f.C], r.Lines.Where(l => l.Month == "2025-03" && l.Kind == MovementKind.Expansion && l.Currency == "USD")
            .Select(l => l.SubscriptionId)); // the price rise
        Assert.DoesNotContain(r.Lines, l => l.SubscriptionId == _f.K); // a spell inside one month moves nothing
        Assert.DoesNotContain(r.Lines, l => l.SubscriptionId == _f.A && l.Month == "2025-03"); // nor does a suspension spell
    }

    [Fact]
    public void Trials_and_test_subscriptions_are_counted_apart_and_earn_nothing()
    {
        var r = Report();
        Assert.Contains(new ExcludedCount("2025-01", RevenueExclusion.FreeTrial, 1), r.Excluded);
        Assert.Contains(new ExcludedCount("2025-01", RevenueExclusion.Test, 1), r.Excluded);
        Assert.DoesNotContain(r.Lines, l => l.SubscriptionId == _f.F || l.SubscriptionId == _f.G);
    }

    [Fact]
    public void Mrr_at_an_instant_values_each_subscription_with_its_source()
    {
        var at = RevenueCalculator.At(_f.Subscriptions, _f.Changes, _f.Prices, RevenueFixture.At(2025, 3, 15), new RevenueFilter())
            .ToDictionary(x => x.SubscriptionId);

        Assert.Equal((0m, RevenueExclusion.NotSubscribed), (at[_f.A].Mrr, at[_f.A].Exclusion)); // suspended on the 15th
        Assert.Equal((70.00m, PriceSource.List), (at[_f.B].Mrr, at[_f.B].Source));
        Assert.Equal(59.00m, at[_f.C].Mrr);
        Assert.Equal((33.00m, "EUR"), (at[_f.D].Mrr, at[_f.D].Currency));
        Assert.Equal((1000.00m, PriceSource.Recorded, 12_000.00m), (at[_f.E].Mrr, at[_f.E].Source, at[_f.E].Arr));
        Assert.Equal(RevenueExclusion.FreeTrial, at[_f.F].Exclusion);
        Assert.Equal(RevenueExclusion.Test, at[_f.G].Exclusion);
        Assert.Equal((28.00m, "GBP"), (at[_f.H].Mrr, at[_f.H].Currency));
        Assert.Equal(9.58m, at[_f.I].Mrr);
        Assert.False(at.ContainsKey(Guid.Empty));

        var usd = RevenueCalculator.At(_f.Subscriptions, _f.Changes, _f.Prices, RevenueFixture.At(2025, 3, 15), new RevenueFilter(Currency: "USD"));
        Assert.Equal(70m + 59m + 1000m + 9.58m, usd.Sum(x => x.Mrr));
    }

    [Fact]
    public void A_plan_filter_sees_a_plan_move_as_contraction_and_expansion_not_churn_and_new()
    {
        var basic = Report(new RevenueFilter(OfferId: "backup-saas", PlanId: "basic"));
        var pro = Report(new RevenueFilter(OfferId: "backup-saas", PlanId: "pro"));

        Assert.Equal((15.00m, 0m, 0m, 15.00m, 0m, 0m, 0m), Figures(Month(basic, "2025-03", "GBP")));
        Assert.Equal((0m, 0m, 28.00m, 0m, 0m, 0m, 28.00m), Figures(Month(pro, "2025-03", "GBP")));
        Assert.DoesNotContain(Report(new RevenueFilter(OfferId: "backup-saas")).Movements, m => m.Currency != "GBP");
    }

    [Fact]
    public void A_subscription_that_paid_before_the_range_and_comes_back_is_a_reactivation()
    {
        var r = RevenueCalculator.Monthly(_f.Subscriptions, _f.Changes, _f.Prices, new DateOnly(2025, 4, 1), new DateOnly(2025, 4, 1),
            RevenueFixture.Now, new RevenueFilter(Currency: "EUR"), _ => true);
        Assert.Equal(MovementKind.Reactivation, Assert.Single(r.Lines).Kind);
    }

    [Theory]
    [InlineData("P1M", 1)]
    [InlineData("P1Y", 12)]
    [InlineData("P2Y", 24)]
    [InlineData("P3Y", 36)]
    [InlineData("P6M", 6)]
    public void Terms_are_read_in_months(string term, int months) => Assert.Equal(months, PriceBook.TermMonths(term));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("P1W")]
    [InlineData("P0M")]
    [InlineData("monthly")]
    public void An_unknown_term_is_not_guessed(string? term) => Assert.Null(PriceBook.TermMonths(term));

    [Fact]
    public void A_subscription_on_an_unpriced_term_is_shown_apart_not_valued_at_zero()
    {
        var id = Guid.NewGuid();
        var subs = new Dictionary<Guid, RevenueSubscription> { [id] = new(id, "W", "insights-saas", "P1W", false, false) };
        var changes = new[] { new StateChange(1, id, RevenueFixture.At(2025, 1, 3), "Activated", "Subscribed", "team", 2) };
        var r = RevenueCalculator.Monthly(subs, changes, _f.Prices, new DateOnly(2025, 1, 1), new DateOnly(2025, 1, 1), RevenueFixture.Now, new RevenueFilter());
        Assert.Empty(r.Movements);
        Assert.Equal([new ExcludedCount("2025-01", RevenueExclusion.Unpriced, 1)], r.Excluded);
    }

    private static (decimal, decimal, decimal, decimal, decimal, decimal, decimal) Figures(MonthRevenue m) =>
        (m.StartMrr, m.New, m.Expansion, m.Contraction, m.Churn, m.Reactivation, m.EndMrr);
}
