using Microsoft.Extensions.Options;
using PublisherPortal.Data;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Health;

/// <summary>
/// Runs the checks on a schedule, on one instance at a time (the job_leases table), so a failure is noticed and
/// announced even when nobody has the health page open at 3 a.m.
/// </summary>
public sealed partial class HealthMonitor(
    IntegrationHealth health,
    JobLeaseStore leases,
    WorkerIdentity worker,
    IOptions<HealthOptions> options,
    TimeProvider time,
    ILogger<HealthMonitor> logger) : BackgroundService
{
    public const string JobName = "health-checks";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.CheckInterval;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                var now = time.GetUtcNow();
                // Held a little shorter than the interval, so the next round here (or anywhere) can take it again.
                if (await leases.TryAcquireAsync(JobName, worker.Id, now, now + (interval * 0.9), stoppingToken))
                {
                    await health.RunChecksAsync(stoppingToken);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RoundFailed(logger, e);
            }
        }
        while (await ScheduledRounds.NextTickAsync(timer, stoppingToken));
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Scheduled health checks failed; trying again next round")]
        public static partial void RoundFailed(ILogger logger, Exception exception);
    }
}
