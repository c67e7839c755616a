using System.Security.Claims;
using Marketplace.Models;
using Microsoft.AspNetCore.Authorization;
using PublisherPortal.Data;
using PublisherPortal.Identity;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Console;

/// <summary>What came of an operator's action. Pages turn each case into a sentence (<see cref="ConsoleActionText"/>).</summary>
public abstract record ConsoleActionResult
{
    /// <summary>The signed-in person does not hold the Operator role: nothing was done.</summary>
    public sealed record Denied : ConsoleActionResult;

    /// <summary>A plan change, seat change or cancellation was asked of the marketplace; <see cref="Result"/> says how it went.</summary>
    public sealed record ChangeRequested(ChangeRequestResult Result) : ConsoleActionResult;

    /// <summary>The action finished here and now.</summary>
    public sealed record Done(string Message) : ConsoleActionResult;

    /// <summary>The action could not be done; nothing changed.</summary>
    public sealed record Failed(string Message) : ConsoleActionResult;
}

/// <summary>
/// Every change an operator makes from the console. Pages hide these controls from everyone else, but a hidden button
/// is not a permission: each method checks the Operator policy itself, so a crafted circuit call from a finance user
/// changes nothing. Plan, seat and cancellation requests go through <see cref="SubscriptionChangeService"/>, which audits
/// them; the other actions are audited here.
/// </summary>
public sealed partial class OperatorActions(
    IAuthorizationService authorization,
    SubscriptionChangeService changes,
    SubscriptionStore subscriptions,
    OperationStore operations,
    PlanCatalog catalogue,
    Reconciler reconciler,
    OperationTracker tracker,
    AcknowledgementSender acknowledgements,
    DeliveryRequeue deliveries,
    AuditLog audit,
    TimeProvider time,
    ILogger<OperatorActions> logger)
{
    /// <summary>
    /// When the marketplace says "pending" before the other operator's operation row is committed, we look again
    /// for this long so the answer can say who started what.
    /// </summary>
    private static readonly TimeSpan PendingLookupWindow = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan PendingLookupInterval = TimeSpan.FromMilliseconds(250);

    public async Task<bool> IsOperatorAsync(ClaimsPrincipal user) =>
        (await authorization.AuthorizeAsync(user, Policies.Operator)).Succeeded;

    /// <param name="overrideReason">
    /// Set only when the operator chose to override an offer rule (<see cref="ChangeVerdict.CanBeOverridden"/>): it is
    /// recorded in the history and the audit log. Catalogue and marketplace rules cannot be overridden.
    /// </param>
    public Task<ConsoleActionResult> ChangePlanAsync(ClaimsPrincipal user, Guid subscriptionId, string planId, CancellationToken ct = default, string? overrideReason = null) =>
        AsOperatorAsync(user, async actor =>
            await ChangeAsync(subscriptionId, () => changes.RequestPlanChangeAsync(subscriptionId, planId, actor, EventSources.Operator, overrideReason, ct), ct));

    /// <summary>The plan's bounds, the offer's rules and the marketplace's limits are checked before asking (<see cref="ChangeRules"/>); the marketplace checks again.</summary>
    public Task<ConsoleActionResult> ChangeSeatsAsync(ClaimsPrincipal user, Guid subscriptionId, int seats, CancellationToken ct = default, string? overrideReason = null) =>
        AsOperatorAsync(user, async actor =>
            await ChangeAsync(subscriptionId, () => changes.RequestQuantityChangeAsync(subscriptionId, seats, actor, EventSources.Operator, overrideReason, ct), ct));

    /// <summary>
    /// What sending this change would do, judged without sending it: the console's confirmation shows it (and asks for a
    /// reason when only an offer rule stands in the way). Null for someone who is not an operator.
    /// </summary>
    public async Task<ChangePreview?> PreviewAsync(ClaimsPrincipal user, Guid subscriptionId, ProposedChange change, CancellationToken ct = default)
    {
        if (!await IsOperatorAsync(user) || await subscriptions.FindAsync(subscriptionId, ct) is not { } subscription)
        {
            return null;
        }

        var verdict = await changes.PreviewAsync(subscriptionId, change with { Side = ChangeSide.Operator, OverrideReason = null }, ct);
        var from = await catalogue.FindAsync(subscription.OfferId, subscription.PlanId, ct);
        var to = change.PlanId is { } planId ? await catalogue.FindAsync(subscription.OfferId, planId, ct) : from;
        return new ChangePreview(verdict, BillingEffect.Describe(subscription, from, to, change));
    }

    /// <summary>What this operator may change on the subscription now.</summary>
    public async Task<ChangeOptions?> OptionsAsync(ClaimsPrincipal user, Guid subscriptionId, CancellationToken ct = default) =>
        await IsOperatorAsync(user) ? await changes.OptionsAsync(subscriptionId, EventSources.Operator, ct) : null;

    /// <summary>
    /// Cancels the subscription in the marketplace. <paramref name="typedName"/> is what the operator typed to confirm:
    /// it must be the subscription's name, checked here too so no caller can skip the confirmation.
    /// </summary>
    public Task<ConsoleActionResult> CancelAsync(ClaimsPrincipal user, Guid subscriptionId, string typedName, CancellationToken ct = default) =>
        CancelCheckedAsync(user, subscriptionId, typedName, "Cancel", ct);

    /// <summary>
    /// Refusing a reinstatement is a cancellation (docs/marketplace.md#webhook-actions: a Reinstate is refused by
    /// cancelling), confirmed the same way, audited under its own name so the trail says why the customer lost the subscription.
    /// </summary>
    public Task<ConsoleActionResult> RefuseReinstatementAsync(ClaimsPrincipal user, Guid subscriptionId, string typedName, CancellationToken ct = default) =>
        CancelCheckedAsync(user, subscriptionId, typedName, "RefuseReinstatement", ct);

    /// <summary>Reads the subscription from the marketplace now and records every difference (the reconciler's work, for one).</summary>
    public Task<ConsoleActionResult> SyncNowAsync(ClaimsPrincipal user, Guid subscriptionId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            ConsoleActionResult result;
            try
            {
                result = await SyncSubscriptionAsync(subscriptionId, ct);
            }
            catch (Exception e) when (IsMarketplaceTrouble(e, ct))
            {
                Log.ActionFailed(logger, "SyncNow", subscriptionId.ToString(), e.Message);
                result = new ConsoleActionResult.Failed("The marketplace did not answer. Nothing changed; try again in a minute.");
            }

            await audit.RecordAsync(actor.Actor, "SyncNow", subscriptionId, null, Outcome(result), ct);
            return result;
        });

    /// <summary>Compares every subscription the marketplace lists with ours now, instead of at the next scheduled run.</summary>
    public Task<ConsoleActionResult> ReconcileAllAsync(ClaimsPrincipal user, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            ConsoleActionResult result;
            try
            {
                var run = await reconciler.RunAsync(ReconciliationTriggers.Operator, ct);
                result = run.Failed == 0
                    ? new ConsoleActionResult.Done($"Reconciled {Words.Count(run.Checked, "subscription")}: {run.Added} new, {run.Corrected} corrected, {run.Skipped} left to a change in flight.")
                    : new ConsoleActionResult.Failed($"Reconciled {Words.Count(run.Checked, "subscription")}; {run.Failed} could not be checked. See the portal's logs.");
            }
            catch (Exception e) when (IsMarketplaceTrouble(e, ct))
            {
                Log.ActionFailed(logger, "ReconcileAll", "all", e.Message);
                result = new ConsoleActionResult.Failed("The marketplace did not answer. Nothing changed; try again in a minute.");
            }

            await audit.RecordAsync(actor.Actor, "ReconcileAll", null, null, Outcome(result), ct);
            return result;
        });

    /// <summary>When the reconciler last compared us with the marketplace, for the subscriptions page.</summary>
    public Task<ReconciliationRun?> LastReconciliationAsync(CancellationToken ct = default) => reconciler.LastRunAsync(ct);

    /// <summary>Asks the marketplace about one of our operations now instead of at its next scheduled poll.</summary>
    public Task<ConsoleActionResult> CheckOperationNowAsync(ClaimsPrincipal user, Guid operationId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var operation = await operations.FindAsync(operationId, ct);
            if (operation is null)
            {
                return new ConsoleActionResult.Failed("We have no record of this operation.");
            }

            ConsoleActionResult result;
            try
            {
                result = await CheckOperationAsync(operationId, ct);
            }
            catch (Exception e) when (IsMarketplaceTrouble(e, ct))
            {
                Log.ActionFailed(logger, "CheckOperation", operationId.ToString(), e.Message);
                result = new ConsoleActionResult.Failed("The marketplace did not answer; the operation will be checked again on its own.");
            }

            await audit.RecordAsync(actor.Actor, "RetryOperation", operation.SubscriptionId, $"operation {operationId}", Outcome(result), ct);
            return result;
        });

    /// <summary>
    /// Asks the marketplace again for the plan or seat change a failed operation asked for. It is a new request through
    /// <see cref="SubscriptionChangeService"/> (bounds, one-at-a-time and audit included), never a replay of the old one:
    /// the subscription may have moved on since, and the marketplace judges the request against what it is now.
    /// </summary>
    public Task<ConsoleActionResult> RequestAgainAsync(ClaimsPrincipal user, Guid operationId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var operation = await operations.FindAsync(operationId, ct);
            if (operation is null)
            {
                return new ConsoleActionResult.Failed("We have no record of this operation.");
            }

            if (!CanBeRequestedAgain(operation))
            {
                await audit.RecordAsync(actor.Actor, "RequestAgain", operation.SubscriptionId, $"operation {operationId}", "NotAllowed", ct);
                return new ConsoleActionResult.Failed(operation.IsPending
                    ? "This operation is still in progress; wait for the marketplace's answer."
                    : "Only a plan or seat change that did not succeed can be requested again.");
            }

            await audit.RecordAsync(actor.Actor, "RequestAgain", operation.SubscriptionId, $"operation {operationId}", "Requested", ct);
            return operation.Action == nameof(OperationAction.ChangePlan)
                ? await ChangePlanAsync(user, operation.SubscriptionId, operation.RequestedPlanId!, ct)
                : await ChangeSeatsAsync(user, operation.SubscriptionId, operation.RequestedQuantity!.Value, ct);
        });

    /// <summary>A plan or seat change that ended without succeeding; cancellations are confirmed afresh, never repeated by a click.</summary>
    public static bool CanBeRequestedAgain(OperationRecord operation) =>
        operation.Status is OperationStates.Failed or OperationStates.TimedOut or OperationStates.Conflict
        && ((operation.Action == nameof(OperationAction.ChangePlan) && operation.RequestedPlanId is not null)
            || (operation.Action == nameof(OperationAction.ChangeQuantity) && operation.RequestedQuantity is not null));

    /// <summary>Sends an acknowledgement we owe the marketplace again, now.</summary>
    public Task<ConsoleActionResult> RetryAcknowledgementAsync(ClaimsPrincipal user, long acknowledgementId, Guid subscriptionId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            ConsoleActionResult result;
            try
            {
                result = await RetryAcknowledgementAsync(acknowledgementId, ct);
            }
            catch (Exception e) when (IsMarketplaceTrouble(e, ct))
            {
                Log.ActionFailed(logger, "RetryAcknowledgement", acknowledgementId.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
                result = new ConsoleActionResult.Failed("The marketplace did not answer; the acknowledgement stays queued and is retried on its own.");
            }

            await audit.RecordAsync(actor.Actor, "RetryAcknowledgement", subscriptionId, $"acknowledgement {acknowledgementId}", Outcome(result), ct);
            return result;
        });

    /// <summary>Puts a webhook delivery whose processing failed back in the inbox queue.</summary>
    public Task<ConsoleActionResult> ProcessDeliveryAgainAsync(ClaimsPrincipal user, long deliveryId, Guid? subscriptionId, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var result = await RequeueDeliveryAsync(deliveryId, ct);
            await audit.RecordAsync(actor.Actor, "ProcessDeliveryAgain", subscriptionId, $"delivery {deliveryId}", Outcome(result), ct);
            return result;
        });

    /// <summary>Refreshes the plan catalogue from the marketplace.</summary>
    public Task<ConsoleActionResult> RefreshCatalogueAsync(ClaimsPrincipal user, CancellationToken ct = default) =>
        AsOperatorAsync(user, async actor =>
        {
            var refresh = await catalogue.RefreshAsync(ct);
            ConsoleActionResult result = refresh.Problems.Count == 0
                ? new ConsoleActionResult.Done($"Catalogue refreshed: {Words.Count(refresh.Plans, "plan")} of {Words.Count(refresh.Offers, "offer")}.")
                : new ConsoleActionResult.Failed(string.Join(" ", refresh.Problems));
            await audit.RecordAsync(actor.Actor, "RefreshCatalogue", null, $"{refresh.Offers} offers, {refresh.Plans} plans", Outcome(result), ct);
            return result;
        });

    private Task<ConsoleActionResult> CancelCheckedAsync(ClaimsPrincipal user, Guid subscriptionId, string typedName, string auditAction, CancellationToken ct) =>
        AsOperatorAsync(user, async actor =>
        {
            var subscription = await subscriptions.FindAsync(subscriptionId, ct);
            if (subscription is null)
            {
                return new ConsoleActionResult.Failed("We do not know this subscription.");
            }

            if (!string.Equals(typedName.Trim(), subscription.Name.Trim(), StringComparison.Ordinal))
            {
                await audit.RecordAsync(actor.Actor, auditAction, subscriptionId, "confirmation did not match the name", "NotConfirmed", ct);
                return new ConsoleActionResult.Failed($"Type the subscription's name, \"{subscription.Name}\", exactly to confirm.");
            }

            if (auditAction != "Cancel")
            {
                await audit.RecordAsync(actor.Actor, auditAction, subscriptionId, "cancellation follows", "Confirmed", ct);
            }

            return await ChangeAsync(subscriptionId, () => changes.RequestCancellationAsync(subscriptionId, actor, EventSources.Operator, ct), ct);
        });

    private async Task<ConsoleActionResult> SyncSubscriptionAsync(Guid subscriptionId, CancellationToken ct) =>
        await reconciler.SyncSubscriptionAsync(subscriptionId, ct) switch
        {
            SyncOutcome.InSync => new ConsoleActionResult.Done("In sync: the marketplace shows the same status, plan and seats as we do."),
            SyncOutcome.Corrected => new ConsoleActionResult.Done("Corrected from the marketplace; the history shows what changed."),
            SyncOutcome.Added => new ConsoleActionResult.Done("Recorded: we did not know this subscription before."),
            SyncOutcome.Skipped => new ConsoleActionResult.Failed("A change is in flight for this subscription; it was left to finish and is checked again later."),
            _ => new ConsoleActionResult.Failed("The marketplace does not show this subscription, or recording it failed; see the portal's logs."),
        };

    private async Task<ConsoleActionResult> CheckOperationAsync(Guid operationId, CancellationToken ct) =>
        await tracker.CheckNowAsync(operationId, ct) switch
        {
            null => new ConsoleActionResult.Failed("We have no record of this operation."),
            { IsPending: true } => new ConsoleActionResult.Done("Checked: the marketplace is still working on it."),
            var ended => new ConsoleActionResult.Done($"Checked: the operation ended {ended.Status}."),
        };

    private async Task<ConsoleActionResult> RetryAcknowledgementAsync(long acknowledgementId, CancellationToken ct) =>
        await acknowledgements.RetryAsync(acknowledgementId, ct) switch
        {
            AcknowledgementRetryResult.Queued => new ConsoleActionResult.Done("Queued: the acknowledgement is sent again now."),
            AcknowledgementRetryResult.AlreadySent => new ConsoleActionResult.Done("Nothing to do: the marketplace already has this acknowledgement."),
            _ => new ConsoleActionResult.Failed("We have no record of this acknowledgement."),
        };

    private async Task<ConsoleActionResult> RequeueDeliveryAsync(long deliveryId, CancellationToken ct) =>
        await deliveries.RequeueFailedAsync(deliveryId, ct)
            ? new ConsoleActionResult.Done("Queued: the delivery is processed again now.")
            : new ConsoleActionResult.Failed("Only an accepted delivery whose processing failed can be processed again.");

    private async Task<ConsoleActionResult> ChangeAsync(Guid subscriptionId, Func<Task<ChangeRequestResult>> request, CancellationToken ct)
    {
        var result = await request();
        if (result is ChangeRequestResult.AlreadyPending { Pending: null })
        {
            result = new ChangeRequestResult.AlreadyPending(await WaitForPendingRowAsync(subscriptionId, ct));
        }

        return new ConsoleActionResult.ChangeRequested(result);
    }

    // The marketplace refuses the second of two racing requests before the first one's row is committed:
    // a short look again lets us name the other operator instead of saying "someone".
    private async Task<OperationRecord?> WaitForPendingRowAsync(Guid subscriptionId, CancellationToken ct)
    {
        var until = time.GetUtcNow() + PendingLookupWindow;
        while (true)
        {
            if (await operations.FindPendingForAsync(subscriptionId, ct) is { } pending)
            {
                return pending;
            }

            if (time.GetUtcNow() >= until)
            {
                return null;
            }

            await Task.Delay(PendingLookupInterval, time, ct);
        }
    }

    private async Task<ConsoleActionResult> AsOperatorAsync(ClaimsPrincipal user, Func<CurrentUser, Task<ConsoleActionResult>> action)
    {
        var actor = CurrentUser.From(user);
        if (!await IsOperatorAsync(user))
        {
            Log.Denied(logger, actor.Actor);
            return new ConsoleActionResult.Denied();
        }

        return await action(actor);
    }

    private static bool IsMarketplaceTrouble(Exception e, CancellationToken ct) =>
        e is Marketplace.MarketplaceException or HttpRequestException or TimeoutException or TaskCanceledException && !ct.IsCancellationRequested;

    private static string Outcome(ConsoleActionResult result) => result switch
    {
        ConsoleActionResult.ChangeRequested c => c.Result.GetType().Name,
        _ => result.GetType().Name,
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Console action refused: {Actor} does not hold the Operator role")]
        public static partial void Denied(ILogger logger, string actor);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Console action {Action} on {Target} failed: {Reason}")]
        public static partial void ActionFailed(ILogger logger, string action, string target, string reason);
    }
}
