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
                        RecurrentBillingTerms =
                        [
                            new RecurrentBillingTerm
                            {
                                Currency = "USD", Price = 25m, TermUnit = "P1M", TermDescription = "1 month subscription",
                                MeteredQuantityIncluded = [new MeteredQuantityIncluded { DimensionId = "reports-generated", Units = "100" }],
                            },
                        ],
                        MeteringDimensions =
                        [
                            new MeteringDimension
                            {
                                Id = "reports-generated", Currency = "USD", PricePerUnit = 0.05m,
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
        PlanComponents = new PlanComponents { RecurrentBillingTerms = [MonthlyTerm(monthlyPrice)] },
    };

    private static Plan PerSeatPlan(string id, string name, string description, decimal pricePerSeat, int min, int max) =>
        FlatPlan(id, name, description, pricePerSeat) with { IsPricePerSeat = true, MinQuantity = min, MaxQuantity = max };

    private static RecurrentBillingTerm MonthlyTerm(decimal price) =>
        new() { Currency = "USD", Price = price, TermUnit = "P1M", TermDescription = "1 month subscription" };
}
