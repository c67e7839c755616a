using System.Net;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Subscriptions;

/// <summary>
/// Follows the operations we started (plan and seat changes, cancellations) from their Operation-Location until the
/// marketplace ends them (docs/marketplace.md#polling-operations: poll until Succeeded, Failed or Conflict; "it can take minutes"). The
/// subscription changes only when the marketplace says the operation succeeded. Operations are leased, so several
/// instances share the polling and a change is applied once.
/// </summary>
public sealed partial class OperationTracker(
    OperationStore operations,
    SubscriptionStore subscriptions,
    IFulfillmentClient marketplace,
    PortalDatabase database,
    WorkSignals signals,
    WorkerIdentity worker,
    IOptions<WebhooksOptions> options,
    TimeProvider time,
    ILogger<OperationTracker> logger) : BackgroundService
{
    private WebhooksOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Settings.RunOperationTracker)
        {
            return;
        }

        await signals.Operations.RunRoundsAsync(PollDueAsync, e => Log.RoundFailed(logger, e), Settings.PollInterval, time, stoppingToken);
    }

    /// <summary>One round: polls every operation whose next poll is due. Returns how many were claimed.</summary>
    public async Task<int> PollDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var claimed = await operations.ClaimDueAsync(worker.Id, now, now + Settings.LeaseDuration, Settings.BatchSize, ct: ct);
        await Task.WhenAll(claimed.Select(operation => PollOneAsync(operation, ct)));
        return claimed.Count;
    }

    /// <summary>
    /// An operator's "check now": polls the operation at once (unless another instance holds it this moment) and
    /// returns it as it stands afterwards.
    /// </summary>
    public async Task<OperationRecord?> CheckNowAsync(Guid operationId, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        if (await operations.MakeDueAsync(operationId, now, ct))
        {
            var claimed = await operations.ClaimDueAsync(worker.Id, now, now + Settings.LeaseDuration, 1, operationId, ct);
            foreach (var operation in claimed)
            {
                await PollOneAsync(operation, ct);
            }
        }

        return await operations.FindAsync(operationId, ct);
    }

    private async Task PollOneAsync(OperationRecord operation, CancellationToken ct)
    {
        using var scope = PublisherPortal.Observability.SubscriptionLogScope.Begin(logger, operation.SubscriptionId);
        var now = time.GetUtcNow();
        MarketplaceOperation remote;
        try
        {
            remote = await marketplace.GetOperationAsync(operation.SubscriptionId, operation.Id, operation.CorrelationId, ct);
        }
        catch (MarketplaceException e) when (e.StatusCode is HttpStatusCode.NotFound)
        {
            await CompleteAsync(operation, OperationStates.Failed, "the marketplace does not know this operation (404)", null, ct);
            return;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await PollLaterOrTimeOutAsync(operation, now, $"poll failed: {e.GetType().Name}: {e.Message}", ct);
            return;
        }

        switch (remote.Status)
        {
            case OperationStatus.Succeeded:
                await CompleteAsync(operation, OperationStates.Succeeded, null, remote, ct);
                break;
            case OperationStatus.Failed:
                await CompleteAsync(operation, OperationStates.Failed,
                    remote.ErrorMessage is { Length: > 0 } m ? m : $"the marketplace failed the operation ({remote.ErrorStatusCode ?? "no code"})", null, ct);
                break;
            case OperationStatus.Conflict:
                // Conflict: the requested plan or quantity equals the current one (docs/marketplace.md#polling-operations) — nothing to change.
                await CompleteAsync(operation, OperationStates.Conflict, "the marketplace reports a conflict: nothing to change", null, ct);
                break;
            default:
                await PollLaterOrTimeOutAsync(operation, now, null, ct);
                break;
        }
    }

    private async Task PollLaterOrTimeOutAsync(OperationRecord operation, DateTimeOffset now, string? note, CancellationToken ct)
    {
        if (now - operation.RequestedAt >= Settings.OperationTimeout)
        {
            await CompleteAsync(operation, OperationStates.TimedOut,
                $"still not finished after {Settings.OperationTimeout}; the reconciler will pick up whatever the marketplace did" + (note is null ? "" : $" ({note})"),
                null, ct);
            return;
        }

        var next = now + Backoff.For(operation.PollCount + 1, Settings.OperationPollInterval, Settings.MaxOperationPollInterval);
        await operations.RescheduleAsync(operation.Id, worker.Id, next, note, ct);
    }

    /// <summary>Ends the operation and — when it succeeded — applies the change, in one transaction, so it is applied once.</summary>
    private async Task CompleteAsync(OperationRecord operation, string status, string? error, MarketplaceOperation? succeeded, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        if (!await operations.TryCompleteAsync(operation.Id, worker.Id, status, error, now, connection, tx, ct))
        {
            await tx.RollbackAsync(ct);
            return;
        }

        if (succeeded is not null && ChangeFor(operation, succeeded) is { } change)
        {
            var result = await subscriptions.ApplyChangeAsync(change, connection, tx, ct);
            if (result.Outcome == ChangeOutcome.VersionConflict)
            {
                // Another writer got there between our read and write; the lease stays ours until it runs out,
                // and the next round tries again.
                await tx.RollbackAsync(ct);
                await operations.RescheduleAsync(operation.Id, worker.Id, now, "subscription changed meanwhile; applying again", ct);
                return;
            }
        }

        await tx.CommitAsync(ct);
        Log.Completed(logger, operation.Action, operation.Id, operation.SubscriptionId, status, error);
    }

    private static SubscriptionChange? ChangeFor(OperationRecord operation, MarketplaceOperation remote)
    {
        var change = new SubscriptionChange(operation.SubscriptionId, "", operation.Source, operation.RequestedBy) { OperationId = operation.Id };
        return operation.Action switch
        {
            nameof(OperationAction.ChangePlan) => change with
            {
                Kind = EventKinds.PlanChanged,
                PlanId = operation.RequestedPlanId ?? remote.PlanId,
                // The seats the marketplace kept (clamped into a per-seat plan's bounds), or none on a flat-rate plan.
                Quantity = remote.Quantity,
                ClearsSeats = remote.Quantity is null,
                Detail = "plan change confirmed by the marketplace",
            },
            nameof(OperationAction.ChangeQuantity) => change with
            {
                Kind = EventKinds.QuantityChanged,
                Quantity = operation.RequestedQuantity ?? remote.Quantity,
                Detail = "seat change confirmed by the marketplace",
            },
            nameof(OperationAction.Unsubscribe) => change with
            {
                Kind = EventKinds.Unsubscribed,
                Status = SubscriptionStatus.Unsubscribed,
                AccessEnabled = false,
                Detail = "cancellation confirmed by the marketplace",
            },
            _ => null,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Operation {Action} {OperationId} on {SubscriptionId} ended: {Status} {Error}")]
        public static partial void Completed(ILogger logger, string action, Guid operationId, Guid subscriptionId, string status, string? error);

        [LoggerMessage(Level = LogLevel.Error, Message = "Operation tracking round failed")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
