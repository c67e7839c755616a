using Microsoft.Extensions.Options;
using PublisherPortal.Data;

namespace PublisherPortal.Webhooks;

/// <summary>
/// Prunes the webhook log on a schedule: refused deliveries after Webhooks:RejectedRetention (14 days), processed
/// accepted and duplicate ones after Webhooks:DeliveryRetention (365 days; zero keeps them). Pending deliveries and
/// subscription history are never touched. One instance at a time (the job_leases table), like every scheduled job,
/// and each delete is idempotent, so two instances overlapping after a lease ran out only repeat a no-op.
/// </summary>
public sealed partial class DeliveryRetention(
    WebhookDeliveryStore deliveries,
    JobLeaseStore leases,
    WorkerIdentity worker,
    IOptions<WebhooksOptions> options,
    TimeProvider time,
    ILogger<DeliveryRetention> logger) : BackgroundService
{
    public const string JobName = "webhook-retention";
    private const int BatchSize = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.RunRetention)
        {
            return;
        }

        using var timer = new PeriodicTimer(settings.RetentionInterval, time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                if (await leases.TryAcquireAsync(JobName, worker.Id, now, now + (settings.RetentionInterval * 0.9), stoppingToken))
                {
                    await PruneAsync(now, stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RoundFailed(logger, e);
            }
        }
        while (await ScheduledRounds.NextTickAsync(timer, stoppingToken));
    }

    /// <summary>One round as of <paramref name="now"/>; returns how many deliveries went.</summary>
    public async Task<int> PruneAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        var settings = options.Value;
        var pruned = await deliveries.PruneAsync(
            now - settings.RejectedRetention,
            settings.DeliveryRetention > TimeSpan.Zero ? now - settings.DeliveryRetention : null,
            BatchSize, ct);
        if (pruned > 0)
        {
            Log.Pruned(logger, pruned);
        }

        return pruned;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Webhook log retention removed {Count} deliveries past their retention")]
        public static partial void Pruned(ILogger logger, int count);

        [LoggerMessage(Level = LogLevel.Error, Message = "Webhook log retention failed; trying again next round")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
