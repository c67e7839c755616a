using System.Data.Common;
using System.Globalization;
using Dapper;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Landing;
using PublisherPortal.Offers;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Subscriptions;

/// <summary>Who asks for a change: the marketplace (a ChangePlan/ChangeQuantity webhook), an operator, or the customer.</summary>
public enum ChangeSide
{
    Marketplace,
    Operator,
    Customer,
}

/// <summary>Whose rule refused a change: it says who can lift it.</summary>
public enum RuleOwner
{
    /// <summary>The subscription's state or its <c>allowedCustomerOperations</c>: nobody here can lift it.</summary>
    Marketplace,

    /// <summary>Our catalogue: the plan's seat bounds, flat rate, stop-sell, or seats the account uses.</summary>
    Catalogue,

    /// <summary>The offer's change rules (Admin settings): an operator may override them with a reason; a customer never.</summary>
    Offer,
}

/// <summary>A change somebody asks for. Exactly one of plan, seats or cancel.</summary>
public sealed record ProposedChange
{
    public required ChangeSide Side { get; init; }
    public string? PlanId { get; init; }

    /// <summary>The seat count asked for (seat change), or the one the marketplace says follows a plan move.</summary>
    public int? Quantity { get; init; }

    public bool Cancel { get; init; }

    /// <summary>An operator's reason for overriding an offer rule; ignored for every other side.</summary>
    public string? OverrideReason { get; init; }

    public static ProposedChange PlanMove(ChangeSide side, string planId, int? quantityAfter = null, string? overrideReason = null) =>
        new() { Side = side, PlanId = planId, Quantity = quantityAfter, OverrideReason = overrideReason };

    public static ProposedChange Seats(ChangeSide side, int quantity, string? overrideReason = null) =>
        new() { Side = side, Quantity = quantity, OverrideReason = overrideReason };

    public static ProposedChange Cancellation(ChangeSide side) => new() { Side = side, Cancel = true };

    public bool IsPlanMove => PlanId is not null;
}

/// <summary>
/// The answer to a <see cref="ProposedChange"/>. <see cref="Rule"/> names the rule that decided a refusal (or the offer
/// rule an operator overrode) so every refusal can be explained to whoever asked, and in history.
/// </summary>
public sealed record ChangeVerdict(bool Allowed, string Reason, string? Rule = null, RuleOwner? Owner = null)
{
    /// <summary>The offer rule an operator overrode to allow this, with their reason; null when no rule was overridden.</summary>
    public string? OverriddenRule { get; init; }

    public string? OverrideReason { get; init; }

    /// <summary>An offer rule refused it; an operator may still make it by giving a reason.</summary>
    public bool CanBeOverridden => !Allowed && Owner == RuleOwner.Offer;

    public static ChangeVerdict Allow(string reason) => new(true, reason);

    /// <summary>The refusal as a person reads it: the explanation, then the rule's name.</summary>
    public string Sentence => Allowed || Rule is null || Explanation is not { Length: > 0 } text
        ? Reason
        : $"{char.ToUpperInvariant(text[0])}{text[1..]} (rule: {Rule})";

    /// <summary>The refusal without the rule's name, e.g. "the subscription has ended."</summary>
    public string? Explanation { get; init; }

    public static ChangeVerdict Refuse(RuleOwner owner, string rule, string reason) =>
        new(false, $"rule '{rule}': {reason}", rule, owner) { Explanation = reason };
}

/// <summary>What a side may ask for on one subscription now, for pages to offer only that (and say who can do the rest).</summary>
public sealed record ChangeOptions(bool CanChangePlan, bool CanChangeSeats, bool CanCancel, bool IsPricePerSeat, int MinSeats, int? MaxSeats, string? WhyNot)
{
    /// <summary>The offer's seat floor (a rule an operator may override, a customer may not); null when the offer has none.</summary>
    public int? OfferMinimumSeats { get; init; }
}

