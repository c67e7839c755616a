using System.Data.Common;
using Dapper;
using PublisherPortal.Data;

namespace PublisherPortal.Webhooks;

/// <summary>Our answer to a change the customer made in the marketplace: accept it, or refuse it with a reason.</summary>
public sealed record ChangeDecision(bool Accept, string Reason)
{
    public static ChangeDecision Accepted(string reason) => new(true, reason);
    public static ChangeDecision Refused(string reason) => new(false, reason);
}

/// <summary>
/// How many seats an account uses in the product. The portal does not run the product itself, so the product tells
/// it; null means "not known", and then only the plan's bounds decide.
/// </summary>
public interface ISeatUsage
{
    Task<int?> SeatsInUseAsync(Guid subscriptionId, CancellationToken ct = default);
}

/// <summary>No product to ask: seat usage is unknown.</summary>
public sealed class UnknownSeatUsage : ISeatUsage
{
    public Task<int?> SeatsInUseAsync(Guid subscriptionId, CancellationToken ct = default) => Task.FromResult<int?>(null);
}

/// <summary>
/// Decides ChangePlan and ChangeQuantity deliveries against our catalogue (the plans table) and the account's seat use.
/// The marketplace only offers what it lists, but our catalogue may have dropped a plan or stopped selling it.
/// </summary>
public sealed class ChangeDecider(ISeatUsage seatUsage)
{
    private sealed record CataloguePlan
    {
        public string PlanId { get; init; } = "";
        public bool IsPricePerSeat { get; init; }
        public int? MinQuantity { get; init; }
        public int? MaxQuantity { get; init; }
        public bool IsStopSell { get; init; }
    }

    public async Task<ChangeDecision> DecidePlanAsync(
        SubscriptionRecord subscription, string planId, int? quantity, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        var catalogue = await CatalogueAsync(subscription.OfferId, connection, tx, ct);
        if (catalogue.Count == 0)
        {
            // Nothing to judge against (the catalogue was never loaded): refusing every change would punish customers
            // for our set-up, so the marketplace's own check stands.
            return ChangeDecision.Accepted($"accepted: no catalogue loaded for offer {subscription.OfferId}");
        }

        if (!catalogue.TryGetValue(planId, out var plan))
        {
            return ChangeDecision.Refused($"plan '{planId}' is not in our catalogue");
        }

        if (plan.IsStopSell)
        {
            return ChangeDecision.Refused($"plan '{planId}' is no longer sold");
        }

        if (plan.IsPricePerSeat && (quantity ?? subscription.Quantity) is { } seats && OutsideBounds(plan, seats) is { } bounds)
        {
            return ChangeDecision.Refused(bounds);
        }

        return ChangeDecision.Accepted($"accepted: plan {subscription.PlanId} -> {planId}");
    }

    public async Task<ChangeDecision> DecideQuantityAsync(
        SubscriptionRecord subscription, int quantity, DbConnection connection, DbTransaction tx, CancellationToken ct = default)
    {
        if (quantity < 1)
        {
            return ChangeDecision.Refused($"{quantity} seats is not a valid quantity");
        }

        var catalogue = await CatalogueAsync(subscription.OfferId, connection, tx, ct);
        if (catalogue.TryGetValue(subscription.PlanId, out var plan) && OutsideBounds(plan, quantity) is { } bounds)
        {
            return ChangeDecision.Refused(bounds);
        }

        if (await seatUsage.SeatsInUseAsync(subscription.Id, ct) is { } inUse && quantity < inUse)
        {
            return ChangeDecision.Refused($"{quantity} seats is below the {inUse} seats the account uses");
        }

        return ChangeDecision.Accepted($"accepted: {subscription.Quantity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} -> {quantity} seats");
    }

    private static string? OutsideBounds(CataloguePlan plan, int seats) =>
        (plan.MinQuantity is { } min && seats < min) || (plan.MaxQuantity is { } max && seats > max)
            ? $"{seats} seats is outside plan '{plan.PlanId}' bounds ({plan.MinQuantity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}..{plan.MaxQuantity?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"})"
            : null;

    private static async Task<Dictionary<string, CataloguePlan>> CatalogueAsync(
        string offerId, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<CataloguePlan>(new CommandDefinition("""
            SELECT plan_id, is_price_per_seat, min_quantity, max_quantity, is_stop_sell
            FROM plans WHERE offer_id = @offerId
            """, new { offerId }, tx, cancellationToken: ct));
        return rows.ToDictionary(p => p.PlanId, StringComparer.OrdinalIgnoreCase);
    }
}
