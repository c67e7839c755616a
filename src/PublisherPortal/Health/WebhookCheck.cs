using Dapper;
using Marketplace.Webhooks;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Health;

/// <summary>
/// Is the marketplace getting through to our webhook. After a tenant or app id change every delivery is refused for
/// authentication, the marketplace retries for hours and then fails the operation
/// (docs/marketplace.md#answering-deliveries) — nobody notices unless
/// someone counts. Self-test deliveries are left out of every figure: they must not hide a silent marketplace.
/// </summary>
public sealed class WebhookCheck(PortalDatabase database, IOptions<HealthOptions> options) : IIntegrationCheck
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    // The marketplace retries a refused delivery many times (docs/marketplace.md#answering-deliveries); one or two refusals are more likely a
    // stranger probing the URL than our configuration.
    private const int RefusalsBeforeFailing = 3;

    public string Key => "webhooks";

    public string Title => "Webhooks";

    public async Task<CheckResult> RunAsync(DateTimeOffset now, CancellationToken ct)
    {
        var settings = options.Value;
        var since = now - Window;
        await using var connection = await database.OpenAsync(ct);
        var args = new
        {
            since,
            selfTest = WebhookTestDelivery.Action,
            accepted = DeliveryResults.Accepted,
            duplicate = DeliveryResults.Duplicate,
            unauthorized = DeliveryResults.Unauthorized,
            malformed = DeliveryResults.Malformed,
            pending = ProcessingStates.Pending,
            failed = ProcessingStates.Failed,
            subscribed = "Subscribed",
        };

        var counts = (await connection.QueryAsync<ResultCount>(new CommandDefinition("""
            SELECT result, processing_state, COUNT(*) AS count
            FROM webhook_deliveries
            WHERE received_at >= @since AND COALESCE(action, '') <> @selfTest
            GROUP BY result, processing_state
            """, args, cancellationToken: ct))).AsList();

        var lastAccepted = await connection.QueryFirstOrDefaultAsync<DeliveryRow>(new CommandDefinition("""
            SELECT received_at, action, result, reject_reason
            FROM webhook_deliveries
            WHERE result IN (@accepted, @duplicate) AND COALESCE(action, '') <> @selfTest
            ORDER BY received_at DESC LIMIT 1
            """, args, cancellationToken: ct));

        var lastRejected = await connection.QueryFirstOrDefaultAsync<DeliveryRow>(new CommandDefinition("""
            SELECT received_at, action, result, reject_reason
            FROM webhook_deliveries
            WHERE result IN (@unauthorized, @malformed) AND COALESCE(action, '') <> @selfTest
            ORDER BY received_at DESC LIMIT 1
            """, args, cancellationToken: ct));

        var refusedSinceAccepted = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM webhook_deliveries
            WHERE result = @unauthorized AND received_at >= @since AND received_at > @after
              AND COALESCE(action, '') <> @selfTest
            """, new { args.unauthorized, args.since, args.selfTest, after = lastAccepted?.ReceivedAt ?? DateTimeOffset.MinValue },
            cancellationToken: ct));

        var oldestWaiting = await connection.QueryFirstOrDefaultAsync<DeliveryRow>(new CommandDefinition("""
            SELECT received_at, action, result, reject_reason
            FROM webhook_deliveries
            WHERE processing_state = @pending
            ORDER BY received_at LIMIT 1
            """, args, cancellationToken: ct));

        var subscribed = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM subscriptions WHERE status = @subscribed", args, cancellationToken: ct));

        long Count(string result) => counts.Where(c => c.Result == result).Sum(c => c.Count);
        var total = counts.Sum(c => c.Count);
        var refusedForAuth = Count(DeliveryResults.Unauthorized);
        var failedProcessing = counts.Where(c => c.ProcessingState == ProcessingStates.Failed).Sum(c => c.Count);
        var authShare = total == 0 ? 0 : (double)refusedForAuth / total;

        var lastAcceptedText = lastAccepted is null ? "never" : $"{Durations.Describe(now - lastAccepted.ReceivedAt)} ago";
        var tally = $"24 h: {Count(DeliveryResults.Accepted)} accepted, {Count(DeliveryResults.Duplicate)} repeated, "
            + $"{refusedForAuth} refused for authentication, {Count(DeliveryResults.Malformed)} malformed";
        var details = new List<CheckDetail>
        {
            new("Last accepted", lastAccepted is null ? "never" : $"{Durations.Time(lastAccepted.ReceivedAt)} ({lastAccepted.Action})"),
            new("Last rejected", lastRejected is null ? "never"
                : $"{Durations.Time(lastRejected.ReceivedAt)}: {lastRejected.Result} — {lastRejected.RejectReason ?? "no reason recorded"}"),
            new("Last 24 hours", tally),
            new("Refused for authentication", $"{Percent(authShare)} of {total}"),
        };
        if (failedProcessing > 0)
        {
            details.Add(new("Could not be applied (24 h)", $"{failedProcessing} — see the webhook log"));
        }

        if (refusedSinceAccepted >= RefusalsBeforeFailing)
        {
            return new(Key, Title, HealthState.Failing,
                $"{refusedSinceAccepted} deliveries refused for authentication since the last accepted one ({lastAcceptedText}); "
                + "check Webhooks:PublisherTenantId and AudienceClientId against the offer's technical configuration",
                now, details);
        }

        if (oldestWaiting is not null && now - oldestWaiting.ReceivedAt >= settings.InboxStuckAfter)
        {
            return new(Key, Title, HealthState.Failing,
                $"A delivery has waited {Durations.Describe(now - oldestWaiting.ReceivedAt)} to be applied: the processor is not keeping up",
                now, details);
        }

        if (refusedForAuth + Count(DeliveryResults.Malformed) > 0 || failedProcessing > 0)
        {
            return new(Key, Title, HealthState.Warning, $"Last accepted {lastAcceptedText}; {tally}; {Percent(authShare)} refused for authentication", now, details);
        }

        if (subscribed > 0 && (lastAccepted is null || now - lastAccepted.ReceivedAt >= settings.WebhookQuietAfter))
        {
            return new(Key, Title, HealthState.Warning,
                $"No delivery accepted for {(lastAccepted is null ? "ever" : Durations.Describe(now - lastAccepted.ReceivedAt))} "
                + $"while {subscribed} customers are subscribed; run the self-test",
                now, details);
        }

        return new(Key, Title, HealthState.Healthy, $"Last accepted {lastAcceptedText}; {tally}", now, details);
    }

    private static string Percent(double share) => (share * 100).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + "%";

    private sealed record ResultCount
    {
        public string Result { get; init; } = "";
        public string? ProcessingState { get; init; }
        public long Count { get; init; }
    }

    private sealed record DeliveryRow
    {
        public DateTimeOffset ReceivedAt { get; init; }
        public string? Action { get; init; }
        public string Result { get; init; } = "";
        public string? RejectReason { get; init; }
    }
}
