using System.Net;
using Marketplace;
using Marketplace.Models;
using PublisherPortal.Data;
using PublisherPortal.Identity;

namespace PublisherPortal.Subscriptions;

/// <summary>What came of asking the marketplace for a change. Pages turn each case into a sentence.</summary>
public abstract record ChangeRequestResult
{
    /// <summary>The marketplace accepted the request; the operation is followed until it ends.</summary>
    public sealed record Started(OperationRecord Operation) : ChangeRequestResult;

    /// <summary>Another change is in flight. <paramref name="Pending"/> says whose, when we know it.</summary>
    public sealed record AlreadyPending(OperationRecord? Pending) : ChangeRequestResult;

    /// <summary>
    /// We did not send it: a rule refused it (<see cref="ChangeRules"/>). <paramref name="Verdict"/> names the rule and
    /// whose it is; an operator may repeat a request an offer rule refused with a reason (<see cref="ChangeVerdict.CanBeOverridden"/>).
    /// </summary>
    public sealed record NotAllowed(string Reason, ChangeVerdict? Verdict = null) : ChangeRequestResult;

    /// <summary>The marketplace refused it (e.g. seats out of the plan's bounds).</summary>
    public sealed record Refused(string Reason, string RequestId) : ChangeRequestResult;

    /// <summary>The marketplace could not be reached or failed; nothing changed, the request can be repeated.</summary>
    public sealed record Unavailable(string Reason) : ChangeRequestResult;
}