/// <summary>
/// The one place that decides a plan, seat or cancellation request, whoever makes it: a ChangePlan/ChangeQuantity
/// webhook (<see cref="ChangeDecider"/>), an operator in the console or a customer in My subscriptions
/// (<see cref="SubscriptionChangeService"/>). It applies, in this order: the marketplace's own limits (status, and the
/// subscription's <c>allowedCustomerOperations</c>, which the marketplace also applies to the publisher's own calls, see
/// docs/marketplace.md), our catalogue (plan listed and sold, flat rate, seat bounds, seats in use) and the offer's
/// change rules. Only an offer rule can be overridden, only by an operator, only with a reason.
/// </summary>
public sealed class ChangeRules(PortalDatabase database, OfferPolicyStore policies, ISeatUsage seatUsage)
{
    private sealed record CataloguePlanRow
    {
        public string PlanId { get; init; } = "";
        public string DisplayName { get; init; } = "";
        public bool IsPricePerSeat { get; init; }
        public int? MinQuantity { get; init; }
        public int? MaxQuantity { get; init; }
        public bool IsStopSell { get; init; }
    }

    public async Task<ChangeVerdict> DecideAsync(SubscriptionRecord subscription, ProposedChange change, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        return await DecideAsync(subscription, change, connection, null, ct);
    }

    public async Task<ChangeVerdict> DecideAsync(
        SubscriptionRecord subscription, ProposedChange change, DbConnection connection, DbTransaction? tx, CancellationToken ct = default)
    {
        if (MarketplaceRefusal(subscription, change) is { } marketplace)
        {
            return marketplace;
        }

        if (change.Cancel)
        {
            return ChangeVerdict.Allow("accepted: cancellation");
        }

        var catalogue = await CatalogueAsync(subscription.OfferId, connection, tx, ct);
        var policy = await policies.FindAsync(subscription.OfferId, connection, tx, ct);
        var seatsAfter = SeatsAfter(subscription, change, catalogue);

        if (await CatalogueRefusalAsync(subscription, change, catalogue, seatsAfter, ct) is { } hard)
        {
            return hard;
        }

        var offerRefusal = await OfferRefusalAsync(policy, subscription, change, seatsAfter, ct);
        var accepted = change.IsPlanMove
            ? $"accepted: plan {subscription.PlanId} -> {change.PlanId}"
            : $"accepted: {Seats(subscription.Quantity)} -> {change.Quantity} seats";
        if (offerRefusal is null)
        {
            return ChangeVerdict.Allow(catalogue.Count == 0 ? $"{accepted} (no catalogue loaded for offer {subscription.OfferId})" : accepted);
        }

        if (change.Side == ChangeSide.Operator && !string.IsNullOrWhiteSpace(change.OverrideReason))
        {
            var reason = change.OverrideReason.Trim();
            return ChangeVerdict.Allow($"{accepted}, overriding rule '{offerRefusal.Rule}' ({reason})") with
            {
                OverriddenRule = offerRefusal.Rule,
                OverrideReason = reason,
            };
        }

        return offerRefusal;
    }

    /// <summary>What <paramref name="side"/> may ask for now: pages offer only these, and say who can do the rest.</summary>
    public async Task<ChangeOptions> OptionsAsync(SubscriptionRecord subscription, ChangeSide side, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        var catalogue = await CatalogueAsync(subscription.OfferId, connection, null, ct);
        var policy = await policies.FindAsync(subscription.OfferId, connection, null, ct);
        var plan = catalogue.GetValueOrDefault(subscription.PlanId);
        var perSeat = plan?.IsPricePerSeat ?? subscription.Quantity is not null;

        var update = MarketplaceRefusal(subscription, ProposedChange.Seats(side, 1));
        var cancel = MarketplaceRefusal(subscription, ProposedChange.Cancellation(side));
        var offerClosed = !policy.AcceptChanges && side == ChangeSide.Customer;
        var whyNot = update is { Explanation: { } locked } && subscription.Status == SubscriptionStatus.Subscribed
                ? Capitalised(cancel is not null ? locked.Replace("have it changed", "have it changed or cancelled", StringComparison.Ordinal) : locked)
            : offerClosed && subscription.Status == SubscriptionStatus.Subscribed ? "This offer does not allow plan or seat changes; contact us if you need one."
            : null;
        var offerMinimum = policy.MinimumSeats == MinimumSeatsRule.Fixed ? policy.MinimumSeatsFixed : null;
        var min = plan?.MinQuantity ?? 1;
        if (side == ChangeSide.Customer && offerMinimum is { } floor)
        {
            min = Math.Max(min, floor);
        }

        return new ChangeOptions(
            CanChangePlan: update is null && !offerClosed,
            CanChangeSeats: update is null && !offerClosed && perSeat,
            CanCancel: cancel is null,
            IsPricePerSeat: perSeat,
            MinSeats: min,
            MaxSeats: plan?.MaxQuantity,
            WhyNot: whyNot)
        {
            OfferMinimumSeats = offerMinimum,
        };
    }

