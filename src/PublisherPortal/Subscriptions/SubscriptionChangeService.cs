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

    /// <summary>We did not send it: the subscription's state or its allowed operations forbid it.</summary>
    public sealed record NotAllowed(string Reason) : ChangeRequestResult;

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
    AuditLog audit,
    TimeProvider time,
    ILogger<SubscriptionChangeService> logger)
{
    /// <summary>First poll a little after the request; the tracker backs off from there.</summary>
    public static readonly TimeSpan FirstPollDelay = TimeSpan.FromSeconds(2);

    public Task<ChangeRequestResult> RequestPlanChangeAsync(Guid subscriptionId, string planId, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "ChangePlan", planId, null, actor, source,
            (s, correlation) => s.PlanId == planId ? "The subscription is already on this plan." : null,
            correlation => marketplace.ChangePlanAsync(subscriptionId, planId, correlation, ct), ct);

    public Task<ChangeRequestResult> RequestQuantityChangeAsync(Guid subscriptionId, int quantity, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "ChangeQuantity", null, quantity, actor, source,
            (s, correlation) => quantity < 1 ? "Seats must be at least 1." : s.Quantity == quantity ? "The subscription already has this many seats." : null,
            correlation => marketplace.ChangeQuantityAsync(subscriptionId, quantity, correlation, ct), ct);

    public Task<ChangeRequestResult> RequestCancellationAsync(Guid subscriptionId, CurrentUser actor, string source, CancellationToken ct = default) =>
        RequestAsync(subscriptionId, "Unsubscribe", null, null, actor, source,
            (s, correlation) => null,
            correlation => marketplace.DeleteSubscriptionAsync(subscriptionId, correlation, ct), ct);

    private async Task<ChangeRequestResult> RequestAsync(
        Guid subscriptionId,
        string action,
        string? planId,
        int? quantity,
        CurrentUser actor,
        string source,
        Func<SubscriptionRecord, Guid, string?> precheck,
        Func<Guid, Task<OperationAccepted>> send,
        CancellationToken ct)
    {
        var detail = planId is not null ? $"plan {planId}" : quantity is not null ? $"{quantity} seats" : "cancel";
        var result = await DecideAndSendAsync(subscriptionId, action, planId, quantity, actor, source, precheck, send, ct);
        await audit.RecordAsync(actor.Actor, action, subscriptionId, detail, result.GetType().Name, ct);
        return result;
    }

    private async Task<ChangeRequestResult> DecideAndSendAsync(
        Guid subscriptionId,
        string action,
        string? planId,
        int? quantity,
        CurrentUser actor,
        string source,
        Func<SubscriptionRecord, Guid, string?> precheck,
        Func<Guid, Task<OperationAccepted>> send,
        CancellationToken ct)
    {
        var subscription = await subscriptions.FindAsync(subscriptionId, ct);
        if (subscription is null)
        {
            return new ChangeRequestResult.NotAllowed("We do not know this subscription.");
        }

        var isCancel = action == "Unsubscribe";
        if (subscription.Status == SubscriptionStatus.Unsubscribed)
        {
            return new ChangeRequestResult.NotAllowed("The subscription has ended.");
        }

        // docs/marketplace.md#life-cycle: plan and seat changes apply only to Subscribed.
        if (!isCancel && subscription.Status != SubscriptionStatus.Subscribed)
        {
            return new ChangeRequestResult.NotAllowed($"Changes need an active subscription; this one is {subscription.Status}.");
        }

        var customerOperation = isCancel ? "Delete" : "Update";
        if (source == EventSources.Customer && !subscription.Allows(customerOperation))
        {
            return new ChangeRequestResult.NotAllowed(subscription.IsResellerPurchase
                ? "This subscription was bought through a reseller; ask them to change it."
                : "The marketplace does not allow this change for this subscription.");
        }

        var correlation = Guid.NewGuid();
        if (precheck(subscription, correlation) is { } refusal)
        {
            return new ChangeRequestResult.NotAllowed(refusal);
        }

        if (await operations.FindPendingForAsync(subscriptionId, ct) is { } pending)
        {
            return new ChangeRequestResult.AlreadyPending(pending);
        }

        OperationAccepted accepted;
        try
        {
            accepted = await send(correlation);
        }
        catch (MarketplaceException e) when (e.IsPendingOperation)
        {
            return new ChangeRequestResult.AlreadyPending(await operations.FindPendingForAsync(subscriptionId, ct));
        }
        catch (MarketplaceException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode != HttpStatusCode.TooManyRequests)
        {
            return new ChangeRequestResult.Refused(e.ErrorMessage, e.RequestId);
        }
        catch (Exception e) when (e is MarketplaceException or HttpRequestException or TimeoutException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Log.MarketplaceUnavailable(logger, action, subscriptionId, e.Message);
            return new ChangeRequestResult.Unavailable("The marketplace did not answer. Nothing changed; try again in a minute.");
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

        await tx.CommitAsync(ct);
        return new ChangeRequestResult.Started(operation);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Marketplace unavailable for {Action} on {SubscriptionId}: {Reason}")]
        public static partial void MarketplaceUnavailable(ILogger logger, string action, Guid subscriptionId, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Operation {OperationId} on {SubscriptionId} accepted while another pending row exists")]
        public static partial void PendingRowInTheWay(ILogger logger, Guid subscriptionId, Guid operationId);
    }
}
