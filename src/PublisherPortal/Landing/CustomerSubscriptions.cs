using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Offers;
using PublisherPortal.Subscriptions;

namespace PublisherPortal.Landing;

/// <summary>One row of "My subscriptions".</summary>
public sealed record CustomerSubscription(
    SubscriptionRecord Subscription,
    string PlanDisplayName,
    OperationRecord? PendingOperation,
    ActivationApproval? Approval = null,
    IReadOnlyList<CustomField>? Fields = null,
    ChangeOptions? Options = null,
    string? OfferDisplayName = null)
{
    /// <summary>The offer as customers read it: the Admin's display name, the id only while none is set.</summary>
    public string OfferName => OfferDisplayName ?? Subscription.OfferId;

    /// <summary>The answers the customer gave the offer's own questions, to show on their card.</summary>
    public IReadOnlyDictionary<string, string?> Answers => AccountSetup.AnswersFrom(Subscription.AccountSettings);

    private bool Changeable => Subscription.Status == SubscriptionStatus.Subscribed && PendingOperation is null;

    /// <summary>Offered only where the one decision (<see cref="ChangeRules"/>) would let this customer ask.</summary>
    public bool CanChangePlan => Changeable && (Options?.CanChangePlan ?? Subscription.Allows("Update"));

    /// <summary>Never on a flat-rate plan: it has no seats.</summary>
    public bool CanChangeSeats => Changeable && (Options?.CanChangeSeats ?? (Subscription.Allows("Update") && Subscription.Quantity is not null));

    public bool CanChange => CanChangePlan || CanChangeSeats;

    public bool CanCancel => Subscription.Status is SubscriptionStatus.Subscribed or SubscriptionStatus.Suspended
        && (Options?.CanCancel ?? Subscription.Allows("Delete")) && PendingOperation is null;

    /// <summary>Why the change buttons are missing, in the customer's words, saying who can make the change (null when they are there).</summary>
    public string? WhyNoChanges =>
        PendingOperation is not null ? "A change is in progress."
        : Subscription.Status == SubscriptionStatus.Unsubscribed ? null
        : Options?.WhyNot is { } why ? why
        : !Subscription.Allows("Update") && !Subscription.Allows("Delete") ? "The Microsoft marketplace allows no changes to this subscription from here."
        : null;
}