    /// <summary>
    /// The subscription's state and its allowed operations. The marketplace refuses a publisher's PATCH or DELETE that
    /// <c>allowedCustomerOperations</c> does not list (a reseller purchase lists only Read), so neither side may ask;
    /// a webhook is the marketplace itself telling us, so it is not judged here.
    /// </summary>
    private static ChangeVerdict? MarketplaceRefusal(SubscriptionRecord subscription, ProposedChange change)
    {
        if (change.Side == ChangeSide.Marketplace)
        {
            return null;
        }

        if (subscription.Status == SubscriptionStatus.Unsubscribed)
        {
            return ChangeVerdict.Refuse(RuleOwner.Marketplace, "status", "the subscription has ended.");
        }

        if (!change.Cancel && subscription.Status != SubscriptionStatus.Subscribed)
        {
            return ChangeVerdict.Refuse(RuleOwner.Marketplace, "status",
                $"plan and seat changes need an active subscription; this one is {Presentation.Status(subscription.Status).ToLowerInvariant()}.");
        }

        var operation = change.Cancel ? "Delete" : "Update";
        if (!subscription.Allows(operation))
        {
            var what = change.Cancel ? "cancelled" : "changed";
            return ChangeVerdict.Refuse(RuleOwner.Marketplace, "marketplace allows: " + (subscription.AllowedCustomerOperations is { Length: > 0 } ops ? ops : "nothing"),
                subscription.IsResellerPurchase
                    ? $"bought through a reseller, so only the reseller{(subscription.PurchaserEmail is { Length: > 0 } who ? $" ({who})" : "")} can have it {what}, in the Microsoft marketplace."
                    : $"the Microsoft marketplace does not allow it to be {what} from here.");
        }

        return null;
    }

    private async Task<ChangeVerdict?> CatalogueRefusalAsync(
        SubscriptionRecord subscription, ProposedChange change, IReadOnlyDictionary<string, CataloguePlanRow> catalogue, int? seatsAfter, CancellationToken ct)
    {
        var portalSide = change.Side != ChangeSide.Marketplace;
        if (change.IsPlanMove)
        {
            if (portalSide && string.Equals(change.PlanId, subscription.PlanId, StringComparison.OrdinalIgnoreCase))
            {
                return ChangeVerdict.Refuse(RuleOwner.Catalogue, "same plan", "the subscription is already on this plan.");
            }

            if (catalogue.Count == 0)
            {
                // Nothing to judge against (the catalogue was never loaded): refusing every change would punish customers
                // for our set-up, so the marketplace's own check stands.
                return null;
            }

            if (!catalogue.TryGetValue(change.PlanId!, out var target))
            {
                return ChangeVerdict.Refuse(RuleOwner.Catalogue, "catalogue", $"plan '{change.PlanId}' is not in our catalogue.");
            }

            if (target.IsStopSell)
            {
                return ChangeVerdict.Refuse(RuleOwner.Catalogue, "stop-sell", $"plan '{change.PlanId}' is no longer sold.");
            }

            return target.IsPricePerSeat && seatsAfter is { } seats ? OutsideBounds(target, seats, afterMove: true) : null;
        }

        var quantity = change.Quantity!.Value;
        if (quantity < 1)
        {
            return ChangeVerdict.Refuse(RuleOwner.Catalogue, "seat bounds", $"{quantity} seats is not a valid quantity.");
        }

        if (portalSide && subscription.Quantity == quantity)
        {
            return ChangeVerdict.Refuse(RuleOwner.Catalogue, "same seats", "the subscription already has this many seats.");
        }

        if (catalogue.TryGetValue(subscription.PlanId, out var plan))
        {
            if (!plan.IsPricePerSeat)
            {
                return ChangeVerdict.Refuse(RuleOwner.Catalogue, "flat rate", $"{plan.DisplayName} is a flat-rate plan; it has no seats to change.");
            }

            if (OutsideBounds(plan, quantity, afterMove: false) is { } bounds)
            {
                return bounds;
            }
        }

        if (await seatUsage.SeatsInUseAsync(subscription.Id, ct) is { } inUse && quantity < inUse)
        {
            return ChangeVerdict.Refuse(RuleOwner.Catalogue, "seats in use", $"{quantity} seats is below the {inUse} seats the account uses.");
        }

        return null;
    }

