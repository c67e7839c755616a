using System.Data.Common;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;

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
/// Answers ChangePlan and ChangeQuantity deliveries. The decision itself is <see cref="ChangeRules"/>'s, the same one
/// that judges operators' and customers' requests, so a change is allowed or refused the same way whoever makes it.
/// It runs inside the delivery's transaction, well within the 10 seconds the marketplace waits before accepting a change
/// by itself (docs/marketplace.md#answering-deliveries); each refusal names the rule that caused it.
/// </summary>
public sealed class ChangeDecider(ChangeRules rules)
{
    public async Task<ChangeDecision> DecidePlanAsync(
        SubscriptionRecord subscription, string planId, int? quantity, DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        From(await rules.DecideAsync(subscription, ProposedChange.PlanMove(ChangeSide.Marketplace, planId, quantity), connection, tx, ct));

    public async Task<ChangeDecision> DecideQuantityAsync(
        SubscriptionRecord subscription, int quantity, DbConnection connection, DbTransaction tx, CancellationToken ct = default) =>
        From(await rules.DecideAsync(subscription, ProposedChange.Seats(ChangeSide.Marketplace, quantity), connection, tx, ct));

    private static ChangeDecision From(ChangeVerdict verdict) => new(verdict.Allowed, verdict.Reason);
}
