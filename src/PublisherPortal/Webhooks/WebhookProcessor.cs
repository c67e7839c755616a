using System.Data.Common;
using System.Net;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Observability;
using static PublisherPortal.Observability.PortalTelemetry;

namespace PublisherPortal.Webhooks;

/// <summary>
/// Drains the webhook inbox: confirms each delivery with the marketplace, applies it to the subscription (state and a
/// history event with source "marketplace"), and queues what we owe the marketplace in the same transaction.
/// Deliveries are leased, so several instances share the work and never apply one twice; everything lives in the
/// database, so a restart loses nothing.
/// </summary>
public sealed partial class WebhookProcessor(
    WebhookDeliveryStore deliveries,
    AcknowledgementStore acknowledgements,
    SubscriptionStore subscriptions,
    OperationStore operations,
    ChangeDecider decider,
    IFulfillmentClient marketplace,
    PortalDatabase database,
    WorkSignals signals,
    WorkerIdentity worker,
    IOptions<WebhooksOptions> options,
    TimeProvider time,
    ILogger<WebhookProcessor> logger) : BackgroundService
{
    private const string MarketplaceActor = "marketplace";

    private WebhooksOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Settings.RunProcessor)
        {
            return;
        }

        await signals.Deliveries.RunRoundsAsync(ProcessDueAsync, e => Log.RoundFailed(logger, e), Settings.PollInterval, time, stoppingToken);
    }

    /// <summary>One round: claims the due deliveries and handles each, oldest marketplace timeStamp first. Returns how many were claimed.</summary>
    public async Task<int> ProcessDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var claimed = await deliveries.ClaimDueAsync(worker.Id, now, now + Settings.LeaseDuration, Settings.BatchSize, ct);
        // Concurrently, as the acknowledgement sender does: one at a time, a single marketplace call waiting out a
        // 429's Retry-After held every delivery behind it, and under a burst the 10-second window
        // (docs/marketplace.md#answering-deliveries) passed in the queue (bench/README.md). Deliveries of one
        // subscription still apply in timeStamp order: the newer finds the older Pending and waits for it.
        await Task.WhenAll(claimed.Select(delivery => ProcessTracedAsync(delivery, ct)));
        return claimed.Count;
    }

    private async Task ProcessTracedAsync(WebhookDeliveryRecord delivery, CancellationToken ct)
    {
        // The delivery's own trace, continued from the request that stored it.
        using var activity = WebhookTelemetry.Source.StartFromStored("webhook process", delivery.TraceParent);
        activity?.SetTag("portal.delivery_id", delivery.Id);
        activity?.SetTag("marketplace.subscription_id", delivery.SubscriptionId);
        activity?.SetTag("marketplace.operation_id", delivery.OperationId);
        activity?.SetTag("marketplace.action", delivery.Action);
        using var scope = SubscriptionLogScope.Begin(logger, delivery.SubscriptionId);
        try
        {
            await ProcessOneAsync(delivery, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
            await RetryLaterAsync(delivery, e.GetType().Name + ": " + e.Message, ct);
        }
    }

    private async Task ProcessOneAsync(WebhookDeliveryRecord delivery, CancellationToken ct)
    {
        if (WebhookInbox.TryParse(delivery.Body, out var parseError) is not { } operation)
        {
            await FinishAloneAsync(delivery, ProcessingStates.Failed, $"unreadable body: {parseError}", ct);
            return;
        }

        if (Marketplace.Webhooks.WebhookTestDelivery.IsTest(operation.Action))
        {
            // The health self-test proves token, inbox and processor; it names nothing real and is never applied.
            await FinishAloneAsync(delivery, ProcessingStates.Ignored, "self-test delivery: validated and stored, never applied", ct);
            return;
        }

        var action = operation.KnownAction;
        if (action is OperationAction.Unknown or OperationAction.Subscribe)
        {
            // Subscribe is a notification only; actions we do not know (Transfer, …) are stored and shown, never acted
            // on (docs/marketplace.md#operation-object and docs/marketplace.md#webhook-actions).
            await FinishAloneAsync(delivery, ProcessingStates.Ignored, action == OperationAction.Subscribe
                ? "Subscribe: notification only, recorded"
                : $"action '{operation.Action}' is not one we act on; stored for operators", ct);
            return;
        }

        if (string.Equals(operation.RequestSource, "Partner", StringComparison.OrdinalIgnoreCase) || await operations.ExistsAsync(operation.Id, ct))
        {
            // Our own operation: the tracker applies it when it succeeds, and it is never acknowledged
            // (docs/marketplace.md#acknowledging-operations).
            await FinishAloneAsync(delivery, ProcessingStates.Ignored, "our own operation: followed by the operation tracker", ct);
            return;
        }

        if (operation.TimeStamp is { } timeStamp
            && await deliveries.FindEarlierPendingAsync(operation.SubscriptionId, timeStamp, delivery.Id, ct) is { } earlier)
        {
            // One subscription's deliveries apply in timeStamp order: this one waits for the older one.
            var wait = earlier.NextAttemptAt is { } due && due > time.GetUtcNow() ? due : time.GetUtcNow() + TimeSpan.FromMilliseconds(200);
            await deliveries.RescheduleAsync(delivery.Id, worker.Id, wait, $"waiting for older delivery {earlier.Id}", countAttempt: false, ct);
            return;
        }

        var correlation = Guid.NewGuid();
        MarketplaceOperation confirmed;
        try
        {
            confirmed = await marketplace.GetOperationAsync(operation.SubscriptionId, operation.Id, correlation, ct);
        }
        catch (MarketplaceException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            // A token can be stolen and a body forged: only what the marketplace confirms is acted on (docs/marketplace.md#confirming-deliveries).
            await FinishAloneAsync(delivery, ProcessingStates.Failed,
                $"not confirmed: the marketplace does not know operation {operation.Id} on this subscription ({(int)e.StatusCode})", ct);
            return;
        }

        if (confirmed.SubscriptionId != operation.SubscriptionId || confirmed.KnownAction != action)
        {
            await FinishAloneAsync(delivery, ProcessingStates.Failed,
                $"not confirmed: the marketplace has operation {operation.Id} as {confirmed.Action} on {confirmed.SubscriptionId}", ct);
            return;
        }

        var local = await subscriptions.FindAsync(operation.SubscriptionId, ct);
        MarketplaceSubscription? remote = null;
        if (local is null || action == OperationAction.Renew)
        {
            // Unknown here (the customer never opened the landing page, or we lost it): learn it first. A renewal
            // needs the new term, which only the subscription itself carries.
            try
            {
                remote = await marketplace.GetSubscriptionAsync(operation.SubscriptionId, correlation, ct);
            }
            catch (MarketplaceException e) when (e.StatusCode == HttpStatusCode.NotFound && local is null)
            {
                await FinishAloneAsync(delivery, ProcessingStates.Failed, "the marketplace does not show this subscription", ct);
                return;
            }
        }

        string state, detail;
        bool acknowledgement;
        using (WebhookTelemetry.Source.StartActivity("webhook apply change"))
        {
            (state, detail, acknowledgement) = await ApplyAsync(delivery, operation, confirmed, remote, ct);
        }

        Processed(state);
        Log.Processed(logger, delivery.Id, operation.Action, operation.Id, state, detail);
        if (acknowledgement)
        {
            signals.Acknowledgements.Notify();
        }
    }

    private async Task<(string State, string Detail, bool Acknowledgement)> ApplyAsync(
        WebhookDeliveryRecord delivery, MarketplaceOperation operation, MarketplaceOperation confirmed, MarketplaceSubscription? remote, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        if (!await deliveries.TryHoldAsync(delivery.Id, worker.Id, connection, tx, ct))
        {
            await tx.RollbackAsync(ct);
            return ("LeaseLost", "another instance took the delivery over", false);
        }

        if (remote is not null)
        {
            await subscriptions.RecordFromMarketplaceAsync(remote, connection, tx, ct);
        }

        var current = await subscriptions.FindAsync(operation.SubscriptionId, connection, tx, ct)
            ?? throw new InvalidOperationException($"Subscription {operation.SubscriptionId} vanished during processing.");

        // An operation still waiting for our answer cannot be stale: the marketplace holds other changes back while
        // it is pending. Anything else older than what we applied last would move the state backwards.
        var awaitsAnswer = confirmed.Status is OperationStatus.InProgress or OperationStatus.NotStarted;
        var outcome = !awaitsAnswer && operation.TimeStamp is { } ts && current.LastMarketplaceChangeAt is { } last && ts < last
            ? await RecordStaleAsync(current, operation, last, connection, tx, ct)
            : await ActAsync(delivery, operation, confirmed, current, remote, connection, tx, ct);

        if (!await deliveries.TryFinishAsync(delivery.Id, worker.Id, outcome.State, outcome.Detail, time.GetUtcNow(), connection, tx, ct))
        {
            await tx.RollbackAsync(ct);
            return ("LeaseLost", "another instance took the delivery over", false);
        }

        await tx.CommitAsync(ct);
        return outcome;
    }

    private async Task<(string State, string Detail, bool Acknowledgement)> RecordStaleAsync(
        SubscriptionRecord current, MarketplaceOperation operation, DateTimeOffset last, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var detail = $"stale: {operation.Action} of {operation.TimeStamp:O} is older than the last applied change ({last:O})";
        if (operation.KnownAction == OperationAction.Suspend && operation.TimeStamp is { } timeStamp)
        {
            // Deliveries are ordered only once they are in the inbox: a Suspend still being retried (its first attempt
            // met an instance that died) arrives after the Reinstate that ended it. The live row is right already,
            // but finance bills from history, so the suspended spell goes into it at its own time.
            var late = await subscriptions.RecordLateStatusChangeAsync(
                new LateStatusChange(current.Id, EventKinds.Suspended, SubscriptionStatus.Suspended, timeStamp, EventSources.Marketplace, MarketplaceActor)
                {
                    OperationId = operation.Id,
                    Detail = "access removed (arrived after a newer change: recorded at its marketplace time, current state unchanged)",
                },
                connection, tx, ct);
            if (late is not null)
            {
                return (ProcessingStates.Stale, $"{detail}; written into history at {late.OccurredAt:O}, current state unchanged", false);
            }
        }

        await subscriptions.AppendEventAsync(Milestone(current, operation, EventKinds.StaleDeliveryIgnored, detail), connection, tx, ct);
        return (ProcessingStates.Stale, detail, false);
    }

    private async Task<(string State, string Detail, bool Acknowledgement)> ActAsync(
        WebhookDeliveryRecord delivery,
        MarketplaceOperation operation,
        MarketplaceOperation confirmed,
        SubscriptionRecord current,
        MarketplaceSubscription? remote,
        DbConnection connection,
        DbTransaction tx,
        CancellationToken ct)
    {
        var action = operation.KnownAction;
        if (action is OperationAction.ChangePlan or OperationAction.ChangeQuantity or OperationAction.Reinstate
            && confirmed.Status is OperationStatus.Failed or OperationStatus.Conflict)
        {
            return (ProcessingStates.Ignored, $"the operation already ended as {confirmed.Status} in the marketplace; nothing changed", false);
        }

        var alreadyDone = confirmed.Status == OperationStatus.Succeeded;
        switch (action)
        {
            case OperationAction.ChangePlan:
            {
                var planId = confirmed.PlanId ?? operation.PlanId;
                if (string.IsNullOrWhiteSpace(planId))
                {
                    return (ProcessingStates.Failed, "the operation names no plan", false);
                }

                var quantity = confirmed.Quantity ?? operation.Quantity;
                var decision = alreadyDone
                    ? ChangeDecision.Accepted("already accepted by the marketplace")
                    : await DecideTracedAsync(() => decider.DecidePlanAsync(current, planId, quantity, connection, tx, ct));
                return await DecideAsync(delivery, operation, current, decision, alreadyDone,
                    // No quantity from the marketplace after a move means the new plan has no seats.
                    Change(operation, EventKinds.PlanChanged, decision.Reason) with { PlanId = planId, Quantity = quantity, ClearsSeats = quantity is null },
                    connection, tx, ct);
            }

            case OperationAction.ChangeQuantity:
            {
                if ((confirmed.Quantity ?? operation.Quantity) is not { } quantity)
                {
                    return (ProcessingStates.Failed, "the operation names no quantity", false);
                }

                var decision = alreadyDone
                    ? ChangeDecision.Accepted("already accepted by the marketplace")
                    : await DecideTracedAsync(() => decider.DecideQuantityAsync(current, quantity, connection, tx, ct));
                return await DecideAsync(delivery, operation, current, decision, alreadyDone,
                    Change(operation, EventKinds.QuantityChanged, decision.Reason) with { Quantity = quantity },
                    connection, tx, ct);
            }

            case OperationAction.Reinstate:
            {
                // A reinstatement we cannot honour is answered with a cancellation (docs/marketplace.md#webhook-actions): here, one for a
                // subscription that has already ended on our side.
                var decision = alreadyDone || current.Status != SubscriptionStatus.Unsubscribed
                    ? ChangeDecision.Accepted(alreadyDone ? "already reinstated by the marketplace" : "access restored")
                    : ChangeDecision.Refused("the subscription has ended on our side; answered with a cancellation");
                return await DecideAsync(delivery, operation, current, decision, alreadyDone,
                    Change(operation, EventKinds.Reinstated, decision.Reason) with { Status = SubscriptionStatus.Subscribed, AccessEnabled = true },
                    connection, tx, ct, refusal: AcknowledgementAnswers.Cancel);
            }

            case OperationAction.Renew:
                await ApplyOrThrowAsync(Change(operation, EventKinds.Renewed, "new term") with
                {
                    Term = remote?.Term ?? operation.Subscription?.Term,
                }, connection, tx, ct);
                return (ProcessingStates.Applied, "renewed: new term recorded", false);

            case OperationAction.Suspend:
                // A payment problem: the customer loses access until reinstated (docs/marketplace.md#webhook-actions
                // and docs/marketplace.md#life-cycle).
                await ApplyOrThrowAsync(Change(operation, EventKinds.Suspended, "access removed") with
                {
                    Status = SubscriptionStatus.Suspended,
                    AccessEnabled = false,
                }, connection, tx, ct);
                return (ProcessingStates.Applied, "suspended: access removed", false);

            case OperationAction.Unsubscribe:
                // Access ends at once; the customer's data stays (at least 7 days, docs/marketplace.md#webhook-actions) — nothing is deleted here.
                await ApplyOrThrowAsync(Change(operation, EventKinds.Unsubscribed, "access ended") with
                {
                    Status = SubscriptionStatus.Unsubscribed,
                    AccessEnabled = false,
                }, connection, tx, ct);
                return (ProcessingStates.Applied, "unsubscribed: access ended", false);

            default:
                return (ProcessingStates.Ignored, $"action '{operation.Action}' is not acted on", false);
        }
    }

    /// <summary>
    /// Records the decision on a change that awaits our answer and queues the answer in the same transaction, so a
    /// decision can never exist without its acknowledgement, nor be made twice.
    /// </summary>
    private async Task<(string State, string Detail, bool Acknowledgement)> DecideAsync(
        WebhookDeliveryRecord delivery,
        MarketplaceOperation operation,
        SubscriptionRecord current,
        ChangeDecision decision,
        bool alreadyDone,
        SubscriptionChange change,
        DbConnection connection,
        DbTransaction tx,
        CancellationToken ct,
        string refusal = AcknowledgementAnswers.Failure)
    {
        if (decision.Accept)
        {
            await ApplyOrThrowAsync(change, connection, tx, ct);
        }
        else
        {
            await subscriptions.AppendEventAsync(
                Milestone(current, operation, EventKinds.ChangeRefused, $"{operation.Action} refused: {decision.Reason}"), connection, tx, ct);
        }

        if (alreadyDone)
        {
            return (ProcessingStates.Applied, decision.Reason, false);
        }

        var now = time.GetUtcNow();
        await acknowledgements.QueueAsync(new AcknowledgementRecord
        {
            SubscriptionId = operation.SubscriptionId,
            OperationId = operation.Id,
            Action = operation.Action,
            Answer = decision.Accept ? AcknowledgementAnswers.Success : refusal,
            Reason = decision.Reason,
            CreatedAt = now,
            // The marketplace accepts a change by itself 10 s after delivering it
            // (docs/marketplace.md#answering-deliveries): a refusal after that is too late.
            DueBy = delivery.ReceivedAt + WebhooksOptions.AcknowledgementDeadline,
            State = AcknowledgementStates.Pending,
            NextAttemptAt = now,
            TraceParent = CurrentTraceParent(),
        }, connection, tx, ct);
        return (ProcessingStates.Applied, decision.Accept ? decision.Reason : "refused: " + decision.Reason, true);
    }

    /// <summary>The change decision as a span of its own: the part of the 10 s that is our rules, not the marketplace.</summary>
    private static async Task<ChangeDecision> DecideTracedAsync(Func<Task<ChangeDecision>> decide)
    {
        using var activity = WebhookTelemetry.Source.StartActivity("webhook change decision");
        var decision = await decide();
        activity?.SetTag("portal.decision", decision.Accept ? "accept" : "refuse");
        return decision;
    }

    private static void Processed(string state) =>
        WebhookTelemetry.Processed.Add(1, new KeyValuePair<string, object?>("state", state));

    private async Task ApplyOrThrowAsync(SubscriptionChange change, DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        var result = await subscriptions.ApplyChangeAsync(change, connection, tx, ct);
        if (result.Outcome != ChangeOutcome.Applied)
        {
            // Someone changed the row between our read and write: roll back and try the delivery again.
            throw new InvalidOperationException($"Subscription {change.SubscriptionId} could not be changed: {result.Outcome}.");
        }
    }

    private static SubscriptionChange Change(MarketplaceOperation operation, string kind, string detail) =>
        new(operation.SubscriptionId, kind, EventSources.Marketplace, MarketplaceActor)
        {
            OperationId = operation.Id,
            MarketplaceTimeStamp = operation.TimeStamp,
            Detail = detail,
        };

    private SubscriptionEvent Milestone(SubscriptionRecord current, MarketplaceOperation operation, string kind, string detail) =>
        SubscriptionEvent.Milestone(current, kind, time.GetUtcNow(), EventSources.Marketplace, MarketplaceActor, detail) with { OperationId = operation.Id };

    private async Task FinishAloneAsync(WebhookDeliveryRecord delivery, string state, string detail, CancellationToken ct)
    {
        await deliveries.TryFinishAsync(delivery.Id, worker.Id, state, detail, time.GetUtcNow(), ct);
        Processed(state);
        Log.Processed(logger, delivery.Id, delivery.Action ?? "?", delivery.OperationId ?? Guid.Empty, state, detail);
    }

    private async Task RetryLaterAsync(WebhookDeliveryRecord delivery, string error, CancellationToken ct)
    {
        var attempt = delivery.Attempts + 1;
        if (attempt >= Settings.MaxAttempts)
        {
            await FinishAloneAsync(delivery, ProcessingStates.Failed, $"gave up after {attempt} attempts: {error}", ct);
            return;
        }

        var next = time.GetUtcNow() + Backoff.For(attempt, Settings.RetryBaseDelay, Settings.MaxRetryDelay);
        await deliveries.RescheduleAsync(delivery.Id, worker.Id, next, $"attempt {attempt} failed: {error}", countAttempt: true, ct);
        Processed("Retry");
        Log.WillRetry(logger, delivery.Id, attempt, next, error);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} ({Action} {OperationId}): {State} — {Detail}")]
        public static partial void Processed(ILogger logger, long deliveryId, string action, Guid operationId, string state, string detail);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} attempt {Attempt} failed, next at {NextAttemptAt}: {Error}")]
        public static partial void WillRetry(ILogger logger, long deliveryId, int attempt, DateTimeOffset nextAttemptAt, string error);

        [LoggerMessage(Level = LogLevel.Error, Message = "Webhook processing round failed")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
