using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Health;
using PublisherPortal.Metering;
using PublisherPortal.Notifications;

namespace PublisherPortal.Observability;

/// <summary>
/// Depth and oldest-item age of every worker queue, and the purchases abandoned before activation, as observable
/// gauges. The queues live in the database (any instance may hold the work), so the gauges read it — at most once per
/// <see cref="MaxAge"/> however often an exporter collects, since every instance of a scaled-out portal exports them.
/// </summary>
public sealed class WorkQueueGauges : IDisposable
{
    /// <summary>How stale a reading may be. A collector scraping every second must not turn into a query every second.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly PortalDatabase _database;
    private readonly TimeProvider _time;
    private readonly IOptions<HealthOptions> _health;
    private readonly Lock _gate = new();
    // Its own Meter (same name as the workers'): two portal hosts in one process (tests, the benchmark) report their own
    // databases, and a disposed host's gauges go with it.
    private readonly Meter _meter = new(PortalTelemetry.Workers);
    private Snapshot? _last;

    public WorkQueueGauges(PortalDatabase database, TimeProvider time, IOptions<HealthOptions> health)
    {
        _database = database;
        _time = time;
        _health = health;
        var meter = _meter;
        meter.CreateObservableGauge("portal.queue.depth", () => Read().Queues.Select(q => new Measurement<long>(q.Depth, Tag(q.Queue))),
            "{item}", "Items waiting in a worker queue (inbox, acknowledgements, operations, mails, usage)");
        meter.CreateObservableGauge("portal.queue.oldest_age", () => Read().Queues.Select(q => new Measurement<double>(q.OldestAgeSeconds, Tag(q.Queue))),
            "s", "Age of the oldest item waiting in a worker queue (0 when empty)");
        meter.CreateObservableGauge("portal.landing.abandoned", () => Read().Abandoned,
            "{subscription}", "Purchases still waiting for activation after the health check's abandonment threshold");
    }

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Tag(string queue) => new("queue", queue);

    /// <summary>The queues as last read, refreshed when older than <see cref="MaxAge"/>. Exporters collect on their own thread.</summary>
    public Snapshot Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (_last is { } last && now - last.At < MaxAge)
            {
                return last;
            }

            try
            {
                _last = ReadAsync(now, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception) when (_last is not null)
            {
                // A database hiccup keeps the last reading; the readiness check is what reports the database down.
            }
            catch (Exception)
            {
                _last = new Snapshot(now, [], 0);
            }

            return _last;
        }
    }

    private async Task<Snapshot> ReadAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var connection = await _database.OpenAsync(ct);
        var rows = (await connection.QueryAsync<QueueRow>(new CommandDefinition("""
            SELECT 'inbox' AS queue, COUNT(*) AS depth, MIN(received_at) AS oldest
              FROM webhook_deliveries WHERE processing_state = @pendingDelivery
            UNION ALL
            SELECT 'acknowledgements', COUNT(*), MIN(created_at) FROM acknowledgements WHERE state = @pendingAck
            UNION ALL
            SELECT 'operations', COUNT(*), MIN(requested_at) FROM operations WHERE status = @inProgress
            UNION ALL
            SELECT 'mails', COUNT(*), MIN(created_at) FROM notification_outbox WHERE state IN (@pendingMail, @sendingMail)
            UNION ALL
            SELECT 'usage', COUNT(*), MIN(created_at) FROM usage_hours WHERE state IN (@pendingUsage, @submittingUsage)
            """, new
        {
            pendingDelivery = ProcessingStates.Pending,
            pendingAck = AcknowledgementStates.Pending,
            inProgress = OperationStates.InProgress,
            pendingMail = MailStates.Pending,
            sendingMail = MailStates.Sending,
            pendingUsage = UsageHourStates.Pending,
            submittingUsage = UsageHourStates.Submitting,
        }, cancellationToken: ct))).AsList();
        var abandoned = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
            SELECT COUNT(*) FROM subscriptions WHERE status = @pending AND first_seen_at <= @before
            """, new
        {
            pending = nameof(Marketplace.Models.SubscriptionStatus.PendingFulfillmentStart),
            before = now - TimeSpan.FromHours(_health.Value.AbandonedPurchaseHours),
        }, cancellationToken: ct));
        return new Snapshot(now, [.. rows.Select(r => new QueueReading(r.Queue, r.Depth, r.Oldest is { } at ? Math.Max(0, (now - at).TotalSeconds) : 0))], abandoned);
    }

    public sealed record Snapshot(DateTimeOffset At, IReadOnlyList<QueueReading> Queues, long Abandoned);

    public sealed record QueueReading(string Queue, long Depth, double OldestAgeSeconds);

    private sealed class QueueRow
    {
        public string Queue { get; init; } = "";
        public long Depth { get; init; }
        public DateTimeOffset? Oldest { get; init; }
    }
}
