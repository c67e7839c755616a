using Marketplace.Models;

namespace Marketplace.Emulator;

/// <summary>The demo catalogue every part of the product agrees on (team notes, "Default catalogue").</summary>
public static class EmulatorCatalogue
{
    public const string InsightsOffer = "insights-saas";
    public const string BackupOffer = "backup-saas";

    public static List<CatalogueOffer> CreateDefault() =>
    [
        new CatalogueOffer
        {
            OfferId = InsightsOffer,
            Plans =
            [
                FlatPlan("starter", "Starter", "Dashboards for a small team.", 49m),
                PerSeatPlan("team", "Team", "Shared workspaces, billed per seat.", 12m, 1, 50),
                PerSeatPlan("business", "Business", "Scheduled reports, billed per seat plus reports generated.", 25m, 5, 500) with
                {
                    PlanComponents = new PlanComponents
                    {
                        RecurrentBillingTerms = [.. Terms(25m, [new MeteredQuantityIncluded { DimensionId = "reports-generated", Units = "100" }])],
                        MeteringDimensions =
                        [
                            new MeteringDimension
                            {
                                Id = "reports-generated", Currency = "USD", PricePerUnit = 0.05m,
                                UnitOfMeasure = "report", DisplayName = "Reports generated",
                            },
                            new MeteringDimension
                            {
                                Id = "reports-generated", Currency = "EUR", PricePerUnit = 0.05m,
                                UnitOfMeasure = "report", DisplayName = "Reports generated",
                            },
                            new MeteringDimension
                            {
                                Id = "reports-generated", Currency = "GBP", PricePerUnit = 0.04m,
                                UnitOfMeasure = "report", DisplayName = "Reports generated",
                            },
                        ],
                    },
                },
                FlatPlan("enterprise", "Enterprise", "Negotiated terms for large customers.", 4900m) with { IsPrivate = true },
            ],
        },
        new CatalogueOffer
        {
            OfferId = BackupOffer,
            Plans =
            [
                FlatPlan("basic", "Basic", "Nightly backups.", 19m),
                PerSeatPlan("pro", "Pro", "Hourly backups, billed per seat.", 9m, 1, 100),
                FlatPlan("legacy", "Legacy", "No longer sold.", 15m) with { IsStopSell = true },
            ],
        },
    ];

    private static Plan FlatPlan(string id, string name, string description, decimal monthlyPrice) => new()
    {
        PlanId = id,
        DisplayName = name,
        Description = description,
        Market = "US",
        PlanComponents = new PlanComponents { RecurrentBillingTerms = [.. Terms(monthlyPrice, [])] },
    };

    private static Plan PerSeatPlan(string id, string name, string description, decimal pricePerSeat, int min, int max) =>
        FlatPlan(id, name, description, pricePerSeat) with { IsPricePerSeat = true, MinQuantity = min, MaxQuantity = max };

    /// <summary>
    /// Every plan is sold monthly in US dollars first (the console shows the first term), then yearly at ten months'
    /// price, and monthly in euros and pounds at rounded local prices, so revenue has several currencies and terms to value.
    /// A yearly term includes twelve months' metered units.
    /// </summary>
    private static IEnumerable<RecurrentBillingTerm> Terms(decimal usdMonthly, IReadOnlyList<MeteredQuantityIncluded> includedPerMonth)
    {
        yield return Term("USD", usdMonthly, "P1M", "1 month subscription", includedPerMonth);
        yield return Term("USD", usdMonthly * 10m, "P1Y", "1 year subscription",
            [.. includedPerMonth.Select(i => i with { Units = (int.Parse(i.Units ?? "0", System.Globalization.CultureInfo.InvariantCulture) * 12).ToString(System.Globalization.CultureInfo.InvariantCulture) })]);
        yield return Term("EUR", decimal.Round(usdMonthly * 0.92m, 0, MidpointRounding.AwayFromZero), "P1M", "1 month subscription", includedPerMonth);
        yield return Term("GBP", decimal.Round(usdMonthly * 0.79m, 0, MidpointRounding.AwayFromZero), "P1M", "1 month subscription", includedPerMonth);
    }

    private static RecurrentBillingTerm Term(string currency, decimal price, string termUnit, string description, IReadOnlyList<MeteredQuantityIncluded> included) =>
        new() { Currency = currency, Price = price, TermUnit = termUnit, TermDescription = description, MeteredQuantityIncluded = included };
}