/// <summary>
/// A signed-in customer's own subscriptions, and the changes the marketplace lets them make. Every change goes through
/// <see cref="SubscriptionChangeService"/> with source "customer", after checking the subscription is theirs.
/// </summary>
public sealed class CustomerSubscriptions(
    SubscriptionStore subscriptions,
    OperationStore operations,
    LandingStore landing,
    OfferPolicyStore policies,
    ActivationApprovalStore approvals,
    SubscriptionChangeService changes,
    ChangeRules rules,
    IFulfillmentClient marketplace,
    TimeProvider time,
    IOptions<LandingOptions> options,
    OfferNames offerNames)
{
    public async Task<IReadOnlyList<CustomerSubscription>> ListAsync(CurrentUser user, CancellationToken ct = default)
    {
        var mine = await subscriptions.ListForCustomerAsync(user.TenantId, user.ObjectId, ct);
        var names = await landing.PlanNamesAsync(ct);
        var offerNamesById = await offerNames.AllAsync(ct);
        var rows = new List<CustomerSubscription>(mine.Count);
        foreach (var s in mine)
        {
            var pending = await operations.FindPendingForAsync(s.Id, ct);
            var approval = await approvals.FindAsync(s.Id, ct);
            var fields = (await policies.FindAsync(s.OfferId, ct)).CustomFields;
            var options = await rules.OptionsAsync(s, ChangeSide.Customer, ct);
            rows.Add(new CustomerSubscription(s, names.GetValueOrDefault((s.OfferId, s.PlanId)) ?? s.PlanId, pending, approval, fields, options,
                offerNamesById.GetValueOrDefault(s.OfferId)));
        }

        return rows;
    }

    /// <summary>The plans this subscription may move to, from the marketplace (docs/marketplace.md#list-available-plans).</summary>
    public async Task<PlanChoices> PlansForAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct = default)
    {
        if (await OwnedAsync(subscriptionId, user, ct) is not { } subscription)
        {
            return new PlanChoices([], "This subscription is not one of yours.");
        }

        try
        {
            var plans = await marketplace.ListAvailablePlansAsync(subscriptionId, Guid.NewGuid(), null, ct);
            // Only the moves the one decision would allow this customer (the offer's allowed moves, stop-sell, seat bounds).
            var offered = new List<Plan>();
            foreach (var plan in plans.Where(p => !p.IsStopSell && !string.Equals(p.PlanId, subscription.PlanId, StringComparison.OrdinalIgnoreCase)))
            {
                if ((await rules.DecideAsync(subscription, ProposedChange.PlanMove(ChangeSide.Customer, plan.PlanId), ct)).Allowed)
                {
                    offered.Add(plan);
                }
            }

            return new PlanChoices(offered, null);
        }
        catch (Exception e) when ((e is MarketplaceException || MarketplaceProblems.IsTransient(e)) && !ct.IsCancellationRequested)
        {
            return new PlanChoices([], MarketplaceProblems.Unavailable);
        }
    }

    public async Task<ChangeRequestResult> ChangePlanAsync(Guid subscriptionId, string planId, CurrentUser user, CancellationToken ct = default) =>
        await OwnedAsync(subscriptionId, user, ct) is null
            ? NotYours
            : await changes.RequestPlanChangeAsync(subscriptionId, planId, user, EventSources.Customer, ct);

    public async Task<ChangeRequestResult> ChangeSeatsAsync(Guid subscriptionId, int seats, CurrentUser user, CancellationToken ct = default) =>
        await OwnedAsync(subscriptionId, user, ct) is null
            ? NotYours
            : await changes.RequestQuantityChangeAsync(subscriptionId, seats, user, EventSources.Customer, ct);

    public async Task<ChangeRequestResult> CancelAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct = default) =>
        await OwnedAsync(subscriptionId, user, ct) is null
            ? NotYours
            : await changes.RequestCancellationAsync(subscriptionId, user, EventSources.Customer, ct);

    /// <summary>
    /// Waits for an operation we started to end. The tracker completes it in the database; we only read, every few
    /// seconds, and report each look so the page can show progress.
    /// </summary>
    public async Task<OperationRecord?> WaitForOperationAsync(Guid operationId, Action<OperationRecord?>? progress, CancellationToken ct = default)
    {
        var until = time.GetUtcNow() + options.Value.OperationWaitLimit;
        while (true)
        {
            var operation = await operations.FindAsync(operationId, ct);
            progress?.Invoke(operation);
            if (operation is null || !operation.IsPending || time.GetUtcNow() >= until)
            {
                return operation;
            }

            await Task.Delay(options.Value.OperationPollInterval, time, ct);
        }
    }

    public static string Describe(ChangeRequestResult result) => result switch
    {
        ChangeRequestResult.Started => "The marketplace accepted the request and is processing it.",
        ChangeRequestResult.AlreadyPending => "Another change to this subscription is still in progress. Try again when it has finished.",
        ChangeRequestResult.NotAllowed n => n.Reason,
        ChangeRequestResult.Refused r => $"The marketplace refused the change: {r.Reason}",
        ChangeRequestResult.Unavailable u => u.Reason,
        _ => "Something unexpected happened; nothing was changed.",
    };

    public static string Describe(OperationRecord? operation) => operation?.Status switch
    {
        null => "We cannot find this change any more. Refresh the page to see the subscription's current state.",
        OperationStates.InProgress => "Still in progress. It can take a few minutes; you can leave this page, the change continues.",
        OperationStates.Succeeded => "Done.",
        OperationStates.Conflict => "Nothing changed: the subscription already had what you asked for.",
        OperationStates.Failed => $"The marketplace could not make the change{(operation.ErrorMessage is { Length: > 0 } m ? $": {m}" : ".")}",
        _ => $"The change ended as {operation.Status}{(operation.ErrorMessage is { Length: > 0 } e ? $": {e}" : ".")}",
    };

    private static ChangeRequestResult NotYours { get; } = new ChangeRequestResult.NotAllowed("This subscription is not one of yours.");

    // The page only offers the customer's own subscriptions, but a circuit's calls are not to be trusted blindly.
    private async Task<SubscriptionRecord?> OwnedAsync(Guid subscriptionId, CurrentUser user, CancellationToken ct)
    {
        var s = await subscriptions.FindAsync(subscriptionId, ct);
        if (s is null)
        {
            return null;
        }

        bool Same(string? a, string? b) => a is { Length: > 0 } && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
        return Same(user.TenantId, s.BeneficiaryTenantId) || Same(user.TenantId, s.PurchaserTenantId)
            || Same(user.ObjectId, s.BeneficiaryObjectId) || Same(user.ObjectId, s.PurchaserObjectId)
            ? s
            : null;
    }
}

public sealed record PlanChoices(IReadOnlyList<Plan> Plans, string? Problem);
