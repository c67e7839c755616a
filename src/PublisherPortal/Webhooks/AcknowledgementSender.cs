using System.Net;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Notifications;
using PublisherPortal.Observability;
using static PublisherPortal.Observability.PortalTelemetry;

namespace PublisherPortal.Webhooks;

/// <summary>What came of an operator's "retry" on an acknowledgement.</summary>
public enum AcknowledgementRetryResult
{
    Queued,
    NotFound,
    AlreadySent,
}

/// <summary>
/// Sends what we owe the marketplace (PATCH Success/Failure on its operation, or DELETE for a refused reinstatement)
/// until it is accepted. Retries back off exponentially and survive restarts (state in the acknowledgements table);
/// an answer meaning "already done" counts as done; one that can never succeed is marked Failed for operators.
/// </summary>
public sealed partial class AcknowledgementSender(
    AcknowledgementStore acknowledgements,
    OperationStore operations,
    IFulfillmentClient marketplace,
    PortalDatabase database,
    WorkSignals signals,
    WorkerIdentity worker,
    IOptions<WebhooksOptions> options,
    TimeProvider time,
    ILogger<AcknowledgementSender> logger,
    NotificationPlanner? notifications = null) : BackgroundService
{
    /// <summary>Who the tracker shows as having asked for a cancellation sent in answer to a reinstatement.</summary>
    public const string SystemActor = "system:reinstatement-refused";

    private WebhooksOptions Settings => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Settings.RunAcknowledgementSender)
        {
            return;
        }

        await signals.Acknowledgements.RunRoundsAsync(SendDueAsync, e => Log.RoundFailed(logger, e), Settings.PollInterval, time, stoppingToken);
    }

    /// <summary>An operator's "retry now" for a Failed (or waiting) acknowledgement.</summary>
    public async Task<AcknowledgementRetryResult> RetryAsync(long id, CancellationToken ct = default)
    {
        var existing = await acknowledgements.FindAsync(id, ct);
        if (existing is null)
        {
            return AcknowledgementRetryResult.NotFound;
        }

        if (!await acknowledgements.MakeDueAgainAsync(id, time.GetUtcNow(), ct))
        {
            return AcknowledgementRetryResult.AlreadySent;
        }

        signals.Acknowledgements.Notify();
        return AcknowledgementRetryResult.Queued;
    }

    /// <summary>One round: claims the due acknowledgements, the most urgent first, and sends each. Returns how many were claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var claimed = await acknowledgements.ClaimDueAsync(worker.Id, now, now + Settings.LeaseDuration, Settings.BatchSize, ct);
        await Task.WhenAll(claimed.Select(ack => SendOneAsync(ack, ct)));
        return claimed.Count;
    }

    private async Task SendOneAsync(AcknowledgementRecord ack, CancellationToken ct)
    {
        // The PATCH continues the trace of the delivery it answers.
        using var activity = WebhookTelemetry.Source.StartFromStored("webhook acknowledge", ack.TraceParent);
        activity?.SetTag("marketplace.subscription_id", ack.SubscriptionId);
        activity?.SetTag("marketplace.operation_id", ack.OperationId);
        activity?.SetTag("portal.acknowledgement.answer", ack.Answer);
        using var scope = SubscriptionLogScope.Begin(logger, ack.SubscriptionId);
        var correlation = Guid.NewGuid();
        try
        {
            string note;
            if (ack.Answer == AcknowledgementAnswers.Cancel)
            {
                var accepted = await marketplace.DeleteSubscriptionAsync(ack.SubscriptionId, correlation, ct);
                await RecordCancellationAsync(ack, accepted, correlation, ct);
                note = $"cancellation requested (operation {accepted.OperationId})";
            }
            else
            {
                var update = ack.Answer == AcknowledgementAnswers.Success ? OperationStatusUpdate.Success : OperationStatusUpdate.Failure;
                await marketplace.UpdateOperationStatusAsync(ack.SubscriptionId, ack.OperationId, update, correlation, ct);
                note = $"{ack.Answer} accepted";
            }

            await FinishAsync(ack, AcknowledgementStates.Sent, note, ct);
        }
        catch (MarketplaceException e) when (CountsAsDone(ack, e) is { } why)
        {
            await FinishAsync(ack, AcknowledgementStates.Sent, why, ct);
        }
        catch (MarketplaceException e) when (CanNeverSucceed(e))
        {
            await FinishAsync(ack, AcknowledgementStates.Failed, $"refused for good: {(int)e.StatusCode} {e.ErrorMessage} (request {e.RequestId})", ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await RetryLaterAsync(ack, e is MarketplaceException m ? $"{(int)m.StatusCode} {m.ErrorMessage}" : $"{e.GetType().Name}: {e.Message}", ct);
        }
    }

    /// <summary>Answers that mean the marketplace already has what we wanted to tell it.</summary>
    private static string? CountsAsDone(AcknowledgementRecord ack, MarketplaceException e)
    {
        if (ack.Answer == AcknowledgementAnswers.Cancel)
        {
            // The subscription is gone already (404 for unknown or Unsubscribed, docs/marketplace.md#cancel): the cancellation's aim is met.
            return e.StatusCode == HttpStatusCode.NotFound ? "subscription already ended (404)" : null;
        }

        if (e.StatusCode == HttpStatusCode.Conflict)
        {
            return "already done: a newer update was fulfilled (409)";
        }

        // The webhook page says nothing more is owed for a reinstatement; we send Success anyway, and any 4xx means
        // the marketplace does not want it — done (docs/marketplace.md#where-the-docs-disagree).
        return string.Equals(ack.Action, nameof(OperationAction.Reinstate), StringComparison.OrdinalIgnoreCase)
            && (int)e.StatusCode is >= 400 and < 500 && e.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout)
            ? $"reinstatement acknowledgement answered {(int)e.StatusCode}: counts as done"
            : null;
    }

    /// <summary>
    /// 400 and 404 will not change however often we ask. 403 is left to retry (a credential being rotated is fixed by
    /// an operator, and the row should then go through by itself); 408 and 429 are transient.
    /// </summary>
    private static bool CanNeverSucceed(MarketplaceException e) =>
        e.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.Gone or HttpStatusCode.MethodNotAllowed
        && !e.IsPendingOperation;

    /// <summary>The DELETE started an operation of ours: the tracker follows it until the subscription is Unsubscribed.</summary>
    private async Task RecordCancellationAsync(AcknowledgementRecord ack, OperationAccepted accepted, Guid correlation, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        await operations.TryRecordStartedAsync(new OperationRecord
        {
            Id = accepted.OperationId,
            SubscriptionId = ack.SubscriptionId,
            Action = nameof(OperationAction.Unsubscribe),
            Status = OperationStates.InProgress,
            Source = EventSources.System,
            RequestedBy = SystemActor,
            RequestedAt = now,
            Location = accepted.Location.ToString(),
            CorrelationId = correlation,
            NextPollAt = now + Settings.OperationPollInterval,
        }, connection, tx, ct);
        await tx.CommitAsync(ct);
        signals.Operations.Notify();
    }

    private async Task FinishAsync(AcknowledgementRecord ack, string state, string note, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (state == AcknowledgementStates.Failed && notifications is not null)
        {
            // Operators are mailed in the transaction that marks it Failed: both happen, or neither.
            await using var connection = await database.OpenAsync(ct);
            await using var tx = await database.BeginWriteAsync(connection, ct);
            if (await acknowledgements.TryFinishAsync(ack.Id, worker.Id, state, note, now, connection, tx, ct))
            {
                await notifications.AcknowledgementFailedAsync(ack, note, connection, tx, ct);
            }

            await tx.CommitAsync(ct);
        }
        else
        {
            await acknowledgements.TryFinishAsync(ack.Id, worker.Id, state, note, now, ct);
        }

        if (state == AcknowledgementStates.Sent)
        {
            RecordLatency(ack, now);
            Log.Sent(logger, ack.Answer, ack.OperationId, note, now > ack.DueBy);
        }
        else
        {
            Log.Failed(logger, ack.Answer, ack.OperationId, note);
        }
    }

    /// <summary>From the delivery's arrival (due_by is arrival + the 10 s window) to the marketplace taking our answer.</summary>
    private static void RecordLatency(AcknowledgementRecord ack, DateTimeOffset acceptedAt)
    {
        var receivedAt = ack.DueBy - WebhooksOptions.AcknowledgementDeadline;
        var tags = new System.Diagnostics.TagList { { "answer", ack.Answer }, { "action", ack.Action } };
        WebhookTelemetry.AcknowledgementLatency.Record((acceptedAt - receivedAt).TotalSeconds, tags);
        if (acceptedAt > ack.DueBy)
        {
            WebhookTelemetry.LateAcknowledgements.Add(1, tags);
        }
    }

    private async Task RetryLaterAsync(AcknowledgementRecord ack, string error, CancellationToken ct)
    {
        var attempt = ack.Attempts + 1;
        if (attempt >= Settings.MaxAttempts)
        {
            await FinishAsync(ack, AcknowledgementStates.Failed, $"gave up after {attempt} attempts: {error}", ct);
            return;
        }

        var next = time.GetUtcNow() + Backoff.For(attempt, Settings.RetryBaseDelay, Settings.MaxRetryDelay);
        await acknowledgements.RescheduleAsync(ack.Id, worker.Id, next, error, ct);
        Log.WillRetry(logger, ack.Answer, ack.OperationId, attempt, next, error);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Acknowledgement {Answer} for operation {OperationId} done: {Note} (late: {Late})")]
        public static partial void Sent(ILogger logger, string answer, Guid operationId, string note, bool late);

        [LoggerMessage(Level = LogLevel.Error, Message = "Acknowledgement {Answer} for operation {OperationId} failed: {Note}")]
        public static partial void Failed(ILogger logger, string answer, Guid operationId, string note);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledgement {Answer} for operation {OperationId}, attempt {Attempt} failed; next at {NextAttemptAt}: {Error}")]
        public static partial void WillRetry(ILogger logger, string answer, Guid operationId, int attempt, DateTimeOffset nextAttemptAt, string error);

        [LoggerMessage(Level = LogLevel.Error, Message = "Acknowledgement round failed")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
