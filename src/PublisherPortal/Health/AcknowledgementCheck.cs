using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Health;

/// <summary>
/// What we owe the marketplace and have not sent. A ChangePlan/ChangeQuantity must be answered within 10 seconds or
/// the marketplace accepts it by itself (docs/marketplace.md#answering-deliveries): a refusal that waits in our queue is a refusal lost.
/// </summary>
public sealed class AcknowledgementCheck(PortalDatabase database, IOptions<HealthOptions> options) : IIntegrationCheck
{
    private static readonly TimeSpan FailedLookback = TimeSpan.FromHours(24);

    public string Key => "acknowledgements";

    public string Title => "Acknowledgements";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await database.OpenAsync(ct);
        var args = new { pending = AcknowledgementStates.Pending, failed = AcknowledgementStates.Failed, since = now - FailedLookback };
        var pending = await connection.QuerySingleAsync<PendingSummary>(new CommandDefinition("""
            SELECT COUNT(*) AS count, MIN(created_at) AS oldest_created_at
            FROM acknowledgements WHERE state = @pending
            """, args, cancellationToken: ct));
        var failed = await connection.QuerySingleAsync<FailedSummary>(new CommandDefinition("""
            SELECT COUNT(*) AS count,
                   SUM(CASE WHEN created_at >= @since THEN 1 ELSE 0 END) AS recent
            FROM acknowledgements WHERE state = @failed
            """, args, cancellationToken: ct));

        var window = WebhooksOptions.AcknowledgementDeadline;
        var oldestAge = pending.OldestCreatedAt is { } oldest ? now - oldest : TimeSpan.Zero;
        var figure = pending.Count == 0
            ? $"Nothing pending; {failed.Count} failed"
            : $"{pending.Count} pending, oldest {Durations.Describe(oldestAge)} against the {window.TotalSeconds:0} s window; {failed.Count} failed";
        CheckDetail[] details =
        [
            new("Pending", pending.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Oldest pending", pending.OldestCreatedAt is { } o ? $"{Durations.Time(o)} ({Durations.Describe(oldestAge)} old)" : "none"),
            new("Failed", $"{failed.Count} ({failed.Recent ?? 0} in the last 24 h) — retry them from the operations page"),
        ];

        var state = (failed.Recent ?? 0) > 0 || oldestAge >= options.Value.AcknowledgementFailingAfter ? HealthState.Failing
            : oldestAge > window || failed.Count > 0 ? HealthState.Warning
            : HealthState.Healthy;
        return CheckResult.Of(this, state, figure, now, details);
    }

    private sealed record PendingSummary
    {
        public long Count { get; init; }
        public DateTimeOffset? OldestCreatedAt { get; init; }
    }

    private sealed record FailedSummary
    {
        public long Count { get; init; }
        public long? Recent { get; init; }
    }
}
