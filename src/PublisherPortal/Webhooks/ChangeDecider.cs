using System.Data.Common;
using System.Globalization;
using Dapper;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Offers;

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
/// Decides ChangePlan and ChangeQuantity deliveries against the offer's change rules (Admin settings), our catalogue
/// (the plans table) and the account's seat use. The marketplace only offers what it lists, but our catalogue may have
/// dropped a plan or stopped selling it. It runs inside the delivery's transaction, well within the 10 seconds the
/// marketplace waits before accepting a change by itself (docs/marketplace.md#answering-deliveries); each refusal names the rule that caused it.
/// </summary>
public sealed class ChangeDecider(ISeatUsage seatUsage, OfferPolicyStore policies)
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
        var policy = await policies.FindAsync(subscription.OfferId, connection, tx, ct);
        if (!policy.AcceptChanges)
        {
            return NoChangesAccepted(policy);
        }

        if (policy.AllowedPlanMoves.Count > 0 && !policy.AllowedPlanMoves.Any(m => m.Matches(subscription.PlanId, planId)))
        {
            return ChangeDecision.Refused(
                $"rule 'allowed plan moves': {subscription.PlanId} → {planId} is not among the moves offer {policy.OfferId} allows ({string.Join(", ", policy.AllowedPlanMoves)})");
        }

        if ((quantity ?? subscription.Quantity) is { } seatsAfterMove
            && await BelowMinimumAsync(policy, subscription, seatsAfterMove, ct) is { } belowMinimum)
        {
            return belowMinimum;
        }

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

        var policy = await policies.FindAsync(subscription.OfferId, connection, tx, ct);
        if (!policy.AcceptChanges)
        {
            return NoChangesAccepted(policy);
        }

        if (await BelowMinimumAsync(policy, subscription, quantity, ct) is { } belowMinimum)
        {
            return belowMinimum;
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

    private static ChangeDecision NoChangesAccepted(OfferPolicy policy) =>
        ChangeDecision.Refused($"rule 'changes accepted: no': offer {policy.OfferId} accepts no plan or seat changes");

    /// <summary>The offer's seat floor: a fixed number, or the seats in use (the product's figure, else the account's answer).</summary>
    private async Task<ChangeDecision?> BelowMinimumAsync(OfferPolicy policy, SubscriptionRecord subscription, int seats, CancellationToken ct)
    {
        switch (policy.MinimumSeats)
        {
            case MinimumSeatsRule.Fixed when policy.MinimumSeatsFixed is { } minimum && seats < minimum:
                return ChangeDecision.Refused($"rule 'minimum seats: {minimum}': {seats} seats is below the minimum of offer {policy.OfferId}");

            case MinimumSeatsRule.SeatsInUse:
                var inUse = await seatUsage.SeatsInUseAsync(subscription.Id, ct) ?? RecordedSeatsInUse(subscription);
                return inUse is { } used && seats < used
                    ? ChangeDecision.Refused($"rule 'minimum seats: seats in use': {seats} seats is below the {used} seats in use")
                    : null;

            default:
                return null;
        }
    }

    /// <summary>The "seats in use" answer the account configuration recorded, when the wizard asked for it.</summary>
    private static int? RecordedSeatsInUse(SubscriptionRecord subscription) =>
        AccountSetup.AnswersFrom(subscription.AccountSettings).GetValueOrDefault(CustomField.SeatsInUseName) is { } answer
        && decimal.TryParse(answer, NumberStyles.Number, CultureInfo.InvariantCulture, out var seats)
            ? (int)Math.Ceiling(seats)
            : null;

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
