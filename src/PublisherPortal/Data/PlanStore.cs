using System.Data.Common;
using System.Text.Json;
using Dapper;
using Marketplace;
using Marketplace.Models;

namespace PublisherPortal.Data;

/// <summary>
/// The plan catalogue the marketplace showed us (the <c>plans</c> table), written by the landing page and by the
/// console's refresh, so pages that list many subscriptions can name plans without a marketplace call per row.
/// </summary>
public sealed class PlanStore(TimeProvider time)
{
    // Prices are versioned with every refresh of the plans, so a month is valued at the prices in force then.
    private readonly Revenue.PlanPriceStore _prices = new(time);

    /// <summary>Adds or refreshes the offer's plans inside the caller's transaction; plans not listed are left as they are.</summary>
    public async Task UpsertAsync(string offerId, IReadOnlyList<Plan> plans, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var plan in plans)
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                INSERT INTO plans (offer_id, plan_id, display_name, description, is_price_per_seat, min_quantity, max_quantity,
                                   is_private, is_stop_sell, raw_json, refreshed_at)
                VALUES (@offerId, @planId, @displayName, @description, @isPricePerSeat, @minQuantity, @maxQuantity,
                        @isPrivate, @isStopSell, @rawJson, @now)
                ON CONFLICT (offer_id, plan_id) DO UPDATE SET
                    display_name = excluded.display_name, description = excluded.description,
                    is_price_per_seat = excluded.is_price_per_seat, min_quantity = excluded.min_quantity,
                    max_quantity = excluded.max_quantity, is_private = excluded.is_private,
                    is_stop_sell = excluded.is_stop_sell, raw_json = excluded.raw_json, refreshed_at = excluded.refreshed_at
                """,
                new
                {
                    offerId,
                    planId = plan.PlanId,
                    displayName = string.IsNullOrWhiteSpace(plan.DisplayName) ? plan.PlanId : plan.DisplayName,
                    description = plan.Description,
                    isPricePerSeat = plan.IsPricePerSeat,
                    // Seat bounds mean something only for a per-seat plan (docs/marketplace.md#change-plan-or-seats); a flat-rate plan keeps none.
                    minQuantity = plan.IsPricePerSeat ? plan.MinQuantity : null,
                    maxQuantity = plan.IsPricePerSeat ? plan.MaxQuantity : null,
                    isPrivate = plan.IsPrivate,
                    isStopSell = plan.IsStopSell,
                    rawJson = JsonSerializer.Serialize(plan, MarketplaceJson.Options),
                    now,
                }, tx, cancellationToken: ct));
        }

        await _prices.RecordAsync(offerId, plans, connection, tx, ct);
    }
}
