using System.Globalization;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;

namespace PublisherPortal.Console;

/// <summary>What sending a change would do (the decision) and what it changes in the bill, for the confirmation.</summary>
public sealed record ChangePreview(ChangeVerdict Verdict, string BillingEffect);

/// <summary>
/// The billing effect of a change in a sentence, "from → to, per seat or flat": what an operator reads before a change
/// that moves money is sent. Prices come from the catalogue we hold; without one, the plan's id stands alone.
/// </summary>
public static class BillingEffect
{
    public static string Describe(SubscriptionRecord subscription, CataloguePlan? from, CataloguePlan? to, ProposedChange change)
    {
        var before = Billing(subscription.PlanId, from, subscription.Quantity);
        if (change.PlanId is { } planId)
        {
            // The marketplace keeps the seats on a per-seat plan and drops them on a flat-rate one.
            var seatsAfter = to is { IsPricePerSeat: false } ? null : subscription.Quantity ?? to?.MinQuantity;
            return $"Billing changes from {before} to {Billing(planId, to, seatsAfter)}.";
        }

        return $"Billing changes from {before} to {Billing(subscription.PlanId, from, change.Quantity)}.";
    }

    /// <summary>What activating bills from today, for an approval.</summary>
    public static string Activation(string planId, CataloguePlan? plan, int? seats) =>
        $"Approving activates the subscription: the marketplace starts billing {Billing(planId, plan, seats)} from today.";

    private static string Billing(string planId, CataloguePlan? plan, int? seats)
    {
        var name = plan is null ? planId : $"{plan.DisplayName} ({planId})";
        var price = plan?.Price is { } p ? $", {p}" : "";
        var perSeat = plan?.IsPricePerSeat ?? seats is not null;
        return perSeat && seats is { } n
            ? $"{name}{price} × {n.ToString(CultureInfo.InvariantCulture)} {(n == 1 ? "seat" : "seats")}"
            : $"{name}{price}, flat rate";
    }
}