    private async Task<ChangeVerdict?> OfferRefusalAsync(OfferPolicy policy, SubscriptionRecord subscription, ProposedChange change, int? seatsAfter, CancellationToken ct)
    {
        if (!policy.AcceptChanges)
        {
            return ChangeVerdict.Refuse(RuleOwner.Offer, "changes accepted: no", $"offer {policy.OfferId} accepts no plan or seat changes.");
        }

        if (change.IsPlanMove && policy.AllowedPlanMoves.Count > 0 && !policy.AllowedPlanMoves.Any(m => m.Matches(subscription.PlanId, change.PlanId!)))
        {
            return ChangeVerdict.Refuse(RuleOwner.Offer, "allowed plan moves",
                $"{subscription.PlanId} → {change.PlanId} is not among the moves offer {policy.OfferId} allows ({string.Join(", ", policy.AllowedPlanMoves)}).");
        }

        if (seatsAfter is not { } seats)
        {
            return null; // a flat-rate plan has no seats for a minimum to judge
        }

        switch (policy.MinimumSeats)
        {
            case MinimumSeatsRule.Fixed when policy.MinimumSeatsFixed is { } minimum && seats < minimum:
                return ChangeVerdict.Refuse(RuleOwner.Offer, $"minimum seats: {minimum}", $"{seats} seats is below the minimum of offer {policy.OfferId}.");

            case MinimumSeatsRule.SeatsInUse:
                var inUse = await seatUsage.SeatsInUseAsync(subscription.Id, ct) ?? RecordedSeatsInUse(subscription);
                return inUse is { } used && seats < used
                    ? ChangeVerdict.Refuse(RuleOwner.Offer, "minimum seats: seats in use", $"{seats} seats is below the {used} seats in use.")
                    : null;

            default:
                return null;
        }
    }

    /// <summary>
    /// Seats the subscription has after the change: the asked count; after a plan move, none on a flat-rate plan, else
    /// what the marketplace said follows the move or the seats it has now.
    /// </summary>
    private static int? SeatsAfter(SubscriptionRecord subscription, ProposedChange change, IReadOnlyDictionary<string, CataloguePlanRow> catalogue)
    {
        if (!change.IsPlanMove)
        {
            return change.Quantity;
        }

        if (catalogue.TryGetValue(change.PlanId!, out var target) && !target.IsPricePerSeat)
        {
            return null;
        }

        return change.Quantity ?? subscription.Quantity;
    }

    /// <summary>The "seats in use" answer the account configuration recorded, when the wizard asked for it.</summary>
    private static int? RecordedSeatsInUse(SubscriptionRecord subscription) =>
        AccountSetup.AnswersFrom(subscription.AccountSettings).GetValueOrDefault(CustomField.SeatsInUseName) is { } answer
        && decimal.TryParse(answer, NumberStyles.Number, CultureInfo.InvariantCulture, out var seats)
            ? (int)Math.Ceiling(seats)
            : null;

    private static ChangeVerdict? OutsideBounds(CataloguePlanRow plan, int seats, bool afterMove)
    {
        var min = plan.MinQuantity ?? 1;
        var refusal = seats < min ? $"{plan.DisplayName} needs at least {min} seats"
            : plan.MaxQuantity is { } max && seats > max ? $"{plan.DisplayName} allows at most {max} seats"
            : null;
        return refusal is null ? null
            : ChangeVerdict.Refuse(RuleOwner.Catalogue, "seat bounds",
                $"{refusal}; {(afterMove ? $"the subscription has {seats}: change the seats first" : $"{seats} is outside plan '{plan.PlanId}' bounds ({min}..{Seats(plan.MaxQuantity)})")}.");
    }

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Seats(int? quantity) => quantity?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static async Task<IReadOnlyDictionary<string, CataloguePlanRow>> CatalogueAsync(
        string offerId, DbConnection connection, DbTransaction? tx, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<CataloguePlanRow>(new CommandDefinition("""
            SELECT plan_id, display_name, is_price_per_seat, min_quantity, max_quantity, is_stop_sell
            FROM plans WHERE offer_id = @offerId
            """, new { offerId }, tx, cancellationToken: ct));
        return rows.ToDictionary(p => p.PlanId, StringComparer.OrdinalIgnoreCase);
    }
}
