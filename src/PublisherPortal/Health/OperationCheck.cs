using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>
/// Our own plan, seat and cancellation requests still running. The marketplace can take minutes (docs/marketplace.md#polling-operations); much
/// longer means the tracker is not polling, and the customer waits for a change that may never show.
/// </summary>
public sealed class OperationCheck(PortalDatabase database, IOptions<HealthOptions> options) : IIntegrationCheck
{
    private static readonly TimeSpan TimedOutLookback = TimeSpan.FromHours(24);

    public string Key => "operations";

    public string Title => "Our operations";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var settings = options.Value;
        await using var connection = await database.OpenAsync(ct);
        var summary = await connection.QuerySingleAsync<Summary>(new CommandDefinition("""
            SELECT COUNT(*) AS pending,
                   SUM(CASE WHEN requested_at <= @slowBefore THEN 1 ELSE 0 END) AS slow,
                   MIN(requested_at) AS oldest_requested_at
            FROM operations WHERE status = @inProgress
            """, new { inProgress = OperationStates.InProgress, slowBefore = now - settings.OperationSlowAfter }, cancellationToken: ct));
        var timedOut = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM operations WHERE status = @timedOut AND requested_at >= @since
            """, new { timedOut = OperationStates.TimedOut, since = now - TimedOutLookback }, cancellationToken: ct));

        var oldestAge = summary.OldestRequestedAt is { } oldest ? now - oldest : TimeSpan.Zero;
        var slow = summary.Slow ?? 0;
        var figure = summary.Pending == 0
            ? $"None running; {timedOut} timed out in 24 h"
            : $"{summary.Pending} running, {slow} longer than {Durations.Describe(settings.OperationSlowAfter)} (oldest {Durations.Describe(oldestAge)}); {timedOut} timed out in 24 h";
        var state = oldestAge >= settings.OperationStuckAfter ? HealthState.Failing
            : slow > 0 || timedOut > 0 ? HealthState.Warning
            : HealthState.Healthy;
        return CheckResult.Of(this, state, figure, now,
            new CheckDetail("Running", summary.Pending.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new CheckDetail("Oldest", summary.OldestRequestedAt is { } o ? $"{Durations.Time(o)} ({Durations.Describe(oldestAge)})" : "none"),
            new CheckDetail("Timed out (24 h)", timedOut.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private sealed record Summary
    {
        public long Pending { get; init; }
        public long? Slow { get; init; }
        public DateTimeOffset? OldestRequestedAt { get; init; }
    }
}
