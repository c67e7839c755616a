using System.Net;
using Marketplace;
using Marketplace.Models;
using Microsoft.Extensions.Options;

namespace PublisherPortal.Metering;

/// <summary>What one round of the worker did, for logs and tests.</summary>
public sealed record SubmissionRound(int RecordsAggregated, int LateRecords, int HoursExpired, int BatchesSent, int HoursAnswered, int BatchesPostponed);

/// <summary>
/// Turns recorded usage into marketplace usage events, exactly once per subscription, dimension and hour:
/// <list type="number">
/// <item>closed hours are summed into usage_hours (late usage for an hour already sent is flagged, not added);</item>
/// <item>hours that could no longer be accepted (older than 24 hours) are flagged Expired instead of sent;</item>
/// <item>batches left Submitting by an earlier round (crash, time-out) are sent again first — the marketplace answers an
///   event it already holds with Duplicate, so a batch that was in fact accepted is recorded as billed, once;</item>
/// <item>new batches of up to 25 are marked Submitting in a committed transaction, then sent, then their answers recorded.</item>
/// </list>
/// </summary>
public sealed partial class UsageSubmitter(
    UsageStore store,
    IMeteringClient metering,
    IOptions<MeteringOptions> options,
    TimeProvider time,
    ILogger<UsageSubmitter> logger)
{
    /// <summary>Keeps clear of the window's edge so an event is never sent in the minute it expires.</summary>
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromMinutes(2);

    private readonly MeteringOptions _options = options.Value;

    public async Task<SubmissionRound> RunOnceAsync(CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        var aggregation = await store.AggregateClosedHoursAsync(UsageTime.HourOf(now - _options.CloseHourAfter), now, ct);
        var oldestSendable = now - UsageTime.MarketplaceWindow + ExpiryMargin;
        var expired = await store.ExpireUnsendableAsync(oldestSendable, now, ct);
        if (expired > 0)
        {
            LogExpired(logger, expired);
        }

        int sent = 0, answered = 0, postponed = 0;
        foreach (var batchId in await store.InFlightBatchesAsync(now, ct))
        {
            var hours = await store.ReclaimBatchAsync(batchId, now, ct);
            LogResending(logger, batchId, hours.Count);
            var (a, p) = await SendAsync(batchId, hours, ct);
            (sent, answered, postponed) = (sent + 1, answered + a, postponed + p);
        }

        while (sent < _options.MaxBatchesPerRound)
        {
            var batchId = Guid.NewGuid().ToString("N");
            var hours = await store.ClaimBatchAsync(batchId, BatchUsageEventRequest.MaxEvents, oldestSendable, now, ct);
            if (hours.Count == 0)
            {
                break;
            }

            var (a, p) = await SendAsync(batchId, hours, ct);
            (sent, answered, postponed) = (sent + 1, answered + a, postponed + p);
        }

        return new SubmissionRound(aggregation.Records, aggregation.LateRecords, expired, sent, answered, postponed);
    }

    private async Task<(int Answered, int Postponed)> SendAsync(string batchId, IReadOnlyList<ClaimedHour> hours, CancellationToken ct)
    {
        if (hours.Count == 0)
        {
            return (0, 0);
        }

        var events = hours.Select(h => new UsageEvent
        {
            ResourceId = h.SubscriptionId,
            Dimension = h.Dimension,
            Quantity = UsageQuantity.FromMicros(h.QuantityMicros),
            EffectiveStartTime = h.HourStart,
            PlanId = h.PlanId!,
        }).ToList();

        BatchUsageEventResult answer;
        try
        {
            // The batch id doubles as the correlation id: the marketplace's logs and ours name the same batch.
            answer = await metering.ReportUsageBatchAsync(events, Guid.ParseExact(batchId, "N"), ct);
        }
        catch (MarketplaceException ex) when (ex.StatusCode == HttpStatusCode.BadRequest)
        {
            // The whole batch was refused as malformed: nothing was recorded at the marketplace, nothing to re-send as is.
            var refused = hours.Select(h => new HourOutcome(h.Id, UsageHourStates.Failed, ex.ErrorCode ?? "BadArgument", ex.ErrorMessage, null, null)).ToList();
            await store.RecordOutcomesAsync(batchId, refused, time.GetUtcNow(), ct);
            LogBatchRefused(logger, batchId, ex.ErrorMessage);
            return (refused.Count, 0);
        }
        catch (MarketplaceException ex)
        {
            // No answer, or not one about the events (403, 429, 5xx after retries): whether anything was recorded is
            // unknown. The batch stays Submitting and is sent again later; the hourly dedup makes that harmless.
            var wait = TimeSpan.FromSeconds(Math.Min(3600, 30 * Math.Pow(2, Math.Min(hours.Max(h => h.Attempts), 7))));
            await store.PostponeBatchAsync(batchId, time.GetUtcNow() + wait, $"{(int)ex.StatusCode} {ex.ErrorCode}: {ex.ErrorMessage}", time.GetUtcNow(), ct);
            LogBatchPostponed(logger, batchId, (int)ex.StatusCode, wait);
            return (0, 1);
        }

        var outcomes = new List<HourOutcome>();
        foreach (var hour in hours)
        {
            // Matched by what identifies an event (resource, dimension, hour), not by position: the order of results is not promised.
            var result = answer.Result.FirstOrDefault(r =>
                r.ResourceId == hour.SubscriptionId
                && string.Equals(r.Dimension, hour.Dimension, StringComparison.Ordinal)
                && UsageTime.HourOf(r.EffectiveStartTime) == hour.HourStart);
            if (result is not null)
            {
                outcomes.Add(await OutcomeOfAsync(hour, result, ct));
            }
        }

        await store.RecordOutcomesAsync(batchId, outcomes, time.GetUtcNow(), ct);
        // Hours without a result in the answer stay Submitting and are sent again next round.
        return (outcomes.Count, 0);
    }

    private async Task<HourOutcome> OutcomeOfAsync(ClaimedHour hour, UsageEventResult result, CancellationToken ct)
    {
        switch (result.Status)
        {
            case UsageEventStatus.Accepted:
                return new HourOutcome(hour.Id, UsageHourStates.Accepted, "Accepted", null, result.UsageEventId?.ToString(), hour.QuantityMicros);

            case UsageEventStatus.Duplicate:
                // The accepted event is what the customer is billed for; its quantity may differ from ours (shown to operators).
                var accepted = result.Error?.AdditionalInfo?.AcceptedMessage ?? result;
                return new HourOutcome(hour.Id, UsageHourStates.Duplicate, "Duplicate",
                    hour.Attempts > 1 ? "Accepted by an earlier attempt." : "The marketplace already held usage for this hour.",
                    accepted.UsageEventId?.ToString(), UsageQuantity.ToMicros(accepted.Quantity));

            case UsageEventStatus.Expired when hour.Attempts > 1:
                // Sent before, answer lost, now past the window: ask the marketplace whether the first attempt was billed.
                return await ReconcileExpiredAsync(hour, result, ct);

            case UsageEventStatus.Expired:
                return new HourOutcome(hour.Id, UsageHourStates.Expired, "Expired", ErrorText(result), null, null);

            default:
                return new HourOutcome(hour.Id, UsageHourStates.Failed, result.Status.ToString(), ErrorText(result), null, null);
        }
    }

    private async Task<HourOutcome> ReconcileExpiredAsync(ClaimedHour hour, UsageEventResult result, CancellationToken ct)
    {
        try
        {
            var reported = await metering.GetReportedUsageAsync(new ReportedUsageQuery
            {
                UsageStartDate = hour.HourStart,
                UsageEndDate = hour.HourStart,
                Dimension = hour.Dimension,
                ResourceId = hour.SubscriptionId,
            }, Guid.NewGuid(), ct);
            var billed = reported.FirstOrDefault(r => UsageTime.HourOf(r.UsageDate) == hour.HourStart);
            if (billed is not null)
            {
                return new HourOutcome(hour.Id, UsageHourStates.Duplicate, "Duplicate", "Accepted by an earlier attempt (found in reported usage).",
                    billed.UsageEventId?.ToString(), UsageQuantity.ToMicros(billed.SubmittedQuantity));
            }
        }
        catch (MarketplaceException ex)
        {
            LogReconcileFailed(logger, hour.Id, ex.Message);
        }

        return new HourOutcome(hour.Id, UsageHourStates.Expired, "Expired", ErrorText(result), null, null);
    }

    private static string? ErrorText(UsageEventResult result) =>
        result.Error?.Details?.FirstOrDefault()?.Message ?? result.Error?.Message;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} hours of usage expired before they could be sent; flagged for operators")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-sending in-flight usage batch {BatchId} ({Count} hours)")]
    private static partial void LogResending(ILogger logger, string batchId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage batch {BatchId} refused as a whole: {Reason}")]
    private static partial void LogBatchRefused(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage batch {BatchId} got no usable answer ({StatusCode}); sent again in {Wait}")]
    private static partial void LogBatchPostponed(ILogger logger, string batchId, int statusCode, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check reported usage for hour {HourId}: {Reason}")]
    private static partial void LogReconcileFailed(ILogger logger, long hourId, string reason);
}

/// <summary>Runs <see cref="UsageSubmitter"/> on a timer, on one instance at a time (job lease).</summary>
public sealed partial class UsageSubmissionWorker(
    UsageSubmitter submitter, UsageStore store, PublisherPortal.Webhooks.WorkerIdentity worker, IOptions<MeteringOptions> options,
    TimeProvider time, ILogger<UsageSubmissionWorker> logger)
    : BackgroundService
{
    private const string LeaseName = "metering-submission";

    // The instance's one identity, so a graceful stop gives this lease back with the rest (ClaimedWorkRelease).
    private readonly string _owner = worker.Id;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.SubmitInterval;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                if (await store.TryTakeLeaseAsync(LeaseName, _owner, now + interval * 3, now, stoppingToken))
                {
                    var round = await submitter.RunOnceAsync(stoppingToken);
                    if (round.RecordsAggregated + round.BatchesSent + round.HoursExpired > 0)
                    {
                        LogRound(logger, round.RecordsAggregated, round.LateRecords, round.BatchesSent, round.HoursAnswered, round.HoursExpired);
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // State lives in the database: the next round starts where this one stopped.
                LogRoundFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Metering round: {Records} records aggregated ({Late} late), {Batches} batches sent, {Answered} hours answered, {Expired} expired")]
    private static partial void LogRound(ILogger logger, int records, int late, int batches, int answered, int expired);

    [LoggerMessage(Level = LogLevel.Error, Message = "Metering round failed; retried at the next tick")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
