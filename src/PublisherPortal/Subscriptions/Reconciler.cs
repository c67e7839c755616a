using System.Net;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Subscriptions;

/// <summary>What one reconciliation found.</summary>
public sealed record ReconciliationSummary(int Checked, int Corrected, int Added, int Skipped, int Failed)
{
    public static ReconciliationSummary Empty { get; } = new(0, 0, 0, 0, 0);

    public ReconciliationSummary Plus(SyncOutcome outcome) => outcome switch
    {
        SyncOutcome.Added => this with { Checked = Checked + 1, Added = Added + 1 },
        SyncOutcome.Corrected => this with { Checked = Checked + 1, Corrected = Corrected + 1 },
        SyncOutcome.Skipped => this with { Checked = Checked + 1, Skipped = Skipped + 1 },
        SyncOutcome.Failed => this with { Checked = Checked + 1, Failed = Failed + 1 },
        _ => this with { Checked = Checked + 1 },
    };
}

/// <summary>What "sync now" did to one subscription.</summary>
public enum SyncOutcome
{
    /// <summary>Ours matched the marketplace.</summary>
    InSync,

    /// <summary>Status, plan or seats differed; corrected, with a history event from "reconciliation".</summary>
    Corrected,

    /// <summary>We did not know it; recorded.</summary>
    Added,

    /// <summary>A change is in flight (our operation, or a delivery not yet applied): left to that path, checked next time.</summary>
    Skipped,

    /// <summary>The marketplace does not show it (sync now), or recording it failed.</summary>
    Failed,
}

public static class ReconciliationTriggers
{
    public const string Schedule = "schedule";
    public const string Operator = "operator";
    public const string Subscription = "subscription";
}

