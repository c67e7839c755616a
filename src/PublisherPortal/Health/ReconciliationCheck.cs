using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Subscriptions;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Health;

/// <summary>
/// When our records were last compared with the marketplace, and what that comparison had to correct. Corrections mean
/// something reached the marketplace without reaching us (a lost webhook, a failed operation): worth a look.
/// </summary>
public sealed class ReconciliationCheck(ReconciliationRunStore runs, JobLeaseStore leases, IOptions<WebhooksOptions> webhooks) : IIntegrationCheck
{
    public string Key => "reconciliation";

    public string Title => "Reconciliation";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var interval = webhooks.Value.ReconcileInterval;
        var last = await runs.LastAsync(ct);
        if (last is null)
        {
            return CheckResult.Of(this, HealthState.Warning, "Never run yet", now,
                new CheckDetail("Schedule", $"every {Durations.Describe(interval)}"));
        }

        var age = now - last.FinishedAt;
        var figure = $"Last run {Durations.Describe(age)} ago ({last.Trigger}): {last.Checked} checked, {last.Corrected} corrected, "
            + $"{last.Added} added, {last.Failed} failed";
        CheckDetail[] details =
        [
            new("Last run", $"{Durations.Time(last.StartedAt)} → {Durations.Time(last.FinishedAt)}, {last.Outcome}"),
            new("Differences corrected", last.Corrected.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Schedule", $"every {Durations.Describe(interval)}"),
            .. last.Detail is { Length: > 0 } detail ? [new CheckDetail("Note", detail)] : Array.Empty<CheckDetail>(),
        ];

        // Three missed rounds means the job is not running anywhere; one late round is only a busy instance.
        // A round that took the job's lease after the last run finished is running now (a portal started after hours
        // stopped runs one at once): the job is alive since then. The lease is shared, so every instance judges alike.
        var aliveAt = last.FinishedAt;
        if (await leases.LeaseUntilAsync(ReconciliationWorker.JobName, ct) is { } leaseUntil
            && ReconciliationWorker.RoundStartedAt(leaseUntil, interval) is var started && started > aliveAt)
        {
            aliveAt = started;
        }

        var missedFor = now - aliveAt;
        var state = last.Outcome != "Completed" || missedFor > interval * 3 ? HealthState.Failing
            : age > interval * 1.5 || last.Corrected + last.Added + last.Failed > 0 ? HealthState.Warning
            : HealthState.Healthy;
        return CheckResult.Of(this, state, figure, now, details);
    }
}
