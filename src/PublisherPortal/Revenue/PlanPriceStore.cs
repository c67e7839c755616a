using System.Data.Common;
using System.Globalization;
using Dapper;
using Marketplace.Models;

namespace PublisherPortal.Revenue;

/// <summary>
/// The price history of the catalogue (plan_prices, plan_dimension_prices). Written whenever the plans are refreshed:
/// a term whose price changed is closed at the refresh and a new version opened, so months already past keep the price
/// they were sold at (docs/architecture.md#revenue).
/// </summary>
public sealed class PlanPriceStore(TimeProvider time)
{
    /// <summary>Records the listed plans' prices inside the caller's transaction; plans not listed keep their history open.</summary>
    public async Task RecordAsync(string offerId, IReadOnlyList<Plan> plans, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var open = (await connection.QueryAsync<OpenPrice>(new CommandDefinition("""
            SELECT id, plan_id, currency, term_unit, price_micros, is_per_seat
            FROM plan_prices WHERE offer_id = @offerId AND valid_to IS NULL
            """, new { offerId }, tx, cancellationToken: ct))).ToDictionary(p => (p.PlanId, p.Currency, p.TermUnit));
        var openDimensions = (await connection.QueryAsync<OpenDimensionPrice>(new CommandDefinition("""
            SELECT id, plan_id, dimension, currency, term_unit, unit_price_micros, included_quantity_micros
            FROM plan_dimension_prices WHERE offer_id = @offerId AND valid_to IS NULL
            """, new { offerId }, tx, cancellationToken: ct))).ToDictionary(p => (p.PlanId, p.Dimension, p.Currency, p.TermUnit));

        var listed = plans.Select(p => p.PlanId).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<(string, string, string)>();
        var seenDimensions = new HashSet<(string, string, string, string)>();
        foreach (var plan in plans)
        {
            foreach (var term in plan.PlanComponents?.RecurrentBillingTerms ?? [])
            {
                // A term we cannot read is left out rather than valued wrongly; the page counts its subscriptions as unpriced.
                if (term is not { Currency: { Length: > 0 } currency, Price: { } price, TermUnit: { Length: > 0 } termUnit }
                    || price < 0 || PriceBook.TermMonths(termUnit) is not { } months)
                {
                    continue;
                }

                var key = (plan.PlanId, currency, termUnit);
                if (!seen.Add(key))
                {
                    continue;
                }

                var micros = Micros(price);
                if (!open.TryGetValue(key, out var current) || current.PriceMicros != micros || current.IsPerSeat != plan.IsPricePerSeat)
                {
                    if (current is not null)
                    {
                        await CloseAsync("plan_prices", current.Id, now, connection, tx, ct);
                    }

                    await connection.ExecuteAsync(new CommandDefinition("""
                        INSERT INTO plan_prices (offer_id, plan_id, currency, term_unit, price_micros, is_per_seat, valid_from)
                        VALUES (@offerId, @planId, @currency, @termUnit, @micros, @isPerSeat, @now)
                        """, new { offerId, planId = plan.PlanId, currency, termUnit, micros, isPerSeat = plan.IsPricePerSeat, now }, tx, cancellationToken: ct));
                }

                foreach (var dimension in plan.PlanComponents!.MeteringDimensions)
                {
                    // A dimension priced in another currency does not apply to this term.
                    if (dimension.PricePerUnit is not { } unitPrice || unitPrice < 0
                        || (dimension.Currency is { Length: > 0 } dc && !string.Equals(dc, currency, StringComparison.OrdinalIgnoreCase)))
                    {
                        continue;
                    }

                    var dkey = (plan.PlanId, dimension.Id, currency, termUnit);
                    if (!seenDimensions.Add(dkey))
                    {
                        continue;
                    }

                    var included = term.MeteredQuantityIncluded.FirstOrDefault(i => i.DimensionId == dimension.Id)?.Units;
                    var includedPerTerm = decimal.TryParse(included, NumberStyles.Number, CultureInfo.InvariantCulture, out var u) && u > 0 ? u : 0m;
                    // Stored per month of the term: a yearly term's included units are spread over its twelve months.
                    var includedPerMonth = Micros(includedPerTerm) / months;
                    var unitMicros = Micros(unitPrice);
                    if (!openDimensions.TryGetValue(dkey, out var currentDimension)
                        || currentDimension.UnitPriceMicros != unitMicros || currentDimension.IncludedQuantityMicros != includedPerMonth)
                    {
                        if (currentDimension is not null)
                        {
                            await CloseAsync("plan_dimension_prices", currentDimension.Id, now, connection, tx, ct);
                        }

                        await connection.ExecuteAsync(new CommandDefinition("""
                            INSERT INTO plan_dimension_prices (offer_id, plan_id, dimension, currency, term_unit, unit_price_micros,
                                                               included_quantity_micros, valid_from)
                            VALUES (@offerId, @planId, @dimension, @currency, @termUnit, @unitMicros, @includedPerMonth, @now)
                            """, new { offerId, planId = plan.PlanId, dimension = dimension.Id, currency, termUnit, unitMicros, includedPerMonth, now },
                            tx, cancellationToken: ct));
                    }
                }
            }
        }

        // A term a listed plan no longer offers ends now; subscriptions already on it keep its last price (PriceBook).
        foreach (var gone in open.Where(o => listed.Contains(o.Key.PlanId) && !seen.Contains(o.Key)))
        {
            await CloseAsync("plan_prices", gone.Value.Id, now, connection, tx, ct);
        }

        foreach (var gone in openDimensions.Where(o => listed.Contains(o.Key.PlanId) && !seenDimensions.Contains(o.Key)))
        {
            await CloseAsync("plan_dimension_prices", gone.Value.Id, now, connection, tx, ct);
        }
    }