/// <summary>
/// Compares every subscription the marketplace lists (all pages) with ours and corrects what differs, each correction a
/// history event with source "reconciliation". The database is the truth of what we did, the marketplace of what the
/// customer bought (docs/architecture.md#principles): drift — a lost webhook, a timed-out operation — is healed here and made visible.
/// </summary>
public sealed partial class Reconciler(
    IFulfillmentClient marketplace,
    SubscriptionStore subscriptions,
    OperationStore operations,
    WebhookDeliveryStore deliveries,
    ReconciliationRunStore runs,
    PortalDatabase database,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    public const string Actor = "reconciler";

    /// <summary>Reconciles every subscription and stores the run's summary.</summary>
    public async Task<ReconciliationSummary> RunAsync(string trigger = ReconciliationTriggers.Operator, CancellationToken ct = default)
    {
        var startedAt = time.GetUtcNow();
        var summary = ReconciliationSummary.Empty;
        var correlation = Guid.NewGuid();
        string outcome = "Completed";
        string? detail = null;
        try
        {
            await foreach (var remote in marketplace.ListSubscriptionsAsync(correlation, ct))
            {
                summary = summary.Plus(await ReconcileOneAsync(remote, ct));
            }
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // A listing that breaks off half-way still corrected what it saw; the summary says how far it got.
            outcome = "Failed";
            detail = e is MarketplaceException m ? $"{(int)m.StatusCode} {m.ErrorMessage} (request {m.RequestId})" : $"{e.GetType().Name}: {e.Message}";
            Log.RunFailed(logger, e);
        }

        await runs.RecordAsync(new ReconciliationRun
        {
            StartedAt = startedAt,
            FinishedAt = time.GetUtcNow(),
            Trigger = trigger,
            Checked = summary.Checked,
            Corrected = summary.Corrected,
            Added = summary.Added,
            Skipped = summary.Skipped,
            Failed = summary.Failed,
            Outcome = outcome,
            Detail = detail,
        }, ct);
        Log.RunFinished(logger, trigger, summary.Checked, summary.Corrected, summary.Added, summary.Skipped, summary.Failed, outcome);
        return summary;
    }

    /// <summary>"Sync now" for one subscription.</summary>
    public async Task<SyncOutcome> SyncSubscriptionAsync(Guid subscriptionId, CancellationToken ct = default)
    {
        MarketplaceSubscription remote;
        try
        {
            remote = await marketplace.GetSubscriptionAsync(subscriptionId, Guid.NewGuid(), ct);
        }
        catch (MarketplaceException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return SyncOutcome.Failed;
        }

        return await ReconcileOneAsync(remote, ct);
    }

    public Task<ReconciliationRun?> LastRunAsync(CancellationToken ct = default) => runs.LastAsync(ct);

    private async Task<SyncOutcome> ReconcileOneAsync(MarketplaceSubscription remote, CancellationToken ct)
    {
        try
        {
            await using var connection = await database.OpenAsync(ct);
            await using var tx = await database.BeginWriteAsync(connection, ct);
            var outcome = await ReconcileInAsync(remote, connection, tx, ct);
            await tx.CommitAsync(ct);
            return outcome;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            Log.SubscriptionFailed(logger, remote.Id, e);
            return SyncOutcome.Failed;
        }
    }

    private async Task<SyncOutcome> ReconcileInAsync(
        MarketplaceSubscription remote, System.Data.Common.DbConnection connection, System.Data.Common.DbTransaction tx, CancellationToken ct)
    {
        var before = await subscriptions.FindAsync(remote.Id, connection, tx, ct);
        if (before is null)
        {
            await subscriptions.RecordFromMarketplaceAsync(remote, connection, tx, ct);
            var added = await subscriptions.FindAsync(remote.Id, connection, tx, ct);
            await subscriptions.AppendEventAsync(new SubscriptionEvent
            {
                SubscriptionId = remote.Id,
                OfferId = remote.OfferId,
                OccurredAt = time.GetUtcNow(),
                Kind = EventKinds.StatusCorrected,
                ToStatus = remote.SaasSubscriptionStatus.ToString(),
                ToPlan = remote.PlanId,
                ToQuantity = remote.Quantity,
                Source = EventSources.Reconciliation,
                Actor = Actor,
                Detail = "found in the marketplace; unknown here until now",
            }, connection, tx, ct);
            return added is null ? SyncOutcome.Failed : SyncOutcome.Added;
        }

        // A change in flight will land by its own path (tracker or processor); correcting now would record it twice.
        if (await operations.HasPendingForAsync(remote.Id, connection, tx, ct) || await deliveries.HasPendingForAsync(remote.Id, connection, tx, ct))
        {
            return SyncOutcome.Skipped;
        }

        await subscriptions.RecordFromMarketplaceAsync(remote, connection, tx, ct);
        var statusDiffers = before.Status != remote.SaasSubscriptionStatus && remote.SaasSubscriptionStatus != SubscriptionStatus.Unknown;
        var planDiffers = !string.Equals(before.PlanId, remote.PlanId, StringComparison.Ordinal) && remote.PlanId.Length > 0;
        // Seats are compared only where the plan is priced per seat (the catalogue says; without it, the marketplace
        // sends a quantity for per-seat plans only). On a flat-rate plan any seat count of ours is drift.
        var planNow = planDiffers ? remote.PlanId : before.PlanId;
        var flatRate = await SubscriptionStore.IsFlatRateAsync(before.OfferId, planNow, connection, tx, ct) ?? remote.Quantity is null;
        var quantityDiffers = flatRate ? before.Quantity is not null : remote.Quantity is not null && before.Quantity != remote.Quantity;
        if (!statusDiffers && !planDiffers && !quantityDiffers)
        {
            return SyncOutcome.InSync;
        }

        var kind = statusDiffers || (planDiffers && quantityDiffers) ? EventKinds.StatusCorrected
            : planDiffers ? EventKinds.PlanChanged
            : EventKinds.QuantityChanged;
        var change = new SubscriptionChange(remote.Id, kind, EventSources.Reconciliation, Actor)
        {
            Status = statusDiffers ? remote.SaasSubscriptionStatus : null,
            PlanId = planDiffers ? remote.PlanId : null,
            Quantity = quantityDiffers && !flatRate ? remote.Quantity : null,
            ClearsSeats = flatRate && quantityDiffers,
            AccessEnabled = statusDiffers ? AccessFor(remote.SaasSubscriptionStatus, before.AccessEnabled) : null,
            Detail = "the marketplace differed: " + string.Join(", ", new[]
            {
                statusDiffers ? $"status {before.Status} -> {remote.SaasSubscriptionStatus}" : null,
                planDiffers ? $"plan {before.PlanId} -> {remote.PlanId}" : null,
                quantityDiffers ? $"seats {before.Quantity} -> {(flatRate ? "none (flat-rate plan)" : remote.Quantity)}" : null,
            }.OfType<string>()),
        };
        var result = await subscriptions.ApplyChangeAsync(change, connection, tx, ct);
        return result.Outcome == ChangeOutcome.Applied ? SyncOutcome.Corrected : SyncOutcome.Failed;
    }

    /// <summary>Access follows the status: on for Subscribed, off for Suspended and Unsubscribed, unchanged otherwise.</summary>
    private static bool AccessFor(SubscriptionStatus status, bool current) => status switch
    {
        SubscriptionStatus.Subscribed => true,
        SubscriptionStatus.Suspended or SubscriptionStatus.Unsubscribed => false,
        _ => current,
    };

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Reconciliation ({Trigger}): {Checked} checked, {Corrected} corrected, {Added} added, {Skipped} skipped, {Failed} failed — {Outcome}")]
        public static partial void RunFinished(ILogger logger, string trigger, int @checked, int corrected, int added, int skipped, int failed, string outcome);

        [LoggerMessage(Level = LogLevel.Error, Message = "Reconciliation run broke off")]
        public static partial void RunFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling subscription {SubscriptionId} failed")]
        public static partial void SubscriptionFailed(ILogger logger, Guid subscriptionId, Exception exception);
    }
}

/// <summary>
/// Runs the reconciler on its schedule, on one instance at a time: the job lease is held for most of an interval, so
/// the instance that ran it keeps it and the others skip, until it dies and its lease runs out.
/// </summary>
public sealed partial class ReconciliationWorker(
    Reconciler reconciler,
    JobLeaseStore leases,
    WorkerIdentity worker,
    IOptions<WebhooksOptions> options,
    TimeProvider time,
    ILogger<ReconciliationWorker> logger) : BackgroundService
{
    public const string JobName = "reconciliation";

    /// <summary>A round's lease lasts a little less than the interval, so the next round (here or anywhere) can take it.</summary>
    private const double LeaseShareOfInterval = 0.9;

    public static DateTimeOffset LeaseUntil(DateTimeOffset roundStart, TimeSpan interval) => roundStart + (interval * LeaseShareOfInterval);

    /// <summary>When the round holding a lease until <paramref name="leaseUntil"/> began: what the health check judges by.</summary>
    public static DateTimeOffset RoundStartedAt(DateTimeOffset leaseUntil, TimeSpan interval) => leaseUntil - (interval * LeaseShareOfInterval);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.RunReconciler)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.ReconcileInterval, time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                if (await leases.TryAcquireAsync(JobName, worker.Id, now, LeaseUntil(now, settings.ReconcileInterval), stoppingToken))
                {
                    await reconciler.RunAsync(ReconciliationTriggers.Schedule, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.Failed(logger, e);
            }
        }
        while (await ScheduledRounds.NextTickAsync(timer, stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled reconciliation failed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
