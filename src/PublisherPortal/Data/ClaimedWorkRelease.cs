using Dapper;
using PublisherPortal.Webhooks;

namespace PublisherPortal.Data;

/// <summary>
/// On a graceful stop, gives back everything this instance had claimed — leased webhook deliveries, acknowledgements,
/// operations, mails and job leases — so another instance takes the work at its next round instead of waiting for the
/// leases to run out (minutes, for a deployment's rolling restart). Registered before the workers, so the host stops it
/// after them (hosted services stop in reverse order): nothing of ours is still working on a row it gives back, and
/// the lease checks each worker makes before it finishes a row cover one that overran the shutdown timeout.
/// </summary>
public sealed partial class ClaimedWorkRelease(
    PortalDatabase database, WorkerIdentity worker, TimeProvider time, ILogger<ClaimedWorkRelease> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            var released = await ReleaseAsync(worker.Id, time.GetUtcNow(), cancellationToken);
            LogReleased(logger, released, worker.Id);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The leases still run out by themselves; a failed release only delays the take-over.
            LogReleaseFailed(logger, e);
        }
    }

    /// <summary>
    /// Ends every lease <paramref name="owner"/> holds as of <paramref name="now"/>. A row's lease is set to have run
    /// out rather than cleared, because the mail outbox takes a Sending row over only once its lease has passed.
    /// Returns how many claims were given back.
    /// </summary>
    public async Task<int> ReleaseAsync(string owner, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var tx = await database.BeginWriteAsync(connection, ct);
        var args = new { owner, now };
        var released = 0;
        foreach (var table in (string[])["webhook_deliveries", "acknowledgements", "operations", "notification_outbox"])
        {
            released += await connection.ExecuteAsync(new CommandDefinition($"""
                UPDATE {table} SET lease_until = @now WHERE lease_owner = @owner AND lease_until > @now
                """, args, tx, cancellationToken: ct));
        }

        released += await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM job_leases WHERE owner = @owner", args, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return released;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: gave back {Released} claimed rows and job leases of {Owner}")]
    private static partial void LogReleased(ILogger logger, int released, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: could not give back this instance's claims; they run out by themselves")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception);
}