    /// <summary>Every version of every price, for the price book.</summary>
    public static async Task<(IReadOnlyList<ListPrice> List, IReadOnlyList<DimensionPrice> Dimensions)> LoadAsync(DbConnection connection, CancellationToken ct)
    {
        var list = await connection.QueryAsync<ListPriceRow>(new CommandDefinition("""
            SELECT offer_id, plan_id, currency, term_unit, price_micros, is_per_seat, valid_from, valid_to FROM plan_prices
            """, cancellationToken: ct));
        var dimensions = await connection.QueryAsync<DimensionPriceRow>(new CommandDefinition("""
            SELECT offer_id, plan_id, dimension, currency, term_unit, unit_price_micros, included_quantity_micros, valid_from, valid_to
            FROM plan_dimension_prices
            """, cancellationToken: ct));
        return (
            list.Select(r => new ListPrice(r.OfferId, r.PlanId, r.Currency, r.TermUnit, Money(r.PriceMicros), r.IsPerSeat, r.ValidFrom, r.ValidTo)).ToList(),
            dimensions.Select(r => new DimensionPrice(r.OfferId, r.PlanId, r.Dimension, r.Currency, r.TermUnit, Money(r.UnitPriceMicros),
                Money(r.IncludedQuantityMicros), r.ValidFrom, r.ValidTo)).ToList());
    }

    public static long Micros(decimal amount) => (long)decimal.Round(amount * 1_000_000m, 0, MidpointRounding.AwayFromZero);

    public static decimal Money(long micros) => micros / 1_000_000m;

    private static Task CloseAsync(string table, long id, DateTimeOffset now, DbConnection connection, DbTransaction tx, CancellationToken ct) =>
        connection.ExecuteAsync(new CommandDefinition(
            table == "plan_prices"
                ? "UPDATE plan_prices SET valid_to = @now WHERE id = @id"
                : "UPDATE plan_dimension_prices SET valid_to = @now WHERE id = @id",
            new { id, now }, tx, cancellationToken: ct));

    private sealed record OpenPrice
    {
        public long Id { get; init; }
        public string PlanId { get; init; } = "";
        public string Currency { get; init; } = "";
        public string TermUnit { get; init; } = "";
        public long PriceMicros { get; init; }
        public bool IsPerSeat { get; init; }
    }

    private sealed record OpenDimensionPrice
    {
        public long Id { get; init; }
        public string PlanId { get; init; } = "";
        public string Dimension { get; init; } = "";
        public string Currency { get; init; } = "";
        public string TermUnit { get; init; } = "";
        public long UnitPriceMicros { get; init; }
        public long IncludedQuantityMicros { get; init; }
    }

    private sealed record ListPriceRow
    {
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public string Currency { get; init; } = "";
        public string TermUnit { get; init; } = "";
        public long PriceMicros { get; init; }
        public bool IsPerSeat { get; init; }
        public DateTimeOffset ValidFrom { get; init; }
        public DateTimeOffset? ValidTo { get; init; }
    }

    private sealed record DimensionPriceRow
    {
        public string OfferId { get; init; } = "";
        public string PlanId { get; init; } = "";
        public string Dimension { get; init; } = "";
        public string Currency { get; init; } = "";
        public string TermUnit { get; init; } = "";
        public long UnitPriceMicros { get; init; }
        public long IncludedQuantityMicros { get; init; }
        public DateTimeOffset ValidFrom { get; init; }
        public DateTimeOffset? ValidTo { get; init; }
    }
}