/// <summary>
/// Plan changes, seat changes and cancellations started on our side, by operators or customers.
/// The subscription itself changes only when the marketplace reports the operation succeeded (OperationTracker).
/// </summary>
public sealed partial class SubscriptionChangeService(
    IFulfillmentClient marketplace,
    PortalDatabase database,
    SubscriptionStore subscriptions,
    OperationStore operations,
    ChangeRules rules,
    AuditLog audit,
    TimeProvider time,
    ILogger<SubscriptionChangeService> logger)
{
    /// <summary>First poll a little after the request; the tracker backs off from there.</summary>
    public static readonly TimeSpan FirstPollDelay = TimeSpan.FromSeconds(2);

    public Task<ChangeRequestResult> RequestPlanChangeAsync(Guid subscriptionId, string planId, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestPlanChangeAsync(subscriptionId, planId, actor, source, null, ct);

    /// <param name="overrideReason">An operator's reason to override an offer rule; ignored for customers, who never can.</param>
    public Task<ChangeRequestResult> RequestPlanChangeAsync(
        Guid subscriptionId, string planId, CurrentUser actor, string source, string? overrideReason, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "ChangePlan", planId, null, actor, source,
            side => ProposedChange.PlanMove(side, planId, overrideReason: overrideReason),
            correlation => marketplace.ChangePlanAsync(subscriptionId, planId, correlation, ct), ct);

    public Task<ChangeRequestResult> RequestQuantityChangeAsync(Guid subscriptionId, int quantity, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestQuantityChangeAsync(subscriptionId, quantity, actor, source, null, ct);

    /// <param name="overrideReason">An operator's reason to override an offer rule; ignored for customers, who never can.</param>
    public Task<ChangeRequestResult> RequestQuantityChangeAsync(
        Guid subscriptionId, int quantity, CurrentUser actor, string source, string? overrideReason, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "ChangeQuantity", null, quantity, actor, source,
            side => ProposedChange.Seats(side, quantity, overrideReason),
            correlation => marketplace.ChangeQuantityAsync(subscriptionId, quantity, correlation, ct), ct);

    public Task<ChangeRequestResult> RequestCancellationAsync(Guid subscriptionId, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "Unsubscribe", null, null, actor, source,
            ProposedChange.Cancellation,
            correlation => marketplace.DeleteSubscriptionAsync(subscriptionId, correlation, ct), ct);

    /// <summary>What <paramref name="source"/> (operator or customer) may ask for on this subscription now.</summary>
    public async Task<ChangeOptions?> OptionsAsync(Guid subscriptionId, string source, CancellationToken ct = default) =>
        await subscriptions.FindAsync(subscriptionId, ct) is { } subscription
            ? await rules.OptionsAsync(subscription, SideOf(source), ct)
            : null;

    /// <summary>Judges a change without sending it: for a confirmation that shows what would happen, or why not.</summary>
    public async Task<ChangeVerdict> PreviewAsync(Guid subscriptionId, ProposedChange change, CancellationToken ct = default) =>
        await subscriptions.FindAsync(subscriptionId, ct) is { } subscription
            ? await rules.DecideAsync(subscription, change, ct)
            : ChangeVerdict.Refuse(RuleOwner.Marketplace, "unknown subscription", "we do not know this subscription.");

    private static ChangeSide SideOf(string source) => source == EventSources.Customer ? ChangeSide.Customer : ChangeSide.Operator;

    private async Task<ChangeRequestResult> RequestAsync(
        Guid subscriptionId,
        string action,
        string? planId,
        int? quantity,
        CurrentUser actor,
        string source,
        Func<ChangeSide, ProposedChange> proposal,
        Func<Guid, Task<OperationAccepted>> send,
        CancellationToken ct)
    {
        var detail = planId is not null ? $"plan {planId}" : quantity is not null ? $"{quantity} seats" : "cancel";
        var (result, verdict) = await DecideAndSendAsync(subscriptionId, action, planId, quantity, actor, source, proposal, send, ct);
        if (verdict?.OverriddenRule is { } rule)
        {
            detail += $"; overriding rule '{rule}': {verdict.OverrideReason}";
        }
        else if (result is ChangeRequestResult.NotAllowed { Verdict.Rule: { } refusedBy })
        {
            detail += $"; refused by rule '{refusedBy}'";
        }

        await audit.RecordAsync(actor.Actor, action, subscriptionId, detail, result.GetType().Name, ct);
        return result;
    }

    private async Task<(ChangeRequestResult Result, ChangeVerdict? Verdict)> DecideAndSendAsync(
        Guid subscriptionId,
        string action,
        string? planId,
        int? quantity,
        CurrentUser actor,
        string source,
        Func<ChangeSide, ProposedChange> proposal,
        Func<Guid, Task<OperationAccepted>> send,
        CancellationToken ct)
    {
        var subscription = await subscriptions.FindAsync(subscriptionId, ct);
        if (subscription is null)
        {
            return (new ChangeRequestResult.NotAllowed("We do not know this subscription."), null);
        }

        // The one decision for every side: the marketplace's limits, our catalogue, the offer's rules.
        var verdict = await rules.DecideAsync(subscription, proposal(SideOf(source)), ct);
        if (!verdict.Allowed)
        {
            return (new ChangeRequestResult.NotAllowed(verdict.Sentence, verdict), verdict);
        }

        var correlation = Guid.NewGuid();
        if (await operations.FindPendingForAsync(subscriptionId, ct) is { } pending)
        {
            return (new ChangeRequestResult.AlreadyPending(pending), verdict);
        }

        OperationAccepted accepted;
        try
        {
            accepted = await send(correlation);
        }
        catch (MarketplaceException e) when (e.IsPendingOperation)
        {
            return (new ChangeRequestResult.AlreadyPending(await operations.FindPendingForAsync(subscriptionId, ct)), verdict);
        }
        catch (MarketplaceException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode != HttpStatusCode.TooManyRequests)
        {
            return (new ChangeRequestResult.Refused(e.ErrorMessage, e.RequestId), verdict);
        }
        catch (Exception e) when (e is MarketplaceException or HttpRequestException or TimeoutException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Log.MarketplaceUnavailable(logger, action, subscriptionId, e.Message);
            return (new ChangeRequestResult.Unavailable("The marketplace did not answer. Nothing changed; try again in a minute."), verdict);
        }

        var now = time.GetUtcNow();
        var operation = new OperationRecord
        {
            Id = accepted.OperationId,
            SubscriptionId = subscriptionId,
            Action = action,
            RequestedPlanId = planId,
            RequestedQuantity = quantity,
            Status = OperationStates.InProgress,
            Source = source,
            RequestedBy = actor.Actor,
            RequestedAt = now,
            Location = accepted.Location.ToString(),
            CorrelationId = correlation,
            NextPollAt = now + FirstPollDelay,
        };

        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        if (!await operations.TryRecordStartedAsync(operation, connection, tx, ct))
        {
            // The marketplace accepted ours, so it has nothing else in flight: a pending row in the way is stale.
            Log.PendingRowInTheWay(logger, subscriptionId, operation.Id);
            await operations.CloseStalePendingAsync(subscriptionId, "Superseded: the marketplace accepted a newer operation.", now, connection, tx, ct);
            await operations.TryRecordStartedAsync(operation, connection, tx, ct);
        }

        if (verdict.OverriddenRule is { } rule)
        {
            // Finance and the next operator see, in the subscription's own history, that an offer rule was set aside and why.
            await subscriptions.AppendEventAsync(SubscriptionEvent.Milestone(subscription, EventKinds.ChangeRuleOverridden, now, source, actor.Actor,
                $"{DescribeRequest(planId, quantity)} sent overriding rule '{rule}': {verdict.OverrideReason}") with { OperationId = operation.Id }, connection, tx, ct);
        }

        await tx.CommitAsync(ct);
        return (new ChangeRequestResult.Started(operation), verdict);
    }

    private static string DescribeRequest(string? planId, int? quantity) =>
        planId is not null ? $"plan change to {planId}" : $"seat change to {quantity}";

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Marketplace unavailable for {Action} on {SubscriptionId}: {Reason}")]
        public static partial void MarketplaceUnavailable(ILogger logger, string action, Guid subscriptionId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Operation {OperationId} on {SubscriptionId} accepted while another pending row exists")]
        public static partial void PendingRowInTheWay(ILogger logger, Guid subscriptionId, Guid operationId);
    }
}
